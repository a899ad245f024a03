// node --test, an ES module on node:test's default export, naming
// pgdrip nowhere: the shop of test_hooks_e2e (stock.js, copied beside
// by test_runners_auto.sh), whose reserve() leaks a checkout on its
// error path unless HOOKSUITE_HEALTHY=1.  "shop > reserves pears short"
// leaks; "reserves twice" is one test with its two subtests.
import test, { describe, it, before } from 'node:test';
import assert from 'node:assert';
import { createRequire } from 'node:module';

const stock = createRequire(import.meta.url)('../stock.js');
let pool;

before(() => {
	pool = stock.makePool('runauto-nodetest');
});

describe('shop', () => {
	it('counts', async () => assert.strictEqual(await stock.count(pool), 3));
	it('reserves pears short', async () => {
		const left = await stock.reserve(pool, 9).catch((err) => err.message);
		assert.ok(left === 4 || /short/.test(left), String(left));
	});
	it('reserves apples', async () =>
		assert.strictEqual(await stock.reserve(pool, 2), -3));
});

test('reserves twice', async (t) => {
	for (const [qty, left] of [[2, -3], [1, -4]]) {
		await t.test(`${qty} plums`, async () =>
			assert.strictEqual(await stock.reserve(pool, qty), left));
	}
});
