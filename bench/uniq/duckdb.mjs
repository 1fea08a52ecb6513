// DuckDB side of the uniq benchmark: node duckdb.mjs lines|column|records|key|by|dedup FILE [COLUMN]
// Prints the distinct count. DuckDB comes from the npm package @duckdb/node-api
// (it ships its own binary); run `npm install` here first.
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, file, column = 'user_id'] = process.argv.slice(2);
const path = file.replaceAll("'", "''");
const csv = `read_csv('${path}', header = true, all_varchar = true)`;
const queries = {
  // One VARCHAR column per physical line: no quoting, a delimiter that never occurs.
  lines: `SELECT count(DISTINCT trim(line)) FROM read_csv('${path}', header = false, auto_detect = false,
            columns = {'line': 'VARCHAR'}, delim = '\x1f', quote = '', escape = '', strict_mode = false)`,
  column: `SELECT count(DISTINCT "${column}") FROM ${csv}`,
  records: `SELECT count(*) FROM (SELECT DISTINCT * FROM ${csv})`,
  // The new modes: composite key, per group (distinct pairs added up), dedup by a key written out.
  key: `SELECT count(*) FROM (SELECT DISTINCT "${column}", country FROM ${csv})`,
  by: `SELECT sum(n) FROM (SELECT count(DISTINCT "${column}") AS n FROM ${csv} GROUP BY country)`,
  dedup: `COPY (SELECT DISTINCT ON ("${column}") * FROM ${csv}) TO '${path}.duckdb-dedup.csv' (HEADER)`,
};
if (!queries[mode]) {
  console.error('usage: node duckdb.mjs lines|column|records|key|by|dedup FILE [COLUMN]');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const reader = await conn.runAndReadAll(queries[mode]);
console.log(String(reader.getRows()[0][0]));
