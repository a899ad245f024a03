// node --test, an ES module with node:test's default export, no pgdrip
// line anywhere: "reserves pears short" leaks a checkout.
import test, { describe, it, before } from 'node:test';
import assert from 'node:assert';
import { createRequire } from 'node:module';

const shop = createRequire(import.meta.url)('../shop.js');
let pool;

before(() => {
	pool = shop.makePool('runauto-nodetest');
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
});

test('reserves apples', async (t) => {
	await t.test('twice', async () => {
		assert.strictEqual(await shop.reserve(pool, 2), -3);
		assert.strictEqual(await shop.reserve(pool, 1), -4);
	});
});
