'use strict';
// mocha, no pgdrip line anywhere: "reserves pears short" leaks a
// checkout, "counts" leaves a connection resting in the pool.
const assert = require('assert');
const shop = require('../shop.js');

let pool;

before(() => {
	pool = shop.makePool('runauto-mocha');
});

describe('shop', () => {
	it('counts', async () => {
		assert.strictEqual(await shop.count(pool), 3);
	});
	it('reserves pears short', async () => {
		try {
			await shop.reserve(pool, 9);
		} catch (err) {
			assert.match(err.message, /short/);
		}
	});
	it('reserves apples', async () => {
		assert.strictEqual(await shop.reserve(pool, 2), -3);
	});
});
