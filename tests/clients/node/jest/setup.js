'use strict';
// setupFilesAfterEnv: the ground truth's test boundaries, and the warm
// pool ended after each test file (each file has its own modules).
const suite = require('../lib/suite');

beforeEach(() => {
	const name = expect.getState().currentTestName;
	suite.testStarted(name, suite.leaks(name));
});

afterEach(() => {
	suite.testEnded(expect.getState().currentTestName);
});

afterAll(() => suite.endWarm());
