// vitest on the node suites' shop (stock.js, copied beside this folder):
// one test leaks a checkout on reserve()'s error path; "counts" leaves
// the connection it opened resting in the shared pool (no leak).  The
// pool is never ended, as in the jest suite: vitest ends its workers.
import { beforeAll, describe, expect, test } from 'vitest';
import stock from '../stock.js';

let pool;

beforeAll(() => {
	pool = stock.makePool('runauto-vitest');
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
