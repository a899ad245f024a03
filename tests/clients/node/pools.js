'use strict';
// A service on one of two other Node pools, for the session verdict on
// pools app.js (pg.Pool) does not use: knex's (tarn: keeps --min open,
// opens on demand up to --max, closes members idle for 30 s) and
// postgres.js's own (opens on demand up to --max, its own protocol
// code, no node-postgres).  Requests come at --rate a second; each takes
// a connection (knex: acquireConnection; postgres.js: reserve), runs
// pg_sleep(--work-ms) and gives it back.  With --leak-every N every Nth
// request takes the error path and never gives its connection back.
//
//   PGUSER=app node pools.js --lib knex|postgres --app NAME --max 10 \
//       --rate 5 [--leak-every N] [--rate-low R --period S] \
//       [--work-ms 20] --duration 60
//
// Connects with PGHOST, PGPORT, PGUSER and PGDATABASE.  Prints one line
// per leaked connection ("leak PID SECONDS"), one when the first request
// times out waiting ("exhausted SECONDS") and, at the end, the counts.

function options(argv) {
	const o = {
		lib: 'knex', app: 'node-pools', max: 10, min: 2, rate: 5,
		'rate-low': 1, period: 0, 'work-ms': 20, 'leak-every': 0,
		duration: 60, timeout: 2,
	};
	for (let i = 0; i < argv.length; i += 2) {
		const key = argv[i].replace(/^--/, '');
		if (!(key in o) || i + 1 >= argv.length) {
			console.error(`pools.js: unknown option ${argv[i]} (see the head of pools.js)`);
			process.exit(2);
		}
		o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
	}
	if (o.lib !== 'knex' && o.lib !== 'postgres') {
		console.error('pools.js: --lib is knex or postgres');
		process.exit(2);
	}
	return o;
}

// A pool as the service uses it: take() a connection, which can tell its
// backend pid, run one statement and be given back.
function knexPool(o) {
	const knex = require('knex')({
		client: 'pg',
		connection: { application_name: o.app },
		pool: { min: o.min, max: o.max, acquireTimeoutMillis: o.timeout * 1000 },
	});
	return {
		async take() {
			const c = await knex.client.acquireConnection();
			return {
				pid: async () => c.processID,
				sleep: (s) => c.query('SELECT pg_sleep($1)', [s]),
				giveBack: () => knex.client.releaseConnection(c),
			};
		},
	};
}

function postgresPool(o) {
	const postgres = require('postgres');
	const sql = (postgres.default || postgres)({
		max: o.max,
		connection: { application_name: o.app },
		onnotice: () => {},
	});
	return {
		async take() {
			let timer;
			const timeout = new Promise((resolve, reject) => {
				timer = setTimeout(() => reject(new Error('timed out')), o.timeout * 1000);
			});
			const reserved = sql.reserve();
			try {
				const r = await Promise.race([reserved, timeout]);
				return {
					pid: async () => (await r`SELECT pg_backend_pid() AS pid`)[0].pid,
					sleep: (s) => r`SELECT pg_sleep(${s})`,
					giveBack: () => r.release(),
				};
			} catch (err) {
				// Given back whenever it comes: the request gave up.
				reserved.then((r) => r.release(), () => {});
				throw err;
			} finally {
				clearTimeout(timer);
			}
		},
	};
}

// The request rate s seconds in: with a period it swings from --rate
// down to --rate-low and back (a daily curve, sped up).
function rateAt(s, o) {
	if (o.period <= 0) {
		return o.rate;
	}
	const phase = (s % o.period) / o.period;
	const down = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
	return o.rate - (o.rate - o['rate-low']) * down;
}

function main() {
	const o = options(process.argv.slice(2));
	const pool = o.lib === 'knex' ? knexPool(o) : postgresPool(o);
	const t0 = Date.now();
	const since = () => ((Date.now() - t0) / 1000).toFixed(1);
	const counts = { served: 0, timedOut: 0 };
	const leaked = [];
	const running = new Set();

	async function request(n) {
		let c;
		try {
			c = await pool.take();
		} catch (err) {
			if (counts.timedOut++ === 0) {
				console.log('exhausted', since());
			}
			return;
		}
		if (o['leak-every'] > 0 && n % o['leak-every'] === 0) {
			// The error path: the handler forgets the connection.
			console.log('leak', await c.pid(), since());
			leaked.push(c);
			return;
		}
		try {
			await c.sleep(o['work-ms'] / 1000);
			counts.served++;
		} finally {
			c.giveBack();
		}
	}

	let n = 0;
	(function next() {
		if (Date.now() - t0 >= o.duration * 1000) {
			Promise.allSettled([...running]).then(() => {
				console.log('requests served', counts.served, 'timed_out',
					counts.timedOut, 'leaked', leaked.length);
				process.exit(0); // the leaked connections close with it
			});
			return;
		}
		const p = request(++n);
		running.add(p);
		p.finally(() => running.delete(p));
		setTimeout(next, 1000 / rateAt((Date.now() - t0) / 1000, o));
	})();
}

main();
