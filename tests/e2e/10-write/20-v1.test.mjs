// SPDX-License-Identifier: MIT
//
// POST /write (InfluxDB 1.x API) through the real curl binary: precisions n, u, ms, s, m, h
// (default ns), the v1 partial-write answer, rp ignored, missing db.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, curl } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

const v1 = (qs, body) => curl(['-X', 'POST', '--data-binary', '@-', `${srv.url}/write?${qs}`], { input: body });

test('curl to /write?db= answers 204 and the rows are queryable', async () => {
  const r = await v1('db=v1a', 'disk,host=a,path=/ free=12i,pct=0.5 1700000000000000000\n');
  assert.equal(r.status, 204, r.text);
  assert.equal(r.body, '');
  assert.ok(r.headers['x-influxdb-version']);
  assert.deepEqual(await srv.query('v1a', 'SELECT * FROM disk'), [
    { free: 12, host: 'a', path: '/', pct: 0.5, time: '2023-11-14T22:13:20' },
  ]);
});

test('/write with rp= writes to the database and ignores the retention policy', async () => {
  const r = await v1('db=v1rp&rp=autogen', 'm v=1 1000000000');
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('v1rp', 'SELECT v, time FROM m'), [{ v: 1, time: '1970-01-01T00:00:01' }]);
});

test('/write timestamps default to nanoseconds', async () => {
  const r = await v1('db=v1ns', 'm v=1 1700000000');
  assert.equal(r.status, 204, r.text);
  // 1700000000 ns, not seconds: v1 has no auto precision
  assert.deepEqual(await srv.query('v1ns', 'SELECT time FROM m'), [{ time: '1970-01-01T00:00:01.700' }]);
});

test('/write precisions n, u, ms, s, m, h scale the timestamp', async () => {
  const cases = [
    ['n', '1970-01-01T00:00:00.000000007'],
    ['u', '1970-01-01T00:00:00.000007'],
    ['ms', '1970-01-01T00:00:00.007'],
    ['s', '1970-01-01T00:00:07'],
    ['m', '1970-01-01T00:07:00'],
    ['h', '1970-01-01T07:00:00'],
  ];
  for (const [p, time] of cases) {
    const db = `v1p${p}`;
    const r = await v1(`db=${db}&precision=${p}`, `m,p=${p} v=1 7`);
    assert.equal(r.status, 204, `${p}: ${r.body}`);
    assert.deepEqual(await srv.query(db, 'SELECT p, time FROM m'), [{ p, time }], p);
  }
});

test('/write with precision=h on a large value that overflows the nanosecond range is a rejected line', async () => {
  const r = await v1('db=v1ovf&precision=h', 'm v=1 3000000\nm v=2 1');
  assert.equal(r.status, 400, r.text);
  assert.match(JSON.parse(r.body).error, /partial write: line 1 column \d+: timestamp out of range.* dropped=1$/);
  assert.deepEqual(await srv.query('v1ovf', 'SELECT v, time FROM m'), [{ v: 2, time: '1970-01-01T01:00:00' }]);
});

test('/write with an unknown precision answers 400', async () => {
  const r = await v1('db=v1bad&precision=y', 'm v=1 1');
  assert.equal(r.status, 400, r.text);
  assert.match(JSON.parse(r.body).error, /precision/);
  assert.equal((await srv.queryRaw('v1bad', 'SELECT * FROM m')).status, 404);
});

test('/write partial write: 400 {"error":"partial write: ... dropped=N"}; the valid lines are written', async () => {
  const r = await v1('db=v1pw', 'm,t=a v=1 1\nm,t=b v=x 2\nm,t=c v=3 3\nm,t=d\n');
  assert.equal(r.status, 400, r.text);
  const j = JSON.parse(r.body);
  assert.deepEqual(Object.keys(j), ['error']);
  assert.match(j.error, /^partial write: /);
  assert.match(j.error, /line 2 column 9: /);
  assert.match(j.error, /line 4 column 6: /);
  assert.match(j.error, / dropped=2$/);
  assert.deepEqual(await srv.query('v1pw', 'SELECT t FROM m ORDER BY time'), [{ t: 'a' }, { t: 'c' }]);
});

test('/write without db answers 400', async () => {
  for (const qs of ['', 'db=', 'bucket=x']) {
    const r = await v1(qs, 'm v=1 1');
    assert.equal(r.status, 400, qs);
    assert.match(JSON.parse(r.body).error, /db/);
  }
});
