'use strict';
// Shared by the node workloads: options, a seeded random source, and the
// ground-truth log (one JSON object a line, appended synchronously so that
// a line is on disk even when the process is killed right after).

const fs = require('fs');

// parseOptions(argv, defaults): "--name value" pairs over the defaults;
// a value's type follows its default's (number, boolean, string).
// Unknown names are an error, so a typo never runs the wrong scenario.
function parseOptions(argv, defaults) {
	const opts = { ...defaults };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === '--help' || arg === '-h') {
			process.stdout.write('options (defaults):\n');
			for (const [k, v] of Object.entries(defaults)) {
				process.stdout.write(`  --${k} ${JSON.stringify(v)}\n`);
			}
			process.exit(0);
		}
		if (!arg.startsWith('--')) {
			throw new Error(`unexpected argument ${arg}`);
		}
		const key = arg.slice(2);
		if (!(key in defaults)) {
			throw new Error(`unknown option --${key}`);
		}
		if (i + 1 >= argv.length) {
			throw new Error(`--${key} needs a value`);
		}
		const raw = argv[++i];
		const def = defaults[key];
		if (typeof def === 'number') {
			opts[key] = Number(raw);
			if (!Number.isFinite(opts[key])) {
				throw new Error(`--${key}: not a number: ${raw}`);
			}
		} else if (typeof def === 'boolean') {
			opts[key] = raw === 'true' || raw === '1' || raw === 'yes';
		} else {
			opts[key] = raw;
		}
	}
	return opts;
}

// mulberry32: a small seeded generator, so a seed gives the same run.
function makeRandom(seed) {
	let a = seed >>> 0;
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	next.exponential = (mean) => -Math.log(1 - next()) * mean;
	next.normal = () => {
		const u = 1 - next();
		const v = next();
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
	};
	return next;
}

const now = () => Date.now() / 1000;

// Truth(path): the ground-truth log; every line gets "t" (epoch seconds)
// and "os_pid" (the client process).  An empty path logs nothing.
class Truth {
	constructor(path) {
		this.fd = path ? fs.openSync(path, 'a') : null;
	}

	log(ev, fields) {
		if (this.fd === null) {
			return;
		}
		const line = { t: now(), ev, os_pid: process.pid, ...fields };
		fs.writeSync(this.fd, JSON.stringify(line) + '\n');
	}
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { parseOptions, makeRandom, now, Truth, sleep };
