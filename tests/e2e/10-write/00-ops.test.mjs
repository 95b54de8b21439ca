// SPDX-License-Identifier: MIT
//
// The operational endpoints (/ping, /health, /metrics), routing (404, 405) and the
// X-Influxdb-Version header on every kind of answer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, curl } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

const VERSION_RE = /^\d+\.\d+\.\d+/;

test('GET /ping answers 204 with X-Influxdb-Version and no body', async () => {
  const r = await srv.request('GET', '/ping');
  assert.equal(r.status, 204, r.text);
  assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE);
  assert.equal(r.body.length, 0);
});

test('HEAD /ping answers 204', async () => {
  const r = await srv.request('HEAD', '/ping');
  assert.equal(r.status, 204, r.text);
  assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE);
});

test('/ping through curl answers 204 with X-Influxdb-Version', async () => {
  const r = await curl([`${srv.url}/ping`]);
  assert.equal(r.status, 204, r.text);
  assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE);
});

test('GET /health answers 200 JSON with status "pass"', async () => {
  const r = await srv.request('GET', '/health');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] ?? '', /application\/json/);
  assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE);
  const j = r.json();
  assert.equal(j.status, 'pass');
  assert.equal(typeof j.version, 'string');
});

test('GET /metrics is Prometheus text whose counters follow the writes', async () => {
  const metric = (text, name) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    assert.ok(m, `metric ${name} missing in:\n${text}`);
    return Number(m[1]);
  };
  const r1 = await srv.request('GET', '/metrics');
  assert.equal(r1.status, 200, r1.text);
  assert.match(r1.headers['content-type'] ?? '', /^text\/plain/);
  assert.match(r1.text, /^# TYPE silt_write_lines_total counter$/m);
  const lines0 = metric(r1.text, 'silt_write_lines_total');
  const rej0 = metric(r1.text, 'silt_write_lines_rejected_total');
  const rows0 = metric(r1.text, 'silt_buffer_rows');

  const w = await srv.writeLp('metricsdb', 'm v=1 1\nm v=2 2\nm v=3 3\nnot a line\n');
  assert.equal(w.status, 400, w.text); // one rejected line, three written

  const r2 = await srv.request('GET', '/metrics');
  assert.equal(metric(r2.text, 'silt_write_lines_total'), lines0 + 3);
  assert.equal(metric(r2.text, 'silt_write_lines_rejected_total'), rej0 + 1);
  assert.equal(metric(r2.text, 'silt_buffer_rows'), rows0 + 3);
});

test('an unknown path answers 404 with X-Influxdb-Version', async () => {
  for (const p of ['/', '/nope', '/api/v3/write', '/api/v2/query', '/pingx']) {
    const r = await srv.request('GET', p);
    assert.equal(r.status, 404, p);
    assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE, p);
  }
});

test('a wrong method answers 405 with X-Influxdb-Version', async () => {
  const cases = [
    ['POST', '/ping'],
    ['POST', '/health'],
    ['DELETE', '/metrics'],
    ['GET', '/api/v3/write_lp?db=x'],
    ['GET', '/api/v2/write?bucket=x'],
    ['GET', '/write?db=x'],
    ['PUT', '/write?db=x'],
    ['DELETE', '/api/v3/query_sql?db=x&q=SHOW%20TABLES'],
  ];
  for (const [m, p] of cases) {
    const r = await srv.request(m, p);
    assert.equal(r.status, 405, `${m} ${p}`);
    assert.match(r.headers['x-influxdb-version'] ?? '', VERSION_RE, `${m} ${p}`);
  }
  // a GET on a write endpoint wrote nothing and created no database
  const q = await srv.queryRaw('x', 'SHOW TABLES');
  assert.equal(q.status, 404, q.text);
});

test('every kind of answer carries X-Influxdb-Version', async () => {
  const answers = [
    await srv.writeLp('hdrdb', 'm v=1 1'), // 204
    await srv.writeLp('hdrdb', 'bad'), // 400
    await srv.writeLp(undefined, 'm v=1 1'), // 400 missing db
    await srv.queryRaw('hdrdb', 'SELECT * FROM m'), // 200
    await srv.queryRaw('nodb', 'SELECT * FROM m'), // 404
    await srv.queryRaw('hdrdb', 'SELEKT'), // 400
  ];
  assert.deepEqual(
    answers.map((a) => a.status),
    [204, 400, 400, 200, 404, 400],
  );
  for (const a of answers) assert.match(a.headers['x-influxdb-version'] ?? '', VERSION_RE);
});
