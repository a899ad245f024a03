'use strict';
// Sessions held on purpose, on node-postgres, in one process.
//
// --workers N: listener clients added one every --every seconds, each a
// pg.Client that runs LISTEN and then only waits for notifications (no
// further statement), beside a small pg.Pool that serves a job every
// --job-ms and now and then sends a NOTIFY.
//
// --warm N: instead, a pg.Pool (idle members never reaped) warmed to N
// connections by N concurrent requests, then no load at all.
//
// Connects with PGHOST, PGPORT, PGUSER and PGDATABASE; prints "ready" once
// everything is open and runs --duration seconds.
const { Client, Pool } = require('pg');

function option(name, fallback) {
	const i = process.argv.indexOf('--' + name);
	return i > 0 ? process.argv[i + 1] : fallback;
}
const app = option('app', 'listeners-node');
const workers = Number(option('workers', 0));
const every = Number(option('every', 5)) * 1000;
const jobMs = Number(option('job-ms', 500));
const warmN = Number(option('warm', 0));
const duration = Number(option('duration', 60)) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function listen(held, got) {
	const c = new Client({ application_name: app });
	await c.connect();
	c.on('notification', () => got.push(1));
	await c.query('LISTEN jobs');
	held.push(c);
}

async function runWorkers() {
	const pool = new Pool({ application_name: app, max: 3 });
	const held = [];
	const got = [];
	const end = Date.now() + duration;
	let next = Date.now();
	let n = 0;
	while (Date.now() < end) {
		if (held.length < workers && Date.now() >= next) {
			await listen(held, got);
			next += every;
			if (held.length === workers) {
				console.log('ready');
			}
		}
		n++;
		await pool.query(n % 5 === 0 ? 'NOTIFY jobs' : 'SELECT 1');
		await sleep(jobMs);
	}
	await Promise.all(held.map((c) => c.end()));
	await pool.end();
	console.log('notifications', got.length);
}

async function runWarm() {
	const pool = new Pool({ application_name: app, max: warmN,
		idleTimeoutMillis: 0 });
	const clients = [];
	for (let i = 0; i < warmN; i++) {
		clients.push(await pool.connect());
		await clients[i].query('SELECT 1');
		await sleep(300);
	}
	clients.forEach((c) => c.release());
	console.log('ready');
	await sleep(duration);
	await pool.end();
}

(warmN > 0 ? runWarm() : runWorkers()).catch((e) => {
	console.error(e.message);
	process.exit(1);
});
