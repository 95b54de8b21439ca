// SPDX-License-Identifier: MIT
//
// Parameterized queries (InfluxDB 3's `params`; InfluxDB 1.x's `params` on /query): $name in
// the query stands for a value given apart from it — null, a boolean, an integer, a number or
// a string, and a string compared with time is a time — and is never read as query text. GET
// takes params as JSON text, POST as a JSON object (or text) in the body. A placeholder
// without a value, and params that are not a JSON object of such values, answer 400.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request } from '../lib/server.mjs';
import { DB, loadData } from './data.mjs';

let srv;
before(async () => {
  srv = await startServer();
  await loadData(srv);
});
after(() => srv.cleanup());

async function get(path, args) {
  return request(srv.port, { path: `${path}?${new URLSearchParams(args)}` });
}

async function post(path, body) {
  return request(srv.port, {
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('SQL: every parameter type, by GET and by POST', async () => {
  const q = 'SELECT city, temp FROM weather WHERE city = $city AND temp > $min AND hum < $hum ' +
    'AND time >= $from AND ok = $ok ORDER BY time';
  const params = { city: 'Paris', min: 12.0, hum: 80, from: '2023-11-14T22:13:20Z', ok: true };
  const want = [{ city: 'Paris', temp: 13.5 }];
  let r = await get('/api/v3/query_sql', { db: DB, q, params: JSON.stringify(params) });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), want);
  r = await post('/api/v3/query_sql', { db: DB, q, params });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), want);
  r = await post('/api/v3/query_sql', { db: DB, q, params: JSON.stringify(params) });
  assert.deepEqual(r.json(), want);
  // null: a comparison with NULL selects nothing; IS NULL is the way to ask for it
  r = await post('/api/v3/query_sql', { db: DB, q: 'SELECT count(*) AS n FROM weather WHERE temp = $t', params: { t: null } });
  assert.deepEqual(r.json(), [{ n: 0 }]);
  // the same placeholder twice, and an integer compared with a float column
  r = await post('/api/v3/query_sql', {
    db: DB, q: 'SELECT count(*) AS n FROM weather WHERE temp > $x OR hum = $x', params: { x: 13 },
  });
  assert.deepEqual(r.json(), [{ n: 2 }]); // Paris 13.5 and Tokyo 20.75
});

test('a parameter is a value, never query text', async () => {
  const r = await post('/api/v3/query_sql', {
    db: DB, q: 'SELECT count(*) AS n FROM weather WHERE city = $c', params: { c: "Paris' OR '1'='1" },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), [{ n: 0 }]);
});

test('a placeholder without a value, or params that are not an object of values: 400', async () => {
  let r = await post('/api/v3/query_sql', { db: DB, q: 'SELECT * FROM weather WHERE city = $c', params: { d: 'x' } });
  assert.equal(r.status, 400);
  assert.match(r.json().error, /no value for parameter \$c at line 1, column 36/);
  r = await get('/api/v3/query_sql', { db: DB, q: 'SELECT * FROM weather WHERE city = $c' });
  assert.equal(r.status, 400);
  r = await get('/api/v3/query_sql', { db: DB, q: 'SELECT 1', params: '{"c":' });
  assert.equal(r.status, 400);
  assert.match(r.json().error, /params is not JSON/);
  r = await post('/api/v3/query_sql', { db: DB, q: 'SELECT * FROM weather WHERE city = $c', params: { c: ['Paris'] } });
  assert.equal(r.status, 400);
  assert.match(r.json().error, /parameter \$c: a value must be null, a boolean, a number or a string/);
  r = await post('/api/v3/query_sql', { db: DB, q: 'SELECT 1', params: [1, 2] });
  assert.equal(r.status, 400);
});

test('InfluxQL: /api/v3/query_influxql and v1 /query take params too', async () => {
  const q = 'SELECT temp FROM weather WHERE city = $city AND time > $from';
  const params = JSON.stringify({ city: 'Paris', from: '2023-11-14T22:13:20Z' });
  let r = await get('/api/v3/query_influxql', { db: DB, q, params });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), [{ 'iox::measurement': 'weather', time: '2023-11-14T22:16:20', temp: 13.5 }]);
  r = await get('/query', { db: DB, q, params, epoch: 's' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json().results[0].series[0].values, [[1700000180, 13.5]]);
  r = await get('/query', { db: DB, q: 'SELECT temp FROM weather WHERE city = $nope' });
  assert.equal(r.status, 200);
  assert.match(r.json().results[0].error, /no value for parameter \$nope/);
});
