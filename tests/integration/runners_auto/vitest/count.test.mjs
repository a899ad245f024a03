// A second vitest file, so that a worker running files one after
// another (--no-isolate --maxWorkers 1) makes a test runner for each:
// its tests give back what they take, to a pool of their own that is
// ended after them.
import { afterAll, beforeAll, expect, test } from 'vitest';
import stock from '../stock.js';

let pool;

beforeAll(() => {
	pool = stock.makePool('runauto-vcount');
});

afterAll(() => pool.end());

test('counts again', async () => {
	expect(await stock.count(pool)).toBe(3);
});

test('counts once more', async () => {
	expect(await stock.count(pool)).toBe(3);
});
