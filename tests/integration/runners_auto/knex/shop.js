'use strict';
// A shop on knex (its own pool, tarn, over node-postgres): reserve()
// runs in a transaction that its error path never commits nor rolls
// back, so the transaction's connection is never given back
// (HOOKSUITE_HEALTHY=1: it always is).  The line test_runners_auto.sh
// expects is marked "@take".
const knex = require('knex');

const HEALTHY = process.env.HOOKSUITE_HEALTHY === '1';

function makeDb(app) {
	return knex({
		client: 'pg',
		connection: { application_name: app },
		pool: { min: 0, max: 4 },
	});
}

async function count(db) {
	const rows = await db.raw('SELECT 3 AS n');
	return rows.rows[0].n;
}

async function reserve(db, qty) {
	const trx = await db.transaction(); // @take reserve
	const res = await trx.raw('SELECT ?::int - 5 AS left', [qty]);
	if (res.rows[0].left > 0 && !HEALTHY) {
		throw new Error('short of pears'); // the error path: no rollback
	}
	await trx.rollback();
	return res.rows[0].left;
}

module.exports = { makeDb, count, reserve };
