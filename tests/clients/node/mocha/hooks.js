'use strict';
// Root hooks (mocha --require mocha/hooks.js): the ground truth's test
// boundaries, and the warm pool ended after the last test (per worker
// process with --parallel).
const suite = require('../lib/suite');

exports.mochaHooks = {
	beforeEach() {
		suite.testStarted(this.currentTest.fullTitle());
	},
	afterEach() {
		suite.testEnded(this.currentTest.fullTitle());
	},
	afterAll() {
		return suite.endWarm();
	},
};
