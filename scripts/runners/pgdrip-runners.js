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
//              ("FILE::outer > inner"); its subtests are part of it.
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
}

if (wanted) {
	install();
}
