'use strict';
// mocha on the knex shop: one test leaks its transaction's connection on
// reserve()'s error path; the others take and give back.
const assert = require('assert');
const shop = require('./shop.js');

describe('knex shop', () => {
	let db;
	before(() => {
		db = shop.makeDb('runauto-knex');
	});
	it('counts', async () => {
		assert.strictEqual(await shop.count(db), 3);
	});
	it('reserves pears short', async () => {
		if (process.env.HOOKSUITE_HEALTHY === '1') {
			assert.strictEqual(await shop.reserve(db, 9), 4);
		} else {
			await assert.rejects(shop.reserve(db, 9), /short/);
		}
	});
	it('counts again', async () => {
		assert.strictEqual(await shop.count(db), 3);
	});
});
