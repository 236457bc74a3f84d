// DuckDB peer of scripts/bench.sh: the same GROUP BY tenant, item over the
// same gzip CSV files, exact decimals.
//
//   node bench-duckdb.mjs MODULE_DIR GLOB THREADS
//
// MODULE_DIR is the npm --prefix that holds node_modules/@duckdb/node-api
// (bench.sh installs it under bench-data/, which git ignores).  Prints one
// line: groups=N records=N query_s=S version=V.  Exit 1 on any error.
import { createRequire } from 'node:module';
import path from 'node:path';

const [modDir, glob, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
if (!modDir || !glob || !Number.isInteger(threads) || threads < 1) {
  console.error('usage: node bench-duckdb.mjs MODULE_DIR GLOB THREADS');
  process.exit(2);
}
const require = createRequire(path.resolve(modDir) + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`SET threads = ${threads}`);
const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];

// Types fixed up front (no sniffing): the timestamp is parsed and the
// quantity is an exact decimal, like settle does; status, dims and unit
// are read but not interpreted.
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const sql = `SELECT tenant_id, item, count(*) AS n, sum(quantity) AS quantity
FROM read_csv(${q(glob)}, header = true, auto_detect = false, delim = ',',
  quote = '"', escape = '"', compression = 'gzip',
  columns = {'record_id': 'VARCHAR', 'tenant_id': 'VARCHAR', 'item': 'VARCHAR',
             'ts': 'TIMESTAMPTZ', 'quantity': 'DECIMAL(18,6)',
             'status': 'VARCHAR', 'dims': 'VARCHAR', 'unit': 'VARCHAR'})
GROUP BY ALL`;

const t0 = process.hrtime.bigint();
const rows = (await con.runAndReadAll(sql)).getRows();
const t1 = process.hrtime.bigint();
let records = 0n;
for (const row of rows) records += BigInt(row[2]);
console.log(`groups=${rows.length} records=${records} ` +
  `query_s=${(Number(t1 - t0) / 1e9).toFixed(3)} version=${version}`);
con.closeSync();
inst.closeSync();
