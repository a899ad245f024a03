'use strict';
// node-postgres under pgdrip's hooks: a Client connected and ended, one
// open at exit, a Pool's checkouts (await pool.connect() and release,
// pool.query's own, a callback checkout released with an error so the
// pool removes the client, one never released), a failing connect.
// "@hook" marks where an event's stack starts (check.py).
const fs = require('fs');
const path = require('path');
const { Client, Pool } = require('pg');

const SECRET = 'hunter2-secret';
const say = (...args) => process.stdout.write(args.join(' ') + '\n');

function checkpoint() {
	const sync = process.env.HOOKS_SYNC;
	if (!sync) {
		return Promise.resolve();
	}
	fs.writeFileSync(path.join(sync, 'ready'), `${process.pid}\n`);
	return new Promise((resolve) => {
		const timer = setInterval(() => {
			if (fs.existsSync(path.join(sync, 'go'))) {
				clearInterval(timer);
				resolve();
			}
		}, 20);
	});
}

function openDirect() {
	const client = new Client({ application_name: 'hk-pg-direct', password: SECRET });
	return client.connect().then(() => client); // @hook open pg hk-pg-direct close:close
}

function checkoutWithCallback(pool) {
	return new Promise((resolve, reject) => {
		pool.connect((err, client, release) => { // @hook take pg.Pool hk-pg-pool give
			if (err) {
				reject(err);
				return;
			}
			release(new Error('broken, remove it'));
			resolve();
		});
	});
}

async function main() {
	const direct = await openDirect();
	say('answer', (await direct.query('SELECT 41 + 1 AS n')).rows[0].n);
	const kept = new Client({ application_name: 'hk-pg-exit' });
	await new Promise((resolve, reject) => kept.connect((err) => (err ? reject(err) : resolve()))); // @hook open pg hk-pg-exit close:exit
	const pool = new Pool({ application_name: 'hk-pg-pool', password: SECRET, max: 4 });
	const c = await pool.connect(); // @hook take pg.Pool hk-pg-pool give
	say('pooled', (await c.query('SELECT 1 AS n')).rows[0].n);
	const leaked = await pool.connect(); // @hook take pg.Pool hk-pg-pool close:exit
	await checkpoint();
	c.release();
	say('query', (await pool.query('SELECT 2 AS n')).rows[0].n); // @hook take pg.Pool hk-pg-pool give
	await checkoutWithCallback(pool);
	await direct.end();
	try {
		const bad = new Client({ database: 'hk_no_such_db' });
		await bad.connect();
	} catch (err) {
		say('error', err.code);
	}
	say('leaked', leaked.processID > 0);
	process.exit(3);
}

main();
