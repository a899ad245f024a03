'use strict';
// Tests whose checkouts pgdrip's hooks must name, under jest (pg loaded
// by jest into the tests' own context): each take's "test" is the test
// whose body took it (its title is the stack's first function).
const { Pool } = require('pg');

const kept = [];
let pool;

beforeAll(() => {
	pool = new Pool({ application_name: 'hk-jest', max: 4 });
});

describe('pool', () => {
	test('returned', async function returned() {
		const client = await pool.connect();
		client.release();
	});
	test('never_returned', async function never_returned() {
		kept.push(await pool.connect());
		expect(kept.length).toBeGreaterThan(0);
	});
	test('queried', async function queried() {
		const res = await pool.query('SELECT 1 AS n');
		expect(res.rows[0].n).toBe(1);
	});
});
