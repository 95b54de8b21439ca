// SPDX-License-Identifier: MIT
//
// Output formats byte for byte (json, jsonl, csv) on the small dataset: columns of SELECT *
// sorted by name with time included, NULLs omitted (JSON) or empty (CSV), time as RFC 3339
// without 'Z' with the fraction trimmed to 3/6/9 digits, CSV quoting; projection order and
// aliases; GET and POST answer the same bytes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { DB, loadData } from './data.mjs';

let srv;
before(async () => {
  srv = await startServer();
  await loadData(srv);
});
after(() => srv.cleanup());

const JSON_ALL =
  '[' +
  [
    '{"city":"Paris","country":"FR","hum":80,"note":"mild, \\"dry\\"","ok":true,"temp":12.5,"time":"2023-11-14T22:13:20"}',
    '{"city":"Berlin","country":"DE","hum":91,"ok":false,"temp":-3.25,"time":"2023-11-14T22:14:20"}',
    '{"city":"Tokyo","country":"JP","hum":60,"note":"sunny","temp":20.75,"time":"2023-11-14T22:15:20"}',
    '{"city":"Paris","country":"FR","hum":75,"ok":true,"temp":13.5,"time":"2023-11-14T22:16:20"}',
    '{"city":"Oslo","pressure":1013,"temp":0.5,"time":"2023-11-14T22:17:20.500"}',
  ].join(',') +
  ']';

test('format=json: SELECT * is an array of objects, columns sorted, NULLs omitted, byte for byte', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM weather ORDER BY time', { format: 'json' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(r.text, JSON_ALL);
});

test('JSON is the default format', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM weather ORDER BY time');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, JSON_ALL);
});

test('format=jsonl: one object per line, byte for byte', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM weather ORDER BY time', { format: 'jsonl' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] ?? '', /jsonl|ndjson/);
  const expected = JSON_ALL.slice(1, -1).split('},{').join('}\n{') + '\n';
  assert.equal(r.text, expected);
});

test('format=csv: header, then rows with empty NULLs and RFC 4180 quoting, byte for byte', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM weather ORDER BY time', { format: 'csv' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] ?? '', /^text\/csv/);
  assert.equal(
    r.text,
    [
      'city,country,hum,note,ok,pressure,temp,time',
      'Paris,FR,80,"mild, ""dry""",true,,12.5,2023-11-14T22:13:20',
      'Berlin,DE,91,,false,,-3.25,2023-11-14T22:14:20',
      'Tokyo,JP,60,sunny,,,20.75,2023-11-14T22:15:20',
      'Paris,FR,75,,true,,13.5,2023-11-14T22:16:20',
      'Oslo,,,,,1013,0.5,2023-11-14T22:17:20.500',
      '',
    ].join('\n'),
  );
});

test('the format name is case-insensitive; an unknown one answers 400', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM weather ORDER BY time', { format: 'JSON' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, JSON_ALL);
  const bad = await srv.queryRaw(DB, 'SELECT * FROM weather', { format: 'xml' });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.json().error, /format/);
});

test('a projection keeps the select-list order and the aliases, in every format', async () => {
  const sql = "SELECT temp AS t, city, time AS at FROM weather WHERE city = 'Paris' ORDER BY time";
  assert.equal(
    (await srv.queryRaw(DB, sql)).text,
    '[{"t":12.5,"city":"Paris","at":"2023-11-14T22:13:20"},{"t":13.5,"city":"Paris","at":"2023-11-14T22:16:20"}]',
  );
  assert.equal(
    (await srv.queryRaw(DB, sql, { format: 'jsonl' })).text,
    '{"t":12.5,"city":"Paris","at":"2023-11-14T22:13:20"}\n{"t":13.5,"city":"Paris","at":"2023-11-14T22:16:20"}\n',
  );
  assert.equal((await srv.queryRaw(DB, sql, { format: 'csv' })).text, 't,city,at\n12.5,Paris,2023-11-14T22:13:20\n13.5,Paris,2023-11-14T22:16:20\n');
});

test('an empty result is [] in JSON and nothing in JSONL', async () => {
  const sql = "SELECT * FROM weather WHERE city = 'Nowhere'";
  const j = await srv.queryRaw(DB, sql);
  assert.equal(j.status, 200, j.text);
  assert.equal(j.text, '[]');
  const l = await srv.queryRaw(DB, sql, { format: 'jsonl' });
  assert.equal(l.status, 200, l.text);
  assert.equal(l.text, '');
});

test('time fractions are trimmed to 3, 6 or 9 digits', async () => {
  await srv.write('qtime', ['t,n=0 v=1 1700000000000000000', 't,n=1 v=1 1700000000100000000', 't,n=2 v=1 1700000000120000000', 't,n=3 v=1 1700000000000100000', 't,n=4 v=1 1700000000000000100', 't,n=5 v=1 1700000000123456789', 't,n=6 v=1 -1000000000', 't,n=7 v=1 0'].join('\n'), { params: { precision: 'ns' } });
  const rows = await srv.query('qtime', 'SELECT n, time FROM t');
  const byN = Object.fromEntries(rows.map((r) => [r.n, r.time]));
  assert.deepEqual(byN, {
    0: '2023-11-14T22:13:20',
    1: '2023-11-14T22:13:20.100',
    2: '2023-11-14T22:13:20.120',
    3: '2023-11-14T22:13:20.000100',
    4: '2023-11-14T22:13:20.000000100',
    5: '2023-11-14T22:13:20.123456789',
    6: '1969-12-31T23:59:59',
    7: '1970-01-01T00:00:00',
  });
});

test('JSON string escaping of control characters, quotes, backslashes and Unicode', async () => {
  await srv.write('qesc', 'e s="tab\there \\"q\\" back\\\\slash ✓ 🚀" 1');
  const r = await srv.queryRaw('qesc', 'SELECT s FROM e');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), [{ s: 'tab\there "q" back\\slash ✓ 🚀' }]);
  assert.ok(!r.text.includes('\t'), 'a raw tab inside a JSON string');
});

test('floats keep their value in JSON: integral floats, large and tiny magnitudes', async () => {
  const vals = ['20', '-0.5', '1e21', '1.5e-7', '123456789.125', '1.7976931348623157e308'];
  await srv.write('qfloat', vals.map((v, i) => `f v=${v} ${i + 1}`).join('\n'));
  const rows = await srv.query('qfloat', 'SELECT v FROM f ORDER BY time');
  assert.deepEqual(
    rows.map((r) => r.v),
    vals.map(Number),
  );
});

test('GET with query parameters and POST with a JSON body answer the same bytes', async () => {
  for (const format of ['json', 'jsonl', 'csv']) {
    const sql = 'SELECT city, temp FROM weather WHERE temp > 0 ORDER BY time DESC';
    const g = await srv.queryRaw(DB, sql, { format, method: 'GET' });
    const p = await srv.queryRaw(DB, sql, { format, method: 'POST' });
    assert.equal(g.status, 200, g.text);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.text, g.text, format);
    assert.equal(p.headers['content-type'], g.headers['content-type']);
  }
});

test('POST with the parameters in the query string and no body works like GET', async () => {
  const q = new URLSearchParams({ db: DB, q: 'SELECT count(*) FROM weather', format: 'json' });
  const r = await srv.request('POST', `/api/v3/query_sql?${q}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '[{"count(*)":5}]');
});

test('POST with a body that is not a JSON object answers 400', async () => {
  for (const body of ['{not json', '[1,2]', '"q"']) {
    const r = await srv.request('POST', '/api/v3/query_sql', { body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, body);
    assert.match(r.json().error, /JSON/, body);
  }
});
