// DuckDB side of bench/run-flights-bench.sh: the hourly delays aggregation over a CSV file.
// Usage: node bench.mjs FILE.csv THREADS[,THREADS...] REPEATS
// Prints one JSON object per line: {"version"} first, then per thread count
// {"threads", "best_s", "runs_s", "groups"}. The result is materialized into a temporary table
// (every aggregate is computed; nothing is sent back to JavaScript but the group count).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threadList = '1,2', repeatsText = '3'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench.mjs FILE.csv THREADS[,THREADS...] REPEATS');
  process.exit(2);
}
const repeats = Number(repeatsText);
const quoted = `'${file.replaceAll("'", "''")}'`;
const query = `
CREATE OR REPLACE TEMP TABLE hourly AS
SELECT origin,
       date_trunc('hour', "date") AS window_start,
       COUNT(*) AS flights,
       AVG(CAST(delay AS DOUBLE)) AS avg_delay,
       MAX(delay) AS max_delay,
       CAST(COUNT(*) FILTER (WHERE delay > 15) AS DOUBLE) / COUNT(*) AS delayed_share
FROM read_csv(${quoted})
GROUP BY origin, date_trunc('hour', "date")`;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const one = async (sql) => (await conn.runAndReadAll(sql)).getRows()[0][0];
console.log(JSON.stringify({ version: String(await one('SELECT version()')) }));
// Auto-detection must see a TIMESTAMP, as eddy's table declares.
const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_csv(${quoted})`)).getRows();
console.log(JSON.stringify({ detected: types.map((r) => `${r[0]} ${r[1]}`).join(', ') }));
for (const threads of threadList.split(',').map(Number)) {
  await conn.run(`SET threads = ${threads}`);
  const runs = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await conn.run(query);
    runs.push((performance.now() - t0) / 1000);
  }
  const groups = Number(await one('SELECT COUNT(*) FROM hourly'));
  console.log(JSON.stringify({ threads, best_s: Math.min(...runs), runs_s: runs, groups }));
}
