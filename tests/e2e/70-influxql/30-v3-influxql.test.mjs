// SPDX-License-Identifier: MIT
//
// InfluxDB 3's InfluxQL API: GET|POST /api/v3/query_influxql answers one InfluxQL statement
// as one table -- iox::measurement, time, the GROUP BY tags, the selected columns; series
// after series, columns unioned over them (NULL where a series lacks one) -- in each format
// of /api/v3/query_sql: json, jsonl, csv, pretty byte for byte, parquet checked by
// ../shared/tools/pqcheck. SHOW statements come out as InfluxDB 3 Core prints them
// (SHOW MEASUREMENTS: iox::measurement "measurements", name; SHOW DATABASES: iox::database).
// Errors: a statement that does not parse is 400 with its line and char, an unknown
// database 404, more than one statement or a db that differs from the query's 400; a result
// above --max-query-result-size 413. `silt query --language influxql` uses the endpoint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, runSilt } from '../lib/server.mjs';
import { pqcheck, pqsql } from '../lib/storage.mjs';

const DB = 'v3db';
const DATA = [
  'cpu,host=a,region=eu usage=1.5,n=1i 1451606400000000000',
  'cpu,host=a,region=eu usage=2.5,n=2i 1451606460000000000',
  'cpu,host=b,region=us usage=10,n=10i 1451606400000000000',
  'cpu,host=b,region=us usage=20,n=20i 1451606520000000000',
  'mem,host=a free=100i 1451606400000000000',
  'mem,host=c free=7i,note="hi" 1451606460000000000',
].join('\n');
const RANGE = "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T00:04:00Z'";

let srv;
let tmp;
before(async () => {
  srv = await startServer();
  await srv.write(DB, DATA, { params: { precision: 'ns' } });
  await srv.write('other', 'x v=1 1', { params: { precision: 'ns' } });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'silt-v3iql-'));
});
after(async () => {
  await srv.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/* GET with the parameters in the query string, or POST with them in a JSON body. */
function iql(q, { db = DB, format, method = 'GET' } = {}) {
  const params = { ...(db != null ? { db } : {}), ...(q !== undefined ? { q } : {}), ...(format ? { format } : {}) };
  if (method === 'POST')
    return srv.request('POST', '/api/v3/query_influxql', {
      body: JSON.stringify(params),
      headers: { 'Content-Type': 'application/json' },
    });
  return srv.request('GET', `/api/v3/query_influxql?${new URLSearchParams(params)}`);
}

async function ok(q, opts) {
  const r = await iql(q, opts);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r;
}

const pretty = (...lines) => lines.join('\n');

test('json, jsonl, csv and pretty: the table InfluxDB 3 answers, byte for byte', async () => {
  const raw = "SELECT usage FROM cpu WHERE host = 'a'";
  let r = await ok(raw, { format: 'json' });
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(
    r.text,
    '[{"iox::measurement":"cpu","time":"2016-01-01T00:00:00","usage":1.5},' +
      '{"iox::measurement":"cpu","time":"2016-01-01T00:01:00","usage":2.5}]',
  );
  assert.equal((await ok(raw)).text, r.text, 'json is the default format');
  r = await ok(raw, { format: 'jsonl' });
  assert.equal(r.headers['content-type'], 'application/jsonl');
  assert.equal(
    r.text,
    '{"iox::measurement":"cpu","time":"2016-01-01T00:00:00","usage":1.5}\n' +
      '{"iox::measurement":"cpu","time":"2016-01-01T00:01:00","usage":2.5}\n',
  );
  r = await ok(`SELECT mean(usage) FROM cpu WHERE ${RANGE} GROUP BY host`, { format: 'csv' });
  assert.equal(r.headers['content-type'], 'text/csv');
  assert.equal(r.text, 'iox::measurement,time,host,mean\ncpu,2016-01-01T00:00:00,a,2\ncpu,2016-01-01T00:00:00,b,15\n');
  r = await ok('SELECT * FROM mem', { format: 'pretty' });
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(
    r.text,
    pretty(
      '+------------------+---------------------+------+------+------+',
      '| iox::measurement | time                | free | host | note |',
      '+------------------+---------------------+------+------+------+',
      '| mem              | 2016-01-01T00:00:00 | 100  | a    |      |',
      '| mem              | 2016-01-01T00:01:00 | 7    | c    | hi   |',
      '+------------------+---------------------+------+------+------+',
    ),
  );
});

test('GROUP BY tags: the tags follow time, sorted, one series after the other', async () => {
  let r = await ok(`SELECT max(usage) FROM cpu WHERE ${RANGE} GROUP BY time(2m), host`, { format: 'pretty' });
  assert.equal(
    r.text,
    pretty(
      '+------------------+---------------------+------+-----+',
      '| iox::measurement | time                | host | max |',
      '+------------------+---------------------+------+-----+',
      '| cpu              | 2016-01-01T00:00:00 | a    | 2.5 |',
      '| cpu              | 2016-01-01T00:02:00 | a    |     |',
      '| cpu              | 2016-01-01T00:00:00 | b    | 10  |',
      '| cpu              | 2016-01-01T00:02:00 | b    | 20  |',
      '+------------------+---------------------+------+-----+',
    ),
  );
  // GROUP BY * and a list in any order: the tags sorted by name
  const want =
    '[{"iox::measurement":"cpu","time":"1970-01-01T00:00:00","host":"a","region":"eu","sum":4},' +
    '{"iox::measurement":"cpu","time":"1970-01-01T00:00:00","host":"b","region":"us","sum":30}]';
  assert.equal((await ok('SELECT sum(usage) FROM cpu GROUP BY *')).text, want);
  assert.equal((await ok('SELECT sum(usage) FROM cpu GROUP BY region, host')).text, want);
  // a grouped tag that is also selected stays where the SELECT puts it
  r = await ok("SELECT usage, host FROM cpu WHERE region = 'us' GROUP BY host");
  assert.equal(
    r.text,
    '[{"iox::measurement":"cpu","time":"2016-01-01T00:00:00","usage":10,"host":"b"},' +
      '{"iox::measurement":"cpu","time":"2016-01-01T00:02:00","usage":20,"host":"b"}]',
  );
});

test('several measurements: one table, the union of their columns, NULL where one lacks a column', async () => {
  let r = await ok("SELECT usage, free FROM cpu, mem WHERE host = 'a'", { format: 'pretty' });
  assert.equal(
    r.text,
    pretty(
      '+------------------+---------------------+-------+------+',
      '| iox::measurement | time                | usage | free |',
      '+------------------+---------------------+-------+------+',
      '| cpu              | 2016-01-01T00:00:00 | 1.5   |      |',
      '| cpu              | 2016-01-01T00:01:00 | 2.5   |      |',
      '| mem              | 2016-01-01T00:00:00 |       | 100  |',
      '+------------------+---------------------+-------+------+',
    ),
  );
  r = await ok('SELECT last(*) FROM /./ GROUP BY host', { format: 'csv' });
  assert.equal(
    r.text,
    'iox::measurement,time,host,last_n,last_usage,last_free,last_note\n' +
      'cpu,1970-01-01T00:00:00,a,2,2.5,,\n' +
      'cpu,1970-01-01T00:00:00,b,20,20,,\n' +
      'mem,1970-01-01T00:00:00,a,,,100,\n' +
      'mem,1970-01-01T00:00:00,c,,,7,hi\n',
  );
});

test('SHOW statements come out as InfluxDB 3 Core prints them', async () => {
  const cases = [
    ['SHOW MEASUREMENTS', {}, '[{"iox::measurement":"measurements","name":"cpu"},{"iox::measurement":"measurements","name":"mem"}]'],
    ['SHOW MEASUREMENTS ON v3db', { db: null }, '[{"iox::measurement":"measurements","name":"cpu"},{"iox::measurement":"measurements","name":"mem"}]'],
    ['SHOW TAG KEYS FROM cpu', {}, '[{"iox::measurement":"cpu","tagKey":"host"},{"iox::measurement":"cpu","tagKey":"region"}]'],
    [
      'SHOW FIELD KEYS',
      {},
      '[{"iox::measurement":"cpu","fieldKey":"n","fieldType":"integer"},{"iox::measurement":"cpu","fieldKey":"usage","fieldType":"float"},' +
        '{"iox::measurement":"mem","fieldKey":"free","fieldType":"integer"},{"iox::measurement":"mem","fieldKey":"note","fieldType":"string"}]',
    ],
    [
      'SHOW TAG VALUES WITH KEY = "host"',
      {},
      '[{"iox::measurement":"cpu","key":"host","value":"a"},{"iox::measurement":"cpu","key":"host","value":"b"},' +
        '{"iox::measurement":"mem","key":"host","value":"a"},{"iox::measurement":"mem","key":"host","value":"c"}]',
    ],
    ['SHOW DATABASES', { db: null }, '[{"iox::database":"other"},{"iox::database":"v3db"}]'],
    ['SHOW RETENTION POLICIES', { db: null }, '[{"iox::database":"other","name":"autogen"},{"iox::database":"v3db","name":"autogen"}]'],
    ['SHOW RETENTION POLICIES', {}, '[{"iox::database":"v3db","name":"autogen"}]'],
    ['SHOW RETENTION POLICIES ON other', { db: null }, '[{"iox::database":"other","name":"autogen"}]'],
    ['SHOW SERIES FROM cpu', {}, '[{"key":"cpu,host=a,region=eu"},{"key":"cpu,host=b,region=us"}]'],
  ];
  for (const [q, opts, want] of cases) assert.equal((await ok(q, opts)).text, want, q);
  const r = await ok('SHOW MEASUREMENTS', { format: 'pretty' });
  assert.equal(
    r.text,
    pretty(
      '+------------------+------+',
      '| iox::measurement | name |',
      '+------------------+------+',
      '| measurements     | cpu  |',
      '| measurements     | mem  |',
      '+------------------+------+',
    ),
  );
  const rp = await ok('SHOW RETENTION POLICIES', { format: 'csv' });
  assert.equal(rp.text, 'iox::database,name,duration\nv3db,autogen,\n');
});

test('GET and POST take the same parameters and give the same answer; db may be in the query', async () => {
  const q = `SELECT max(usage) FROM cpu WHERE ${RANGE} GROUP BY time(1m), host fill(none)`;
  const want =
    '[{"iox::measurement":"cpu","time":"2016-01-01T00:00:00","host":"a","max":1.5},' +
    '{"iox::measurement":"cpu","time":"2016-01-01T00:01:00","host":"a","max":2.5},' +
    '{"iox::measurement":"cpu","time":"2016-01-01T00:00:00","host":"b","max":10},' +
    '{"iox::measurement":"cpu","time":"2016-01-01T00:02:00","host":"b","max":20}]';
  assert.equal((await ok(q)).text, want);
  assert.equal((await ok(q, { method: 'POST' })).text, want);
  for (const format of ['jsonl', 'csv', 'pretty'])
    assert.equal((await ok(q, { method: 'POST', format })).text, (await ok(q, { format })).text, format);
  const fq = q.replace('FROM cpu', 'FROM v3db.autogen.cpu');
  assert.equal((await ok(fq, { db: null })).text, want);
  assert.equal((await ok(fq, { db: DB, method: 'POST' })).text, want);
});

test('format=parquet: a Parquet file every reader accepts, holding the json answer', async () => {
  const q = "SELECT usage, free, note FROM cpu, mem WHERE host = 'a' OR host = 'c'";
  for (const method of ['GET', 'POST']) {
    const r = await ok(q, { format: 'parquet', method });
    assert.equal(r.headers['content-type'], 'application/vnd.apache.parquet');
    assert.equal(r.body.subarray(0, 4).toString(), 'PAR1');
    const file = path.join(tmp, `union-${method}.parquet`);
    fs.writeFileSync(file, r.body);
    const chk = await pqcheck(file);
    assert.equal(chk.code, 0, chk.out);
    const rows = await pqsql(file, 'SELECT * FROM t');
    assert.deepEqual(rows, [
      { 'iox::measurement': 'cpu', time: 1451606400000000000, usage: 1.5, free: null, note: null },
      { 'iox::measurement': 'cpu', time: 1451606460000000000, usage: 2.5, free: null, note: null },
      { 'iox::measurement': 'mem', time: 1451606400000000000, usage: null, free: 100, note: null },
      { 'iox::measurement': 'mem', time: 1451606460000000000, usage: null, free: 7, note: 'hi' },
    ]);
  }
  const show = await ok('SHOW TAG KEYS', { format: 'parquet' });
  const file = path.join(tmp, 'show.parquet');
  fs.writeFileSync(file, show.body);
  const chk = await pqcheck(file);
  assert.equal(chk.code, 0, chk.out);
  assert.deepEqual(await pqsql(file, 'SELECT * FROM t'), [
    { 'iox::measurement': 'cpu', tagKey: 'host' },
    { 'iox::measurement': 'cpu', tagKey: 'region' },
    { 'iox::measurement': 'mem', tagKey: 'host' },
  ]);
});

test('an empty result: no columns, as arrow writes a result without batches', async () => {
  const q = 'SELECT * FROM nosuchmeasurement';
  assert.equal((await ok(q)).text, '[]');
  assert.equal((await ok(q, { format: 'jsonl' })).text, '');
  assert.equal((await ok(q, { format: 'csv' })).text, '');
  assert.equal((await ok(q, { format: 'pretty' })).text, '++\n++');
  assert.equal((await ok(q, { format: 'parquet' })).body.length, 0);
});

test('errors: parse errors with their position, unknown databases, one statement per query', async () => {
  const cases = [
    ['SELECT FROM cpu', {}, 400, 'error in InfluxQL statement: found FROM, expected identifier, string, number, bool at line 1, char 8'],
    ['SELECT usage\nFROM cpu WHERE', {}, 400, /^error in InfluxQL statement: found EOF, expected .* at line 2, char 15$/],
    ['SELECT * FROM cpu', { db: 'nosuchdb' }, 404, 'database not found: nosuchdb'],
    ['SELECT * FROM nosuchdb.autogen.cpu', { db: null }, 404, 'database not found: nosuchdb'],
    ['SHOW RETENTION POLICIES ON nosuchdb', { db: null }, 404, 'database not found: nosuchdb'],
    ['SELECT * FROM cpu; SELECT * FROM mem', {}, 400, 'must provide only one InfluxQl statement per query'],
    ['SELECT * FROM cpu', { db: null }, 400, "must specify a 'db' parameter, or provide the database in the InfluxQL query"],
    ['SELECT * FROM other.autogen.x', {}, 400, /^provided a database in both the parameters \(v3db\) and query string \(other\) that do not match/],
    [undefined, {}, 400, "missing required parameter 'q'"],
    ['SELECT * FROM cpu', { format: 'xml' }, 400, /invalid format/],
  ];
  for (const [q, opts, status, msg] of cases) {
    for (const method of ['GET', 'POST']) {
      const r = await iql(q, { ...opts, method });
      assert.equal(r.status, status, `${method} ${q}: ${r.text}`);
      assert.equal(r.headers['content-type'], 'application/json');
      const { error } = r.json();
      if (typeof msg === 'string') assert.equal(error, msg, q);
      else assert.match(error, msg, q);
    }
  }
  // and the server goes on answering
  assert.equal((await ok('SHOW MEASUREMENTS')).status, 200);
});

test('--max-query-result-size holds for InfluxQL tables: 413 past it', async (t) => {
  const small = await startServer({ t, args: ['--max-query-result-size', '1024'] });
  await small.write('lim', Array.from({ length: 200 }, (_, i) => `big v=${i}i ${i + 10}`).join('\n'));
  for (const format of ['json', 'csv', 'pretty', 'parquet']) {
    const r = await small.request('GET', `/api/v3/query_influxql?${new URLSearchParams({ db: 'lim', q: 'SELECT * FROM big', format })}`);
    assert.equal(r.status, 413, `${format}: ${r.text}`);
    assert.match(r.json().error, /1024/);
  }
  const r = await small.request('GET', `/api/v3/query_influxql?${new URLSearchParams({ db: 'lim', q: 'SELECT v FROM big LIMIT 2' })}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '[{"iox::measurement":"big","time":"1970-01-01T00:00:10","v":0},{"iox::measurement":"big","time":"1970-01-01T00:00:11","v":1}]');
});

test('silt query --language influxql runs the statement through /api/v3/query_influxql', async () => {
  const q = "SELECT usage FROM cpu WHERE host = 'a'";
  const j = await runSilt(['query', '--db', DB, '--host', srv.url, '--language', 'influxql', q]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout, `${(await ok(q)).text}\n`);
  const c = await runSilt(['query', '--host', srv.url, '-l', 'InfluxQL', '--format', 'csv', 'SHOW TAG KEYS ON v3db FROM mem']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'iox::measurement,tagKey\nmem,host\n');
  const e = await runSilt(['query', '--db', DB, '--host', srv.url, '--language', 'influxql', 'SELECT FROM cpu']);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /HTTP 400: error in InfluxQL statement: found FROM, expected .* at line 1, char 8/);
  const bad = await runSilt(['query', '--db', DB, '--host', srv.url, '--language', 'flux', 'from()']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--language must be sql or influxql/);
  // without --language (or with sql) it is SQL, which still needs --db
  const sql = await runSilt(['query', '--host', srv.url, '--language', 'sql', 'SELECT 1']);
  assert.equal(sql.code, 2);
  assert.match(sql.stderr, /--db and a SQL statement are required/);
});

test('the same answers from Parquet files after a restart persisted the data', async () => {
  const queries = [
    ['SELECT * FROM mem', 'pretty'],
    [`SELECT max(usage) FROM cpu WHERE ${RANGE} GROUP BY time(1m), host fill(none)`, 'json'],
    ["SELECT usage, free FROM cpu, mem WHERE host = 'a'", 'csv'],
    ['SHOW TAG VALUES WITH KEY = "host"', 'jsonl'],
    ['SHOW FIELD KEYS', 'json'],
  ];
  const before = [];
  for (const [q, format] of queries) before.push((await ok(q, { format })).text);
  await srv.restart(); // a graceful stop persists the buffer to Parquet files
  const [files] = await srv.query(DB, 'SELECT count(*) AS n FROM system.parquet_files');
  assert.ok(files.n >= 2, `${files.n} Parquet files`);
  for (let i = 0; i < queries.length; i++) {
    const [q, format] = queries[i];
    assert.equal((await ok(q, { format })).text, before[i], q);
  }
});
