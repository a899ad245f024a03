'use strict';
// pgdrip's jest setup file: tells a wrapping pgdrip where each test
// starts and ends, so its report names the tests that leaked sessions.
//
// pgdrip-runners.js adds it by itself to jest-circus's setup files; or
// by hand:
//   jest --setupFilesAfterEnv "$PGDRIP_JEST_SETUP" [your own setup files]
//   or in jest.config.js:
//   setupFilesAfterEnv: [...yours,
//       ...(process.env.PGDRIP_JEST_SETUP ? [process.env.PGDRIP_JEST_SETUP] : [])]
//
// Each test is one window, from before its first beforeEach hook to after
// its last afterEach hook ("FILE::describe title test title"), taken from
// jest-circus's own events; each worker process reports its own tests.
// Outside pgdrip (PGDRIP_TESTS unset) it does nothing.

const path = require('path');
const marks = require(path.join(__dirname, 'pgdrip-marks.js'));

const file = path.relative(process.cwd(), expect.getState().testPath || '');

// pgdrip's client hooks (pgdrip-hooks.js, loaded by NODE_OPTIONS) live
// outside the context jest runs the tests in: they are told the current
// test through the API they leave on the 'net' module, and handed the
// copy of 'pg' the tests get (they also watch jest's require for it).
const hooks = require('net')[Symbol.for('pgdrip.hooks')];

function publish(name) {
	globalThis.__pgdrip_current_test = name;
	if (hooks) {
		hooks.setTest(name);
	}
}

if (hooks) {
	try {
		const dirs = [process.cwd()];
		if (file) {
			dirs.unshift(path.dirname(path.resolve(file)));
		}
		hooks.patchPg(require(require.resolve('pg', { paths: dirs })));
	} catch (err) {
		// No pg for these tests: nothing to hook.
	}
}

function nameOf(test) {
	const names = [];
	for (let t = test; t && t.parent; t = t.parent) {
		names.unshift(t.name);
	}
	return (file ? `${file}::` : '') + names.join(' ');
}

// jest-circus awaits every event handler; test_started comes before the
// test's beforeEach hooks, test_done after its afterEach hooks.
const handlers = globalThis[Symbol.for('EVENT_HANDLERS')];
if (Array.isArray(handlers)) {
	handlers.push(async (event) => {
		if (event.name === 'test_started') {
			publish(nameOf(event.test));
			await marks.mark('start', nameOf(event.test));
		} else if (event.name === 'test_done') {
			await marks.mark('end', nameOf(event.test));
			publish(undefined);
		}
	});
} else {
	// Another runner than jest-circus: the hooks jest gives every test.
	const current = () =>
		(file ? `${file}::` : '') + expect.getState().currentTestName;
	beforeEach(() => {
		publish(current());
		return marks.mark('start', current());
	});
	afterEach(() => marks.mark('end', current()).then(() => publish(undefined)));
}
afterAll(() => marks.close());
