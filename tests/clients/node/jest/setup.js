'use strict';
// setupFilesAfterEnv: the ground truth's test boundaries, and the warm
// pool ended after each test file (each file has its own modules).
const suite = require('../lib/suite');

beforeEach(() => {
	suite.testStarted(expect.getState().currentTestName);
});

afterEach(() => {
	suite.testEnded(expect.getState().currentTestName);
});

afterAll(() => suite.endWarm());
