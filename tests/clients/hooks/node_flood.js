'use strict';
// Floods pgdrip's hook socket: 4,000 checkouts of a one-client pg.Pool
// as fast as they go (prints "flooded": it was never held up), then,
// once HOOKS_GO exists, 50 more slowly, so that lines carrying the count
// of those dropped get through.
const fs = require('fs');
const { Pool } = require('pg');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function nested(pool, depth) {
	if (depth > 0) {
		return nested(pool, depth - 1);
	}
	const client = await pool.connect();
	client.release();
}

async function main() {
	const pool = new Pool({ application_name: 'hk-flood-node', max: 1 });
	for (let i = 0; i < 4000; i++) {
		await nested(pool, 15);
	}
	process.stdout.write('flooded\n');
	while (!fs.existsSync(process.env.HOOKS_GO)) {
		await sleep(20);
	}
	for (let i = 0; i < 50; i++) {
		await nested(pool, 15);
		await sleep(10);
	}
	await pool.end();
	process.stdout.write('done\n');
}

main();
