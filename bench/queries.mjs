// SPDX-License-Identifier: MIT
//
// bench/queries.mjs: latency of the four benchmark queries of the query-engine issue on the
// TSBS cpu-only day, for silt (SQL over HTTP, /api/v3/query_sql) and for DuckDB over the very
// Parquet files silt persisted (threads=2, in process, the engine of ../shared/tools/pqsql).
//
//   node bench/queries.mjs --url http://127.0.0.1:PORT --db benchmark --files 'DIR/**/*.parquet'
//        [--reps 5] [--warmup 1] [--start 1451606400] [--host host_0]
//
//   q1  max(usage_user) per minute for one host over 12 h
//   q2  mean of all 10 fields per host per hour over the day
//   q3  last point per host
//   q4  count of every field over everything (InfluxQL's count(*))
//
// Prints one line per engine and query with the median, min and max of the timed runs and
// the number of result rows (the engines must agree), then a RESULT line of JSON. Silt's
// time includes HTTP and JSON formatting; "flight" is silt again, through the official
// InfluxDB 3 JS client (Arrow Flight over gRPC, every row read as an object); DuckDB's is in
// process (fetching every row). Resolves @duckdb/node-api and @influxdata/influxdb3-client
// from tests/e2e/node_modules (installed by `mk/deps.sh test`).

import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/e2e/package.json'));
const duck = await import(require.resolve('@duckdb/node-api'));
const { InfluxDBClient } = await import(require.resolve('@influxdata/influxdb3-client'));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const url = new URL(args.url);
const db = args.db || 'benchmark';
const reps = Number(args.reps || 5);
const warmup = Number(args.warmup || 1);
const t0 = Number(args.start || 1451606400);
const host = args.host || 'host_0';
const TAGS = ['region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version',
  'service_environment'];
const FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait',
  'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const isoDuck = (s) => new Date(s * 1000).toISOString().replace('T', ' ').replace('.000Z', '');

const silt = {
  q1: `SELECT date_bin(INTERVAL '1 minute', time) AS time, max(usage_user) AS max FROM cpu WHERE hostname = '${host}' AND time >= '${iso(t0)}' AND time < '${iso(t0 + 12 * 3600)}' GROUP BY 1 ORDER BY 1`,
  q2: `SELECT hostname, date_bin(INTERVAL '1 hour', time) AS time, ${FIELDS.map((f) => `avg(${f}) AS mean_${f}`).join(', ')} FROM cpu WHERE time >= '${iso(t0)}' AND time < '${iso(t0 + 86400)}' GROUP BY 1, 2 ORDER BY 1, 2`,
  q3: `SELECT hostname, max(time) AS time, ${[...TAGS, ...FIELDS].map((c) => `last_value(${c} ORDER BY time) AS ${c}`).join(', ')} FROM cpu GROUP BY hostname ORDER BY hostname`,
  q4: `SELECT ${FIELDS.map((f) => `count(${f}) AS count_${f}`).join(', ')} FROM cpu`,
};
const duckSql = {
  q1: `SELECT time_bucket(INTERVAL '1 minute', time) AS time, max(usage_user) AS max FROM cpu WHERE hostname = '${host}' AND time >= TIMESTAMP_NS '${isoDuck(t0)}' AND time < TIMESTAMP_NS '${isoDuck(t0 + 12 * 3600)}' GROUP BY 1 ORDER BY 1`,
  q2: `SELECT hostname, time_bucket(INTERVAL '1 hour', time) AS time, ${FIELDS.map((f) => `avg(${f}) AS mean_${f}`).join(', ')} FROM cpu WHERE time >= TIMESTAMP_NS '${isoDuck(t0)}' AND time < TIMESTAMP_NS '${isoDuck(t0 + 86400)}' GROUP BY 1, 2 ORDER BY 1, 2`,
  q3: `SELECT hostname, arg_max(COLUMNS(* EXCLUDE (hostname)), time) FROM cpu GROUP BY hostname ORDER BY hostname`,
  q4: `SELECT ${FIELDS.map((f) => `count(${f}) AS count_${f}`).join(', ')} FROM cpu`,
};
// q3: the whole last row of every host, as DuckDB's arg_max(COLUMNS(*), time) returns it

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function siltQuery(sql) {
  const q = new URLSearchParams({ db, q: sql, format: 'json' });
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = http.get({ host: url.hostname, port: url.port, path: `/api/v3/query_sql?${q}`, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        const body = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
        resolve({ ms, rows: JSON.parse(body).length });
      });
    });
    req.on('error', reject);
  });
}

const flightClient = new InfluxDBClient({ host: url.origin, token: 'unused', database: db });
async function flightQuery(sql) {
  const t = process.hrtime.bigint();
  let rows = 0;
  for await (const r of flightClient.query(sql, db)) if (r) rows++;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, rows };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timeIt(fn) {
  let rows = 0;
  for (let i = 0; i < warmup; i++) rows = (await fn()).rows;
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const r = await fn();
    ms.push(r.ms);
    rows = r.rows;
  }
  return { median_ms: median(ms), min_ms: Math.min(...ms), max_ms: Math.max(...ms), rows };
}

const inst = await duck.DuckDBInstance.create(':memory:');
const conn = await inst.connect();
await conn.run('SET threads = 2');
await conn.run(`CREATE VIEW cpu AS SELECT * FROM read_parquet('${args.files.replace(/'/g, "''")}')`);
async function duckQuery(sql) {
  const t = process.hrtime.bigint();
  const r = await conn.runAndReadAll(sql);
  const rows = r.getRows().length;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, rows };
}

const out = { silt: {}, flight: {}, duckdb: {} };
for (const q of ['q1', 'q2', 'q3', 'q4']) {
  try {
    out.silt[q] = await timeIt(() => siltQuery(silt[q]));
  } catch (e) {
    out.silt[q] = { error: e.message };
  }
  try {
    out.flight[q] = await timeIt(() => flightQuery(silt[q]));
  } catch (e) {
    out.flight[q] = { error: e.message };
  }
  out.duckdb[q] = await timeIt(() => duckQuery(duckSql[q]));
  for (const eng of ['silt', 'flight', 'duckdb']) {
    const r = out[eng][q];
    console.log(r.error
      ? `${eng.padEnd(7)} ${q}  ERROR ${r.error}`
      : `${eng.padEnd(7)} ${q}  median ${r.median_ms.toFixed(2).padStart(9)} ms  (min ${r.min_ms.toFixed(2)}, max ${r.max_ms.toFixed(2)})  rows ${r.rows}`);
  }
  const s = out.silt[q], d = out.duckdb[q];
  if (!s.error) console.log(`        ${q}  silt / DuckDB = ${(s.median_ms / d.median_ms).toFixed(2)}${s.rows !== d.rows ? `  ROW COUNTS DIFFER (${s.rows} vs ${d.rows})` : ''}`);
  const f = out.flight[q];
  if (!f.error && f.rows !== d.rows) console.log(`        ${q}  FLIGHT ROW COUNT DIFFERS (${f.rows} vs ${d.rows})`);
}
console.log(`RESULT ${JSON.stringify(out)}`);
conn.closeSync();
inst.closeSync();
agent.destroy();
await flightClient.close();
