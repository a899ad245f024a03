'use strict';
// Tests whose checkouts pgdrip's hooks must name: each take's "test" is
// the test whose body took it (its title is the stack's first function).
const assert = require('assert');
const { Pool } = require('pg');

const kept = [];
let pool;

// Never ended: a client is never returned (mocha --exit ends the run).
before(() => {
	pool = new Pool({ application_name: 'hk-mocha', max: 4 });
});

describe('pool', () => {
	it('returned', async function returned() {
		const client = await pool.connect();
		client.release();
	});
	it('never_returned', async function never_returned() {
		kept.push(await pool.connect());
		assert.ok(kept.length > 0);
	});
	it('queried', async function queried() {
		const res = await pool.query('SELECT 1 AS n');
		assert.strictEqual(res.rows[0].n, 1);
	});
});
