'use strict';
// Plain CommonJS, no transform, no setup file; pg through NODE_PATH.
module.exports = {
	rootDir: __dirname,
	testEnvironment: 'node',
	testMatch: ['<rootDir>/jest/*.test.js'],
	transform: {},
};
