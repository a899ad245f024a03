'use strict';
// Plain CommonJS, no transform; pg is found through NODE_PATH (need_npm).
module.exports = {
	rootDir: __dirname,
	testEnvironment: 'node',
	testMatch: ['<rootDir>/jest/*.test.js'],
	transform: {},
};
