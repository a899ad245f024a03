'use strict';
// An Express app on a node-postgres pg.Pool, driven by its own load
// generator: the web-app kinds of tests/clients/README.md.  The request
// rate follows a profile (steady, ramp, sawtooth, walk, daily, deploy);
// an error path that forgets client.release() leaks a pooled client at a
// configurable rate, until the pool is full and requests queue.
//
// Ground truth (--truth FILE, JSON lines): "open"/"close" for every
// session the pool opens or closes (backend pid = client.processID),
// "leak" when the error path abandons one, "stats" every second.

const http = require('http');
const express = require('express');
const { Pool } = require('pg');
const { parseOptions, makeRandom, now, Truth, sleep } = require('./lib/common');

const opts = parseOptions(process.argv.slice(2), {
	app: 'api', // application_name of every session
	max: 20, // pg.Pool max
	'idle-timeout': 10000, // idleTimeoutMillis (pg's default)
	'conn-timeout': 5000, // connectionTimeoutMillis: a queued request's wait
	profile: 'steady', // steady|ramp|sawtooth|walk|daily|deploy
	rate: 10, // requests/s (steady, deploy; where walk starts)
	'rate-min': 1, // the lowest rate of ramp/sawtooth/walk/daily
	'rate-max': 50, // the highest
	period: 60, // seconds: a ramp's rise, a sawtooth's or a day's length
	'walk-step': 2, // walk: the rate's change per second (std dev)
	duration: 180, // seconds of load, then exit
	seed: 1,
	'work-ms': 100, // mean time a request holds its client (pg_sleep)
	'work-jitter': 0.5, // work varies uniformly by this fraction
	'leak-every': 0, // seconds between leaking requests (0: none)
	'leak-prob': 0, // or: each request leaks with this probability
	'leak-start': 0, // seconds before the first leak
	'leak-on-signal': 0, // 1: the first leak when SIGUSR2 comes
	'leak-kind': 'idle', // idle|aborted|idle-tx: what the leaked one shows
	'deploy-every': 90, // deploy: a new pool generation every N seconds
	'deploy-shift': 20, // seconds over which traffic moves to it
	'max-inflight': 400, // requests in flight beyond this are dropped
	'log-uses': false, // log every checkout ("use") too
	truth: '',
	port: 0,
});

const truth = new Truth(opts.truth);
const random = makeRandom(opts.seed);
const started = now();

// --- the pools: one, or one per deploy generation -----------------------

const generations = [];

function newPool(gen) {
	const pool = new Pool({
		max: opts.max,
		idleTimeoutMillis: opts['idle-timeout'],
		connectionTimeoutMillis: opts['conn-timeout'],
		application_name: opts.app,
	});
	const entry = { gen, pool, born: now(), ending: false };
	pool.on('connect', (client) => {
		client.pgdripGen = gen;
		truth.log('open', { pid: client.processID, gen, leaked: false });
	});
	pool.on('remove', (client) => {
		truth.log('close', { pid: client.processID, gen });
	});
	if (opts['log-uses']) {
		pool.on('acquire', (client) => {
			truth.log('use', { pid: client.processID, gen });
		});
	}
	// An idle client whose server went away must not kill the app.
	pool.on('error', (err) => {
		truth.log('pool_error', { gen, error: err.message });
	});
	generations.push(entry);
	return entry;
}

// pickPool: during a deploy's shift, traffic moves from the old
// generation to the new one in proportion to the time elapsed.
function pickPool() {
	const live = generations.filter((g) => !g.ending);
	if (live.length === 1) {
		return live[0];
	}
	const [old, young] = live.slice(-2);
	const share = (now() - young.born) / opts['deploy-shift'];
	return random() < share ? young : old;
}

function deployTick() {
	const entry = newPool(generations.length + 1);
	truth.log('deploy', { gen: entry.gen });
	setTimeout(() => {
		const old = generations[generations.length - 2];
		old.ending = true;
		truth.log('drain', { gen: old.gen });
		// end() closes the idle clients now and the busy ones as
		// they are released.
		old.pool.end().then(() => truth.log('drained', { gen: old.gen }));
	}, opts['deploy-shift'] * 1000);
}

// --- the web app --------------------------------------------------------

const counters = { ok: 0, failed: 0, timeouts: 0, dropped: 0, leaked: 0 };
const app = express();

// GET /orders/:id?work=S: the handler every request takes.  An id that is
// not a number makes the query fail, and this error path is the bug the
// leak scenarios are about: it answers 500 and never releases the client.
app.get('/orders/:id', async (req, res) => {
	const work = Number(req.query.work) || 0;
	const entry = pickPool();
	let client;
	try {
		client = await entry.pool.connect();
	} catch (err) {
		counters.timeouts++;
		res.status(503).json({ error: err.message });
		return;
	}
	const kind = opts['leak-kind'];
	try {
		if (req.params.id === 'bad' && kind !== 'idle') {
			await client.query('BEGIN');
		}
		if (req.params.id === 'bad' && kind === 'idle-tx') {
			// Returns early inside BEGIN: idle in transaction.
			await client.query('SELECT 1 AS begun');
			throw new Error('validation failed after BEGIN');
		}
		const r = await client.query(
			'SELECT $1::int AS id, pg_sleep($2::float8)',
			[req.params.id, work]);
		client.release();
		counters.ok++;
		res.json({ id: r.rows[0].id });
	} catch (err) {
		// BUG (by design): no client.release() on this path.
		counters.leaked++;
		truth.log('leak', {
			pid: client.processID,
			gen: client.pgdripGen,
			kind: `error-path-${kind}`,
			error: err.message,
		});
		counters.failed++;
		res.status(500).json({ error: err.message });
	}
});

// --- the load generator -------------------------------------------------

// rateAt(s): requests/s at s seconds into the run.
let walkRate = opts.rate;
function rateAt(s) {
	const lo = opts['rate-min'];
	const hi = opts['rate-max'];
	const p = opts.period;
	switch (opts.profile) {
	case 'steady':
	case 'deploy':
		return opts.rate;
	case 'ramp':
		return s >= p ? hi : lo + (hi - lo) * (s / p);
	case 'sawtooth':
		return lo + (hi - lo) * ((s % p) / p);
	case 'walk':
		return walkRate;
	case 'daily':
		// A day compressed into the period: night at the ends, a
		// peak at noon.
		return lo + (hi - lo) * (1 - Math.cos((2 * Math.PI * s) / p)) / 2;
	default:
		throw new Error(`unknown profile ${opts.profile}`);
	}
}

function walkTick() {
	walkRate += random.normal() * opts['walk-step'];
	// Reflected at the edges: a walk with no trend.
	if (walkRate < opts['rate-min']) {
		walkRate = 2 * opts['rate-min'] - walkRate;
	}
	if (walkRate > opts['rate-max']) {
		walkRate = 2 * opts['rate-max'] - walkRate;
	}
}

let inflight = 0;
let port = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function fire(id) {
	if (inflight >= opts['max-inflight']) {
		counters.dropped++;
		return;
	}
	const mean = opts['work-ms'] / 1000;
	const jitter = opts['work-jitter'];
	const work = mean * (1 - jitter + 2 * jitter * random());
	inflight++;
	const req = http.get({
		host: '127.0.0.1',
		port,
		agent,
		path: `/orders/${id}?work=${work.toFixed(4)}`,
	}, (res) => {
		res.resume();
		res.on('end', () => inflight--);
	});
	req.on('error', () => inflight--);
}

async function generate(until) {
	let next = now();
	while (next < until) {
		const rate = Math.max(rateAt(next - started), 0.01);
		next += random.exponential(1 / rate);
		const wait = (next - now()) * 1000;
		if (wait > 0) {
			await sleep(wait);
		}
		const leaky = opts['leak-prob'] > 0 && random() < opts['leak-prob'];
		fire(leaky ? 'bad' : String(Math.floor(random() * 100000)));
	}
}

function statsTick() {
	const s = now() - started;
	const pools = generations.map((g) => ({
		gen: g.gen,
		total: g.pool.totalCount,
		idle: g.pool.idleCount,
		waiting: g.pool.waitingCount,
	}));
	truth.log('stats', {
		elapsed: Math.round(s),
		rate: Number(rateAt(s).toFixed(2)),
		inflight,
		pools,
		...counters,
	});
}

async function main() {
	const server = app.listen(opts.port, '127.0.0.1');
	await new Promise((resolve) => server.once('listening', resolve));
	port = server.address().port;
	newPool(1);
	truth.log('start', { kind: 'express-pg-pool', app: opts.app, opts });
	const until = started + opts.duration;
	const timers = [setInterval(statsTick, 1000)];
	if (opts.profile === 'walk') {
		timers.push(setInterval(walkTick, 1000));
	}
	if (opts.profile === 'deploy') {
		timers.push(setInterval(deployTick, opts['deploy-every'] * 1000));
	}
	if (opts['leak-every'] > 0) {
		const leakOnce = () => fire('bad');
		const begin = () => {
			leakOnce();
			timers.push(setInterval(leakOnce, opts['leak-every'] * 1000));
		};
		if (opts['leak-on-signal']) {
			process.once('SIGUSR2', begin);
		} else {
			setTimeout(begin, (opts['leak-start'] || opts['leak-every']) * 1000);
		}
	}
	const stop = () => finish(server, timers);
	process.once('SIGTERM', stop);
	process.once('SIGINT', stop);
	await generate(until);
	await finish(server, timers);
}

let finishing = false;
async function finish(server, timers) {
	if (finishing) {
		return;
	}
	finishing = true;
	timers.forEach(clearInterval);
	for (let i = 0; i < 50 && inflight > 0; i++) {
		await sleep(100);
	}
	statsTick();
	truth.log('exit', { ...counters, inflight });
	// Leaked clients are never released, so pool.end() would wait for
	// ever; like a real app killed at a deploy, the process just exits
	// and the server closes every session.
	server.close();
	process.exit(0);
}

main().catch((err) => {
	process.stderr.write(`app.js: ${err.stack}\n`);
	process.exit(1);
});
