'use strict';
// The shop the node suites test (mocha/, jest/, nodetest/), none of
// which names pgdrip: reserve() takes a client from the pool and, on its
// error path, never gives it back (RUNAUTO_HEALTHY=1: it always does).
// test_runners_auto.sh expects the line marked "@take".
const { Pool } = require('pg');

const HEALTHY = process.env.RUNAUTO_HEALTHY === '1';

function makePool(app) {
	return new Pool({ application_name: app, max: 4 });
}

async function reserve(pool, qty) {
	const client = await pool.connect(); // @take reserve
	const res = await client.query('SELECT $1::int - 5 AS left', [qty]);
	if (res.rows[0].left > 0 && !HEALTHY) {
		throw new Error('short of pears'); // the error path: no release
	}
	client.release();
	return res.rows[0].left;
}

async function count(pool) {
	const res = await pool.query('SELECT 3 AS n');
	return res.rows[0].n;
}

module.exports = { makePool, reserve, count };
