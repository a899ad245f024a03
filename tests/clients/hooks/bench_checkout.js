'use strict';
// One checkout's cost, for scripts/bench: N checkouts and releases of a
// one-client pg.Pool, in batches; prints the median microseconds a
// checkout (taken and released) of the batches, in CPU time (the
// process's user and system time: the machine may be shared).
//
//   node bench_checkout.js [N]
const { Pool } = require('pg');

async function run(pool, n) {
	const batches = [];
	for (let b = -1; b < 7; b++) {
		const t0 = process.cpuUsage();
		for (let i = 0; i < n; i++) {
			const client = await pool.connect();
			client.release();
		}
		if (b >= 0) {
			const used = process.cpuUsage(t0);
			batches.push((used.user + used.system) / n);
		}
	}
	batches.sort((a, b) => a - b);
	return batches[3];
}

async function main() {
	const n = Number(process.argv[2] || 2000);
	const pool = new Pool({ application_name: 'hk-bench', max: 1 });
	process.stdout.write(`pg.Pool ${(await run(pool, n)).toFixed(2)}\n`);
	await pool.end();
}

main();
