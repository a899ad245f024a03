'use strict';
// Shared by the mocha and jest suites: which tests leak, sessions opened
// with their ground truth, and the running test's name.
//
// Environment:
//   SUITE_APP           application_name (default node-suite)
//   SUITE_TRUTH         the ground-truth JSON lines file
//   SUITE_LEAK          none | all | comma list of names; a name is a
//                       test's full name, its own title or its describe
//                       block's title (default: DEFAULT_LEAK)
//   SUITE_LEAK_SEED     instead: each leak-capable test leaks with
//   SUITE_LEAK_FRACTION probability FRACTION (default 0.3), decided from
//                       a hash of the seed and its full title, so every
//                       worker process decides the same
//   SUITE_TEST_MS       each test's own work (default 100)

const { Client, Pool } = require('pg');
const { Truth, sleep } = require('./common');

const APP = process.env.SUITE_APP || 'node-suite';
const TEST_MS = Number(process.env.SUITE_TEST_MS || 100);
const DEFAULT_LEAK = 'orders,reports pool #3,reports pool #7';

const truth = new Truth(process.env.SUITE_TRUTH || '');
const state = { test: null };

function fnv1a(text) {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
	}
	return h;
}

// leaks(fullName): true when the test so named ("describe title" and the
// test's own title, joined by a space, as mocha and jest both name it) is
// to leak.
function leaks(full) {
	const seed = process.env.SUITE_LEAK_SEED;
	if (seed !== undefined) {
		const fraction = Number(process.env.SUITE_LEAK_FRACTION || 0.3);
		return fnv1a(`${seed}:${full}`) / 4294967296 < fraction;
	}
	const spec = process.env.SUITE_LEAK ?? DEFAULT_LEAK;
	if (spec === 'all') {
		return true;
	}
	if (spec === '' || spec === 'none') {
		return false;
	}
	return spec.split(',').map((s) => s.trim()).some((name) =>
		full === name || full.startsWith(`${name} `) ||
		full.endsWith(` ${name}`));
}

// The tests that can leak, by full name, as the test files define them
// (before any test runs, in mocha and in jest alike).
const capable = new Set();

// leakCapable(full): registers a test that leaks when leaks() says so,
// and returns whether it does.
function leakCapable(full) {
	capable.add(full);
	return leaks(full);
}

// testStarted(name): a test's start in the ground truth, with whether
// it is one that leaks.
function testStarted(name) {
	state.test = name;
	truth.log('test_start', {
		name,
		leaks: capable.has(name) && leaks(name),
	});
}

function testEnded(name) {
	truth.log('test_end', { name });
	state.test = null;
}

function trackClient(client, kind, leaked) {
	const pid = client.processID;
	truth.log('open', { pid, test: state.test, kind, leaked });
	client.once('end', () => {
		truth.log('close', { pid, how: 'end', test: state.test });
	});
	return pid;
}

// connectClient(kind, leaked): a connected pg.Client, logged.
async function connectClient(kind, leaked) {
	const client = new Client({ application_name: APP });
	await client.connect();
	trackClient(client, kind, leaked);
	return client;
}

// newPool(kind, leaked, max): a pg.Pool whose sessions are logged.
function newPool(kind, leaked, max = 2) {
	const pool = new Pool({ application_name: APP, max });
	pool.on('connect', (client) => trackClient(client, kind, leaked));
	pool.on('error', () => {});
	return pool;
}

const pause = () => sleep(TEST_MS);

// The warm pool: made by the first test that needs it, reused by later
// tests, ended by the runner's last hook; not a leak.
let warm = null;

async function lookup() {
	if (warm === null) {
		warm = newPool('warm-pool', false, 2);
	}
	const r = await warm.query('SELECT count(*)::int AS n FROM pg_class');
	return r.rows[0].n;
}

async function endWarm() {
	if (warm !== null) {
		await warm.end();
		warm = null;
	}
}

process.on('exit', () => truth.log('exit', {}));

module.exports = {
	APP, leaks, leakCapable, testStarted, testEnded, connectClient,
	newPool, pause, lookup, endWarm, truth,
};
