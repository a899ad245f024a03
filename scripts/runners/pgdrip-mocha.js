'use strict';
// pgdrip's mocha root hooks: tell a wrapping pgdrip where each test
// starts and ends, so its report names the tests that leaked sessions.
//
// pgdrip-runners.js adds them by itself when mocha runs; or by hand:
//   mocha --require "$PGDRIP_MOCHA_HOOKS" ...        (pgdrip sets it)
//   or in .mocharc.js:
//   require: [process.env.PGDRIP_MOCHA_HOOKS].filter(Boolean)
//
// Each test is one window, from before its first beforeEach hook to
// after its last afterEach hook ("FILE::full title"), which is also the
// current test the client hooks name (globalThis.__pgdrip_current_test).
// Works with
// --parallel: each worker process reports its own tests.  Outside pgdrip
// (PGDRIP_TESTS unset) it does nothing.

const path = require('path');
const marks = require(path.join(__dirname, 'pgdrip-marks.js'));

function nameOf(test) {
	const file = test.file ? path.relative(process.cwd(), test.file) : '';
	return (file ? `${file}::` : '') + test.fullTitle();
}

// The current test is also published for pgdrip's client hooks
// (pgdrip-hooks.js), whose events carry it.
async function startTest() {
	const name = nameOf(this.currentTest);
	globalThis.__pgdrip_current_test = name;
	await marks.mark('start', name);
}

async function endTest() {
	await marks.mark('end', nameOf(this.currentTest));
	globalThis.__pgdrip_current_test = undefined;
}

// Root hooks run in the order they were registered: ours must be the
// first beforeEach and the last afterEach, whatever else is --required.
function outermost(list, fn, first) {
	const i = Array.isArray(list) ? list.findIndex((h) => h.fn === fn) : -1;
	if (i < 0) {
		return;
	}
	const [hook] = list.splice(i, 1);
	if (first) {
		list.unshift(hook);
	} else {
		list.push(hook);
	}
}

function placeHooks() {
	const root = this.test && this.test.parent;
	if (root) {
		outermost(root._beforeEach, startTest, true);
		outermost(root._afterEach, endTest, false);
	}
}

// Tagged, so that pgdrip-runners.js (which adds these hooks when the
// suite did not) sees them there already.
startTest[Symbol.for('pgdrip.marks')] = true;

exports.mochaHooks = {
	beforeAll: placeHooks,
	beforeEach: startTest,
	afterEach: endTest,
};
