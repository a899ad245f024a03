'use strict';
// One test leaks a checkout on reserve()'s error path; "counts" leaves
// the connection it opened resting in the shared pool (no leak).
const assert = require('assert');
const stock = require('../stock.js');

let pool;

before(() => {
	pool = stock.makePool('hooksuite-mocha');
});

describe('stock', () => {
	it('counts', async () => {
		assert.strictEqual(await stock.count(pool), 3);
	});
	it('reserves pears short', async () => {
		try {
			await stock.reserve(pool, 9);
		} catch (err) {
			assert.match(err.message, /short/);
		}
	});
	it('restocks', async () => {
		await stock.restock(pool);
	});
});
