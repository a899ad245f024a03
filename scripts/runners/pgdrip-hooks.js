'use strict';
// pgdrip's client hooks for Node: what the client knows of its own
// connections, told to a wrapping pgdrip (pgdrip's client-hook protocol,
// version 1; the Python side is pgdrip_hooks.py).
//
//   NODE_OPTIONS="--require /path/to/pgdrip-hooks.js"   (pgdrip sets it)
//
// node-postgres ('pg', whatever copy the app loads, by require, by an ES
// module's import, or by jest's own require) is patched when it is first
// loaded: Client connect/end, Pool connect (and so pool.query's implicit
// checkout) and the pool's release of a client (client.release(), with
// or without an error; a client the pool then removes is ended, so its
// close follows).  Each event is one JSON line on ONE unix stream
// connection a process to $PGDRIP_HOOKS, opened at the first event:
// hello, open, close (close, gc, exit), take, give, lost, unhooked.
// knex, loaded the same ways, is patched where its pool hands out and
// takes back its connections (node-postgres clients): take and give.
//
// Guarantees: results, errors and their timing are the app's own (a
// promise is resolved from the same callback the pool calls; no listener
// that changes behaviour is added to the app's objects); writes never
// block and are bounded (256 KiB queued at most; what does not fit is
// dropped and counted); nothing goes to stdout or stderr; no password,
// conninfo or DSN is sent; with PGDRIP_HOOKS unset or unreachable the
// hooks fall silent for good.  Runner plugins publish the current test in
// globalThis.__pgdrip_current_test (jest's setup file, which runs in a
// context of its own, through the API this file leaves on the 'net'
// module: see pgdrip-jest.js).

const Module = require('module');
const net = require('net');
const path = require('path');

const VERSION = 1;
const LINE_MAX = 16 * 1024;
const BUFFER_MAX = 256 * 1024;
const STACK_MAX = 20;
const ARGV_MAX = 8;
const API_KEY = Symbol.for('pgdrip.hooks');

const HERE = __dirname + path.sep;
const wanted = (process.env.PGDRIP_HOOKS || '') !== '' &&
	process.env.PGDRIP_CLIENT_HOOKS !== '0';

// ---- the channel ----

let sock = null;
let state = null; // null: not tried; 'up'; 'dead': silent for good
let dropped = 0;
let early = null; // lines written before node saw the socket connected
let nextId = 0;
// Worker threads share their process's pid, and each has its own copy
// of these hooks (vitest --pool threads, piscina): their connections'
// and pools' names carry the thread's id ("pg#3.1") so that two
// threads' never meet.
const threadTag = (() => {
	try {
		const id = require('worker_threads').threadId;
		return id ? `${id}.` : '';
	} catch (err) {
		return '';
	}
})();
const hooked = new Set();
const unhookedSaid = new Set();

function currentTest() {
	const name = globalThis.__pgdrip_current_test;
	return typeof name === 'string' && name !== '' ? name : undefined;
}

const SECRET_WORDS = /password|passwd|pwd|secret|token/i;

// One argument with no password, conninfo or DSN left in it.
function maskArg(arg, afterFlag) {
	const text = String(arg);
	if (afterFlag || /^postgres(ql)?:\/\//i.test(text) ||
	    /^[^=]*:[^@]*@/.test(text)) {
		return '***';
	}
	const eq = text.indexOf('=');
	if (eq >= 0) {
		const key = text.slice(0, eq).replace(/^-+/, '').trim();
		if (SECRET_WORDS.test(key)) {
			return text.slice(0, eq) + '=***';
		}
		if (/\s/.test(text.trim()) ||
		    /^(host|hostaddr|dbname|user|port|service)$/i.test(key)) {
			return '***';
		}
	}
	return text;
}

function maskedArgv() {
	const out = [];
	let flag = false;
	for (const arg of process.argv.slice(0, ARGV_MAX)) {
		out.push(maskArg(arg, flag));
		flag = /^-/.test(arg) && !arg.includes('=') &&
			SECRET_WORDS.test(arg);
	}
	return out;
}

function connect(t) {
	try {
		sock = net.createConnection({ path: process.env.PGDRIP_HOOKS });
	} catch (err) {
		state = 'dead';
		return false;
	}
	// Our own socket: its errors only silence the hooks; it never
	// keeps the process alive.
	sock.on('error', () => {
		state = 'dead';
		sock.destroy();
	});
	sock.unref();
	// Until node says the socket is connected, what is written waits
	// in node: kept here too, for atExit to write by hand.
	sock.once('connect', () => {
		early = null;
	});
	early = [];
	state = 'up';
	queue({ ev: 'hello', lang: 'node', argv: maskedArgv(),
		libs: [...hooked].sort() }, t);
	return true;
}

// The line of an event, at most LINE_MAX bytes (the stack is cut first,
// then long strings); null when nothing fits.
function lineOf(event, t) {
	const rec = Object.assign({ v: VERSION, ev: event.ev,
		pid: process.pid, t }, event);
	if (rec.test === undefined) {
		delete rec.test;
	}
	if (dropped) {
		rec.dropped = dropped;
	}
	let line = JSON.stringify(rec) + '\n';
	while (Buffer.byteLength(line, 'utf8') > LINE_MAX) {
		if (Array.isArray(rec.stack) && rec.stack.length > 0) {
			rec.stack = rec.stack.slice(0, rec.stack.length >> 1);
		} else if (typeof rec.test === 'string' && rec.test.length > 256) {
			rec.test = rec.test.slice(0, 256);
		} else {
			return null;
		}
		line = JSON.stringify(rec) + '\n';
	}
	return line;
}

function queue(event, t) {
	const line = lineOf(event, t);
	if (line === null ||
	    sock.writableLength + Buffer.byteLength(line, 'utf8') > BUFFER_MAX) {
		dropped++;
		return;
	}
	sock.write(line);
	if (early !== null) {
		early.push(line);
	}
	dropped = 0;
}

// At exit before node saw the socket connected (a script that calls
// process.exit() right after its last query): node never writes what
// waits, but the kernel connected the socket at once (a unix socket), so
// it is written to the descriptor here, without blocking.
function flushEarly() {
	const fd = sock && sock._handle && sock._handle.fd;
	if (early === null || early.length === 0 || !Number.isInteger(fd) ||
	    fd < 0) {
		return;
	}
	const data = Buffer.from(early.join(''), 'utf8');
	early = null;
	try {
		require('fs').writeSync(fd, data);
	} catch (err) {
		// Not connected, or full: lost, as the hooks never block.
	}
}

// emit(event): sends it now (never throws, never waits).
function emit(event) {
	if (state === 'dead') {
		return;
	}
	try {
		const t = Date.now() / 1000;
		if (event.test === undefined) {
			event.test = currentTest();
		}
		if (state === null && !connect(t)) {
			return;
		}
		if (event.stack instanceof Stack) {
			event.stack = event.stack.frames();
		}
		queue(event, t);
	} catch (err) {
		// The hooks never change what the program does.
	}
}

// ---- the stack: the user's frames, formatted only when sent ----

let cwdPrefix = null;

class Stack {
	constructor(fn) {
		const limit = Error.stackTraceLimit;
		Error.stackTraceLimit = 40;
		Error.captureStackTrace(this, fn);
		Error.stackTraceLimit = limit;
	}

	frames() {
		const save = Error.prepareStackTrace;
		let sites;
		Error.prepareStackTrace = (e, s) => s;
		try {
			sites = this.stack;
		} finally {
			Error.prepareStackTrace = save;
		}
		if (!Array.isArray(sites)) {
			return [];
		}
		if (cwdPrefix === null) {
			cwdPrefix = process.cwd() + path.sep;
		}
		const out = [];
		for (const site of sites) {
			const frame = userFrame(site);
			if (frame !== null) {
				out.push(frame);
				if (out.length >= STACK_MAX) {
					break;
				}
			}
		}
		return out;
	}
}

function userFrame(site) {
	let file = site.getFileName ? site.getFileName() : null;
	if (!file) {
		return null;
	}
	if (file.startsWith('file://')) {
		try {
			file = require('url').fileURLToPath(file);
		} catch (err) {
			return null;
		}
	}
	if (file.startsWith('node:') || !file.startsWith('/') ||
	    file.includes(`${path.sep}node_modules${path.sep}`) ||
	    file.startsWith(HERE)) {
		return null;
	}
	if (file.startsWith(cwdPrefix)) {
		file = file.slice(cwdPrefix.length);
	}
	return { file, line: site.getLineNumber(),
		func: site.getFunctionName() || site.getMethodName() ||
			'<anonymous>' };
}

// ---- clients and pools ----

const records = new WeakMap(); // client -> record
const live = new Set(); // records of clients not closed
const poolIds = new WeakMap();
const collected = typeof FinalizationRegistry === 'function' ?
	new FinalizationRegistry(gone) : null;

function gone(rec) {
	if (!live.has(rec)) {
		return;
	}
	live.delete(rec);
	if (rec.pool !== null) {
		emit({ ev: 'lost', conn: rec.cid, backend: rec.backend,
			pool: rec.pool, how: 'gc' });
	}
	emit({ ev: 'close', conn: rec.cid, backend: rec.backend, how: 'gc' });
}

function opened(client, stack) {
	if (records.has(client)) {
		return records.get(client);
	}
	const backend = Number.isInteger(client.processID) ?
		client.processID : null;
	const rec = { cid: `pg#${threadTag}${++nextId}`, backend, pool: null };
	records.set(client, rec);
	live.add(rec);
	if (collected !== null) {
		collected.register(client, rec);
	}
	emit({ ev: 'open', lib: 'pg', conn: rec.cid, backend, stack });
	return rec;
}

function closed(client) {
	const rec = records.get(client);
	if (rec === undefined || !live.has(rec)) {
		return;
	}
	live.delete(rec);
	emit({ ev: 'close', conn: rec.cid, backend: rec.backend,
		how: 'close' });
}

function poolId(pool) {
	let id = poolIds.get(pool);
	if (id === undefined) {
		id = `pg.${pool.constructor && pool.constructor.name === 'BoundPool' ?
			'Pool' : (pool.constructor && pool.constructor.name) || 'Pool'}#${threadTag}${++nextId}`;
		poolIds.set(pool, id);
	}
	return id;
}

function taken(pool, client, stack, idOf = poolId) {
	const rec = opened(client, stack);
	rec.pool = idOf(pool);
	emit({ ev: 'take', conn: rec.cid, backend: rec.backend,
		pool: rec.pool, stack });
}

function given(client) {
	const rec = records.get(client);
	if (rec === undefined || rec.pool === null) {
		return;
	}
	const pool = rec.pool;
	rec.pool = null;
	emit({ ev: 'give', conn: rec.cid, backend: rec.backend, pool });
}

function atExit() {
	for (const rec of live) {
		emit({ ev: 'close', conn: rec.cid, backend: rec.backend,
			how: 'exit' });
	}
	live.clear();
	if (state === 'up') {
		flushEarly();
	}
}

// ---- node-postgres ----

const patchedProtos = new WeakSet();

function patchClient(proto) {
	if (patchedProtos.has(proto)) {
		return;
	}
	const origConnect = proto._connect;
	const origEnd = proto.end;
	if (typeof origConnect !== 'function' || typeof origEnd !== 'function') {
		throw new Error('Client._connect or Client.end missing');
	}
	patchedProtos.add(proto);
	proto._connect = function (callback) {
		const stack = new Stack(proto._connect);
		const client = this;
		if (typeof callback !== 'function') {
			return origConnect.apply(this, arguments);
		}
		return origConnect.call(this, function (err) {
			if (!err) {
				opened(client, stack);
			}
			return callback.apply(this, arguments);
		});
	};
	proto.end = function () {
		closed(this);
		return origEnd.apply(this, arguments);
	};
}

function patchPool(proto) {
	if (patchedProtos.has(proto)) {
		return;
	}
	const origConnect = proto.connect;
	const origRelease = proto._release;
	if (typeof origConnect !== 'function' ||
	    typeof origRelease !== 'function') {
		throw new Error('Pool.connect or Pool._release missing');
	}
	patchedProtos.add(proto);
	proto.connect = function (cb) {
		const stack = new Stack(proto.connect);
		const pool = this;
		if (typeof cb === 'function') {
			return origConnect.call(this, function (err, client) {
				if (!err && client) {
					taken(pool, client, stack);
				}
				return cb.apply(this, arguments);
			});
		}
		if (cb !== undefined || this.ending) {
			return origConnect.apply(this, arguments);
		}
		// The promise the pool would make, settled from the same
		// callback: no extra tick.
		const P = this.Promise || Promise;
		let settle;
		const result = new P((resolve, reject) => {
			settle = { resolve, reject };
		});
		origConnect.call(this, (err, client) => {
			if (err) {
				settle.reject(err);
			} else {
				taken(pool, client, stack);
				settle.resolve(client);
			}
		});
		return result;
	};
	proto._release = function (client) {
		given(client);
		return origRelease.apply(this, arguments);
	};
}

const patchedModules = new WeakSet();

// patchPg(pg): patches the classes of one copy of node-postgres.
function patchPg(pg) {
	if (!pg || typeof pg !== 'object' || patchedModules.has(pg)) {
		return;
	}
	patchedModules.add(pg);
	try {
		patchClient(pg.Client.prototype);
		patchPool(Object.getPrototypeOf(pg.Pool.prototype));
		hooked.add('pg');
	} catch (err) {
		unhooked('pg', err);
	}
}

// ---- knex ----

// knex hands out its pool's connections (node-postgres clients, opened
// through the hooks above) from Client.prototype.acquireConnection,
// which every query, transaction and acquireConnection() of the app's
// goes through, and takes them back in releaseConnection.  The take is
// told once knex has the connection: one microtask after knex's own
// promise settles, inside knex (the app awaits knex's runner, not this
// promise).
function knexPoolId(knexClient) {
	let id = poolIds.get(knexClient);
	if (id === undefined) {
		id = `knex#${threadTag}${++nextId}`;
		poolIds.set(knexClient, id);
	}
	return id;
}

// A transaction takes its connection later, from knex's own promise
// chain, where the app's frames are gone: the stack of the app's
// transaction() call is kept for it in an AsyncLocalStorage.
let knexCaller = null;
const knexBases = []; // the knex Client classes patched

// Each dialect overrides Client.prototype.transaction (postgres's does):
// patched as it loads, seen as a subclass of a patched Client.
function patchKnexTransaction(proto) {
	const orig = Object.prototype.hasOwnProperty.call(proto, 'transaction') &&
		proto.transaction;
	if (typeof orig !== 'function' || patchedProtos.has(orig)) {
		return;
	}
	const wrapped = function () {
		const stack = new Stack(wrapped);
		return knexCaller.run(stack, () => orig.apply(this, arguments));
	};
	patchedProtos.add(wrapped);
	proto.transaction = wrapped;
}

function watchKnexDialect(exports) {
	if (knexBases.length > 0 && typeof exports === 'function' &&
	    exports.prototype &&
	    knexBases.some((base) => exports.prototype instanceof base)) {
		patchKnexTransaction(exports.prototype);
	}
}

function patchKnex(knex) {
	const proto = knex && knex.Client && knex.Client.prototype;
	if (!proto || patchedProtos.has(proto)) {
		return;
	}
	try {
		const origAcquire = proto.acquireConnection;
		const origRelease = proto.releaseConnection;
		if (typeof origAcquire !== 'function' ||
		    typeof origRelease !== 'function' ||
		    typeof proto.transaction !== 'function') {
			throw new Error('Client.acquireConnection, releaseConnection or transaction missing');
		}
		if (knexCaller === null) {
			knexCaller = new (require('async_hooks').AsyncLocalStorage)();
		}
		patchedProtos.add(proto);
		knexBases.push(knex.Client);
		patchKnexTransaction(proto);
		proto.acquireConnection = function () {
			const here = new Stack(proto.acquireConnection);
			const caller = knexCaller.getStore();
			const knexClient = this;
			return origAcquire.apply(this, arguments).then((conn) => {
				if (conn && typeof conn === 'object' &&
				    records.has(conn)) {
					taken(knexClient, conn,
						caller || here, knexPoolId);
				}
				return conn;
			});
		};
		proto.releaseConnection = function (conn) {
			given(conn);
			return origRelease.apply(this, arguments);
		};
		hooked.add('knex');
	} catch (err) {
		unhooked('knex', err);
	}
}

function unhooked(lib, err) {
	if (unhookedSaid.has(lib)) {
		return;
	}
	unhookedSaid.add(lib);
	emit({ ev: 'unhooked', lib, why: String(err && err.message || err).slice(0, 200) });
}

// pg's main file, as an ES module's import of it reaches the CommonJS
// loader (by its path, not by 'pg').
const PG_MAIN = /(^|[\\/])node_modules[\\/]pg[\\/]lib[\\/]index\.js$/;
const KNEX_MAIN = /(^|[\\/])node_modules[\\/]knex[\\/]knex\.js$/;

// Jest loads the tests' modules itself, into a context of their own,
// never through Module._load: its runtime's require is watched instead,
// so that a suite is hooked without pgdrip's setup file too.
function patchJestRuntime(exports) {
	const Runtime = exports && (exports.default || exports);
	const proto = Runtime && Runtime.prototype;
	if (!proto || typeof proto.requireModuleOrMock !== 'function' ||
	    patchedProtos.has(proto)) {
		return;
	}
	patchedProtos.add(proto);
	const orig = proto.requireModuleOrMock;
	proto.requireModuleOrMock = function (from, moduleName) {
		const result = orig.apply(this, arguments);
		if (moduleName === 'pg' && state !== 'dead') {
			patchPg(result);
		} else if (moduleName === 'knex' && state !== 'dead') {
			patchKnex(result);
		} else if (state !== 'dead') {
			watchKnexDialect(result);
		}
		return result;
	};
}

function install() {
	const origLoad = Module._load;
	Module._load = function (request) {
		const exports = origLoad.apply(this, arguments);
		if (state !== 'dead' && typeof request === 'string') {
			if (request === 'pg' || PG_MAIN.test(request)) {
				patchPg(exports);
			} else if (request === 'knex' || KNEX_MAIN.test(request)) {
				patchKnex(exports);
			} else if (request === 'jest-runtime') {
				patchJestRuntime(exports);
			} else {
				watchKnexDialect(exports);
			}
		}
		return exports;
	};
	process.on('exit', atExit);
	net[API_KEY] = {
		patchPg,
		setTest(name) {
			globalThis.__pgdrip_current_test = name;
		},
	};
}

if (wanted) {
	install();
}

module.exports = { patchPg };
