'use strict';
// pgdrip's test runner detection for Node: the tests' boundaries told to
// a wrapping pgdrip with no change to the suite (pgdrip(1), TESTS).
//
//   NODE_OPTIONS="--require /path/to/pgdrip-runners.js"   (pgdrip sets it)
//
// In every node process of the wrapped command it watches for a test
// runner as it loads, and gives it the marks its own plugin would:
//
//   mocha      Mocha.prototype.run adds pgdrip-mocha.js's root hooks,
//              unless they are there already (--require
//              "$PGDRIP_MOCHA_HOOKS"): serial and each --parallel worker;
//   jest       jest-circus's adapter gets pgdrip-jest.js as the last of
//              the project's setupFilesAfterEnv, unless named already;
//   node:test  in each file's process of node --test whose source
//              imports or requires node:test, root
//              beforeEach/afterEach hooks mark each outermost test
//              ("FILE::outer > inner"); its subtests are part of it;
//   vitest     in each of its worker processes, the test runner it
//              makes gets marks around each test, from before its
//              beforeEach hooks to after its afterEach hooks
//              ("FILE::describe > test"); concurrent tests inside one
//              are part of it.
//
// Outside pgdrip (PGDRIP_TESTS unset), or with PGDRIP_TEST_PLUGINS=0, it
// does nothing.  It never changes what the suite does: no output, the
// same tests, results and exit status.

const Module = require('module');
const path = require('path');

const wanted = (process.env.PGDRIP_TESTS || '') !== '' &&
	process.env.PGDRIP_TEST_PLUGINS !== '0';
const MARK = Symbol.for('pgdrip.marks');
const JEST_SETUP = path.join(__dirname, 'pgdrip-jest.js');
const JEST_ADAPTER = /[\\/]jest-circus[\\/]build[\\/](runner|legacy-code-todo-rewrite[\\/]jestAdapter)\.js$/;

const seen = new WeakSet();

// ---- mocha ----

// hasMarks(hooks): whether one of the hooks is pgdrip-mocha.js's (any
// copy of it: each tags its functions).
function hasMarks(hooks) {
	return Array.isArray(hooks) && hooks.some((h) => h && h.fn && h.fn[MARK]);
}

function patchMocha(Mocha) {
	const proto = Mocha.prototype;
	const orig = proto.run;
	proto.run = function () {
		try {
			if (this.suite && !hasMarks(this.suite._beforeEach)) {
				this.rootHooks(require(path.join(__dirname,
					'pgdrip-mocha.js')).mochaHooks);
			}
		} catch (err) {
			// The suite runs as it would without pgdrip.
		}
		return orig.apply(this, arguments);
	};
}

function isMocha(exports) {
	return typeof exports === 'function' && exports.name === 'Mocha' &&
		exports.prototype !== undefined &&
		typeof exports.prototype.run === 'function' &&
		typeof exports.prototype.rootHooks === 'function';
}

// ---- jest ----

// The project's config with pgdrip's setup file last, unless named.
function withSetup(config) {
	const files = config && config.setupFilesAfterEnv;
	if (!Array.isArray(files) ||
	    files.some((f) => path.basename(String(f)) === 'pgdrip-jest.js')) {
		return config;
	}
	return Object.assign({}, config,
		{ setupFilesAfterEnv: files.concat([JEST_SETUP]) });
}

function patchJestAdapter(exports) {
	const orig = exports && exports.default;
	if (typeof orig !== 'function') {
		return;
	}
	exports.default = function (globalConfig, config) {
		const args = Array.prototype.slice.call(arguments);
		args[1] = withSetup(config);
		return orig.apply(this, args);
	};
}

// ---- node:test ----

// The test open in this process: its context and name (subtests and
// concurrent tests inside it are part of it).
let open = null;

function fileOf() {
	const main = process.argv[1];
	return main ? path.relative(process.cwd(), main) : '';
}

function nodeTestName(ctx) {
	const file = fileOf();
	const name = (ctx && (ctx.fullName || ctx.name)) || '?';
	return (file ? `${file}::` : '') + name;
}

function publish(name) {
	globalThis.__pgdrip_current_test = name;
}

function installNodeTest() {
	const marks = require(path.join(__dirname, 'pgdrip-marks.js'));
	const t = require('node:test');
	t.beforeEach((ctx) => {
		if (open !== null) {
			return undefined;
		}
		open = { ctx, name: nodeTestName(ctx) };
		publish(open.name);
		return marks.mark('start', open.name);
	});
	t.afterEach((ctx) => {
		if (open === null || open.ctx !== ctx) {
			return undefined;
		}
		const name = open.name;
		open = null;
		publish(undefined);
		return marks.mark('end', name);
	});
}

// require('node:test'), import ... from 'node:test', import('node:test')
const USES_NODE_TEST = /(\brequire\s*\(|\bfrom|\bimport\s*\(?)\s*['"]node:test['"]/;

// Whether this process runs a node:test file: one of node --test's
// files (NODE_TEST_CONTEXT) whose source imports or requires node:test.  Its root hooks must be there before the file's
// describe() blocks copy them, so before the file runs; a file that does
// not use node:test is left as it is (a harness made for it would print).
// node --test's own process, which only runs the files' processes, is
// left out.
function runsNodeTest() {
	const main = process.argv[1];
	if (!main || !process.env.NODE_TEST_CONTEXT ||
	    process.execArgv.includes('--test')) {
		return false;
	}
	try {
		return USES_NODE_TEST.test(require('fs').readFileSync(main, 'utf8'));
	} catch (err) {
		return false;
	}
}

function watchNodeTest() {
	if (runsNodeTest()) {
		try {
			installNodeTest();
		} catch (err) {
			// The suite runs as it would without pgdrip.
		}
	}
}

// ---- vitest ----

// vitest's worker makes its test runner, then gives it its module
// loader with Object.defineProperty(runner, '__vitest_executor' (vitest
// 1 to 3) or 'moduleRunner' (4 on), ...) before any test runs; the
// runner's onBeforeRunTask and onAfterRunTask are awaited around each
// test.  Object.defineProperty is watched only in a vitest worker
// (VITEST set: vitest sets it for its workers); a worker that runs
// several files (--no-isolate) may make a runner for each.
const VITEST_RUNNER_KEYS = new Set(['__vitest_executor', 'moduleRunner']);

function isVitestRunner(obj) {
	return obj !== null && typeof obj === 'object' &&
		typeof obj.onBeforeRunTask === 'function' &&
		typeof obj.importFile === 'function';
}

function vitestName(test) {
	const names = [];
	for (let t = test; t && t !== test.file; t = t.suite) {
		if (t.name) {
			names.unshift(t.name);
		}
	}
	const file = test.file && test.file.filepath ?
		path.relative(process.cwd(), test.file.filepath) : '';
	return (file ? `${file}::` : '') + names.join(' > ');
}

function patchVitestRunner(runner) {
	const marks = require(path.join(__dirname, 'pgdrip-marks.js'));
	const before = runner.onBeforeRunTask;
	const after = runner.onAfterRunTask;
	let running = null; // { test, name }: the test open in this worker
	runner.onBeforeRunTask = async function (test) {
		const result = before ? await before.apply(this, arguments) : undefined;
		if (running === null && test && test.mode === 'run') {
			running = { test, name: vitestName(test) };
			publish(running.name);
			await marks.mark('start', running.name);
		}
		return result;
	};
	runner.onAfterRunTask = async function (test) {
		const result = after ? await after.apply(this, arguments) : undefined;
		if (running !== null && running.test === test) {
			const name = running.name;
			running = null;
			await marks.mark('end', name);
			publish(undefined);
		}
		return result;
	};
}

function watchVitest() {
	if (!process.env.VITEST) {
		return;
	}
	const orig = Object.defineProperty;
	Object.defineProperty = function defineProperty(obj, key) {
		const result = orig.apply(this, arguments);
		try {
			if (VITEST_RUNNER_KEYS.has(key) && isVitestRunner(obj) &&
			    !seen.has(obj)) {
				seen.add(obj);
				patchVitestRunner(obj);
			}
		} catch (err) {
			// The suite runs as it would without pgdrip.
		}
		return result;
	};
}

// ---- the watch ----

function install() {
	const origLoad = Module._load;
	Module._load = function (request) {
		const exports = origLoad.apply(this, arguments);
		try {
			if (exports !== null && (typeof exports === 'object' ||
			    typeof exports === 'function') && !seen.has(exports)) {
				if (isMocha(exports)) {
					seen.add(exports);
					patchMocha(exports);
				} else if (typeof request === 'string' &&
				    JEST_ADAPTER.test(request)) {
					seen.add(exports);
					patchJestAdapter(exports);
				}
			}
		} catch (err) {
			// The suite runs as it would without pgdrip.
		}
		return exports;
	};
	watchNodeTest();
	watchVitest();
}

if (wanted) {
	install();
}
