'use strict';
// A second file beside test_hooks_e2e's jest suite (copied there by
// test_runners_auto.sh), so that jest --maxWorkers 2 runs the two in two
// workers; its tests give back what they take, to a pool both use and
// that is ended after them, under an application of its own.
const assert = require('assert');
const stock = require('../stock.js');

let pool;

beforeAll(() => {
	pool = stock.makePool('runauto-count');
});

afterAll(() => pool.end());

test('counts again', async () => {
	assert.strictEqual(await stock.count(pool), 3);
});

test('counts once more', async () => {
	assert.strictEqual(await stock.count(pool), 3);
});
