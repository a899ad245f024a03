'use strict';
// One test leaks a checkout on reserve()'s error path; "counts" leaves
// the connection it opened resting in the shared pool (no leak).
const stock = require('../stock.js');

let pool;

beforeAll(() => {
	pool = stock.makePool('hooksuite-jest');
});

describe('stock', () => {
	test('counts', async () => {
		expect(await stock.count(pool)).toBe(3);
	});
	test('reserves pears short', async () => {
		if (process.env.HOOKSUITE_HEALTHY === '1') {
			expect(await stock.reserve(pool, 9)).toBe(4);
		} else {
			await expect(stock.reserve(pool, 9)).rejects.toThrow('short');
		}
	});
	test('restocks', async () => {
		await stock.restock(pool);
	});
});
