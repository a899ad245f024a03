'use strict';
// Root hooks (mocha --require mocha/hooks.js): the ground truth's test
// boundaries, and the warm pool ended after the last test (per worker
// process with --parallel).
const suite = require('../lib/suite');

exports.mochaHooks = {
	beforeEach() {
		const name = this.currentTest.fullTitle();
		suite.testStarted(name, suite.leaks(name));
	},
	afterEach() {
		suite.testEnded(this.currentTest.fullTitle());
	},
	afterAll() {
		return suite.endWarm();
	},
};
