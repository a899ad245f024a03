'use strict';
// jest, no setup file: "reserves pears short" leaks a checkout,
// "counts" leaves a connection resting in the pool.
const assert = require('assert');
const shop = require('../shop.js');

let pool;

beforeAll(() => {
	pool = shop.makePool('runauto-jest');
});

describe('shop', () => {
	test('counts', async () => {
		assert.strictEqual(await shop.count(pool), 3);
	});
	test('reserves pears short', async () => {
		try {
			await shop.reserve(pool, 9);
		} catch (err) {
			assert.match(err.message, /short/);
		}
	});
	test('reserves apples', async () => {
		assert.strictEqual(await shop.reserve(pool, 2), -3);
	});
});
