// SPDX-License-Identifier: MIT
//
// The pretty and parquet formats of /api/v3/query_sql and `silt query --format`: pretty byte
// for byte (arrow's ASCII table: borders, left-aligned padded cells, empty NULLs, an empty
// result's header); parquet as the response body (application/vnd.apache.parquet), checked
// by ../shared/tools/pqcheck (DuckDB, arrow-rs and hyparquet agree, pages and statistics
// sound) and read back with DuckDB, value for value equal to the json answer; GET and POST;
// system tables in both formats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, runSilt } from '../lib/server.mjs';
import { pqcheck, pqsql } from '../lib/storage.mjs';
import { nsToTime } from '../lib/util.mjs';
import { DB, loadData } from './data.mjs';

let srv;
let tmp;
before(async () => {
  srv = await startServer();
  await loadData(srv);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'silt-fmt-'));
});
after(async () => {
  await srv.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const PRETTY = [
  '+--------+---------+-------+-------------+-------------------------+',
  '| city   | country | temp  | note        | time                    |',
  '+--------+---------+-------+-------------+-------------------------+',
  '| Paris  | FR      | 12.5  | mild, "dry" | 2023-11-14T22:13:20     |',
  '| Berlin | DE      | -3.25 |             | 2023-11-14T22:14:20     |',
  '| Tokyo  | JP      | 20.75 | sunny       | 2023-11-14T22:15:20     |',
  '| Paris  | FR      | 13.5  |             | 2023-11-14T22:16:20     |',
  '| Oslo   |         | 0.5   |             | 2023-11-14T22:17:20.500 |',
  '+--------+---------+-------+-------------+-------------------------+',
].join('\n'); // no line break at the end, as InfluxDB 3 answers
const PRETTY_SQL = 'SELECT city, country, temp, note, time FROM weather ORDER BY time';

test('format=pretty: the ASCII table, byte for byte, over GET and POST', async () => {
  for (const method of ['GET', 'POST']) {
    const r = await srv.queryRaw(DB, PRETTY_SQL, { format: 'pretty', method });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(r.text, PRETTY, method);
  }
  const agg = await srv.queryRaw(DB, 'SELECT city, count(*) AS n FROM weather GROUP BY city ORDER BY n DESC, city LIMIT 2', { format: 'PRETTY' });
  assert.equal(agg.text, [
    '+--------+---+',
    '| city   | n |',
    '+--------+---+',
    '| Paris  | 2 |',
    '| Berlin | 1 |',
    '+--------+---+',
  ].join('\n'));
});

test('format=pretty: an empty result is its header between borders; system tables print too', async () => {
  const r = await srv.queryRaw(DB, "SELECT city, temp FROM weather WHERE city = 'nowhere'", { format: 'pretty' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '+------+------+\n| city | temp |\n+------+------+\n+------+------+');
  const t = await srv.queryRaw(DB, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'information_schema'", { format: 'pretty' });
  assert.equal(t.text, [
    '+--------------+---------------+',
    '| table_schema | table_name    |',
    '+--------------+---------------+',
    '| iox          | air           |',
    '| iox          | weather       |',
    '| system       | parquet_files |',
    '+--------------+---------------+',
  ].join('\n'));
});

/* The json answer of sql with times as ns, to compare with DuckDB's rows of the Parquet. */
const timeOf = (v) => (typeof v === 'number' ? nsToTime(BigInt(v)) : v);

async function parquetOf(sql, name) {
  const r = await srv.queryRaw(DB, sql, { format: 'parquet' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['content-type'], 'application/vnd.apache.parquet');
  assert.equal(r.body.subarray(0, 4).toString(), 'PAR1');
  assert.equal(r.body.subarray(r.body.length - 4).toString(), 'PAR1');
  const file = path.join(tmp, name);
  fs.writeFileSync(file, r.body);
  const chk = await pqcheck(file);
  assert.equal(chk.code, 0, chk.out);
  return file;
}

test('format=parquet: a Parquet file every reader accepts, equal value for value to the json answer', async () => {
  const sql = 'SELECT * FROM weather ORDER BY time';
  const file = await parquetOf(sql, 'all.parquet');
  const want = await srv.query(DB, sql);
  const got = await pqsql(file, 'SELECT * FROM t');
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const g = {};
    for (const [k, v] of Object.entries(got[i])) if (v !== null) g[k] = k === 'time' ? timeOf(v) : v;
    assert.deepEqual(g, want[i], `row ${i}`);
  }
  // column order and types as the result's
  const cols = await pqsql(file, "SELECT column_name, column_type FROM (DESCRIBE t)");
  assert.deepEqual(cols.map((c) => c.column_name), ['city', 'country', 'hum', 'note', 'ok', 'pressure', 'temp', 'time']);
  assert.deepEqual(cols.map((c) => c.column_type), ['VARCHAR', 'VARCHAR', 'BIGINT', 'VARCHAR', 'BOOLEAN', 'UBIGINT', 'DOUBLE', 'TIMESTAMP_NS']);
});

test('format=parquet: aggregates, aliases, and an empty result (schema, no rows)', async () => {
  const sql = 'SELECT city, count(*) AS n, avg(temp) AS t, max(time) AS last FROM weather GROUP BY city ORDER BY city';
  const file = await parquetOf(sql, 'agg.parquet');
  const want = await srv.query(DB, sql);
  const got = (await pqsql(file, 'SELECT * FROM t')).map((r) => ({ ...r, last: timeOf(r.last) }));
  assert.deepEqual(got, want);
  const empty = await parquetOf("SELECT city, temp FROM weather WHERE temp > 1000", 'empty.parquet');
  assert.deepEqual(await pqsql(empty, 'SELECT count(*) AS n FROM t'), [{ n: 0 }]);
  assert.deepEqual((await pqsql(empty, 'SELECT column_name FROM (DESCRIBE t)')).map((c) => c.column_name), ['city', 'temp']);
  const sys = await parquetOf('SELECT * FROM information_schema.columns WHERE table_name = \'air\'', 'sys.parquet');
  assert.deepEqual(await pqsql(sys, 'SELECT column_name, data_type FROM t'), [
    { column_name: 'city', data_type: 'Dictionary(Int32, Utf8)' },
    { column_name: 'pm25', data_type: 'Float64' },
    { column_name: 'time', data_type: 'Timestamp(Nanosecond, None)' },
  ]);
});

test('silt query --format pretty prints the table; --format parquet --output writes the file', async () => {
  const p = await runSilt(['query', '--db', DB, '--host', srv.url, '--format', 'pretty', PRETTY_SQL]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, `${PRETTY}\n`); // the CLI ends the text with a line break
  const out = path.join(tmp, 'cli.parquet');
  const q = await runSilt(['query', '--db', DB, '--host', srv.url, '--format', 'parquet', '--output', out, PRETTY_SQL]);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout, '');
  const chk = await pqcheck(out);
  assert.equal(chk.code, 0, chk.out);
  const rows = await pqsql(out, 'SELECT city, temp FROM t');
  assert.deepEqual(rows.map((r) => r.city), ['Paris', 'Berlin', 'Tokyo', 'Paris', 'Oslo']);
  const bad = await runSilt(['query', '--db', DB, '--host', srv.url, '--format', 'xml', 'SELECT 1 FROM weather']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid format: use json, jsonl, csv, pretty, parquet or arrow/);
});
