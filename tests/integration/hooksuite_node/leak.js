'use strict';
// A plain script: its pg.Client is never ended (HOOKSUITE_HEALTHY=1: it
// is).  process.exit, as a CLI would: the open socket would keep node up.
const { Client } = require('pg');

async function main() {
	const client = new Client({ application_name: 'hooksuite-script' });
	await client.connect(); // @open main
	const res = await client.query('SELECT 42 AS answer');
	console.log(`answer ${res.rows[0].answer}`);
	if (process.env.HOOKSUITE_HEALTHY === '1') {
		await client.end();
	}
}

main().then(() => process.exit(0), (err) => {
	console.error(err.message);
	process.exit(1);
});
