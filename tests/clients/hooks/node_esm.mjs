// node-postgres imported by an ES module (which reaches pg through the
// CommonJS loader by its path): its Client is hooked all the same.
import pg from 'pg';

const client = new pg.Client({ application_name: 'hk-esm' });
await client.connect(); // @hook open pg hk-esm close:close
process.stdout.write(`answer ${(await client.query('SELECT 42 AS n')).rows[0].n}\n`);
await client.end();
