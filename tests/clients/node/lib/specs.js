'use strict';
// The test files' bodies, shared by the mocha and jest suites: each
// takes the runner's describe/it/beforeAll/afterAll.  28 tests.

const assert = require('assert');
const suite = require('./suite');

// Leaked clients stay referenced here, as a forgotten cache keeps them.
const kept = [];

// orders: a pg.Client per test; a leaking test never calls end().
function orders({ describe, it }) {
	describe('orders', () => {
		for (let n = 0; n < 12; n++) {
			const title = `lookup #${n}`;
			const leak = suite.leakCapable(`orders ${title}`);
			it(title, async () => {
				const client = await suite.connectClient(
					leak ? 'client-never-ended' : 'client', leak);
				const r = await client.query('SELECT $1::int * 2 AS v',
					[n]);
				assert.strictEqual(r.rows[0].v, 2 * n);
				if (leak) {
					kept.push(client); // the bug: no end()
				} else {
					await client.end();
				}
				assert.ok((await suite.lookup()) > 0);
				await suite.pause();
			});
		}
	});
}

// reports: a pg.Pool per test; a leaking test never calls pool.end().
function reports({ describe, it }) {
	describe('reports', () => {
		for (let n = 0; n < 10; n++) {
			const title = `pool #${n}`;
			const leak = suite.leakCapable(`reports ${title}`);
			it(title, async () => {
				const pool = suite.newPool(
					leak ? 'pool-never-ended' : 'pool', leak);
				const r = await pool.query(
					'SELECT count(*)::int AS n FROM generate_series(1, $1)',
					[n + 1]);
				assert.strictEqual(r.rows[0].n, n + 1);
				if (leak) {
					kept.push(pool); // the bug: no end()
				} else {
					await pool.end();
				}
				await suite.pause();
			});
		}
	});
}

// catalog: one pool for the whole file, made before the first test and
// ended after the last; not a leak.
function catalog({ describe, it, beforeAll, afterAll }) {
	describe('catalog', () => {
		let pool;
		beforeAll(() => {
			pool = suite.newPool('file-pool', false, 2);
		});
		afterAll(() => pool.end());
		for (let n = 0; n < 6; n++) {
			it(`item #${n}`, async () => {
				const r = await pool.query('SELECT $1::int + 1 AS v', [n]);
				assert.strictEqual(r.rows[0].v, n + 1);
				assert.ok((await suite.lookup()) > 0);
				await suite.pause();
			});
		}
	});
}

module.exports = { orders, reports, catalog };
