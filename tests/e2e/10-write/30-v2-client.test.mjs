// SPDX-License-Identifier: MIT
//
// POST /api/v2/write through the official InfluxDB JS client (@influxdata/influxdb-client):
// WriteApi with Point objects, flush, its gzip path (gzipThreshold: 1, checked on the wire
// by a recording proxy), precisions ns/us/ms/s, the v2 error answer, bucket "db/rp".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { InfluxDB, Point, HttpError, setLogger } from '@influxdata/influxdb-client';
import { startServer } from '../lib/server.mjs';
import { sortRows } from '../lib/util.mjs';

// the client logs failed writes to the console; the tests assert the errors themselves
setLogger({ error() {}, warn() {} });

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

const WRITE_OPTS = { maxRetries: 0, batchSize: 10000, flushInterval: 0 };

function client(url = srv.url) {
  return new InfluxDB({ url, token: 'silt-ignores-tokens', timeout: 30000 });
}

/* A pass-through HTTP proxy to silt that records each request's method, URL, headers and
 * body size as received on the wire. */
async function recordingProxy(t) {
  const seen = [];
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, headers: req.headers, bytes: body.length, body });
      const headers = { ...req.headers, host: `127.0.0.1:${srv.port}`, 'content-length': body.length };
      delete headers['transfer-encoding'];
      const up = http.request({ host: '127.0.0.1', port: srv.port, method: req.method, path: req.url, headers, agent: false }, (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => proxy.close(r)));
  return { url: `http://127.0.0.1:${proxy.address().port}`, seen };
}

test('WriteApi.writePoint of every field type, flush, and the rows are queryable', async () => {
  const w = client().getWriteApi('silt', 'v2pts', 'ns', WRITE_OPTS);
  w.writePoint(
    new Point('cpu')
      .tag('host', 'server 1')
      .tag('region', 'eu,west')
      .floatField('usage', 12.25)
      .intField('procs', -42)
      .uintField('uptime', 123456789)
      .stringField('status', 'say "ok"')
      .booleanField('healthy', true)
      .timestamp('1700000000000000001'),
  );
  w.writePoint(new Point('cpu').tag('host', 'server 2').floatField('usage', 0.5).booleanField('healthy', false).timestamp('1700000000000000002'));
  await w.flush();
  await w.close();
  const rows = await srv.query('v2pts', 'SELECT * FROM cpu ORDER BY time');
  assert.deepEqual(rows, [
    {
      healthy: true,
      host: 'server 1',
      procs: -42,
      region: 'eu,west',
      status: 'say "ok"',
      time: '2023-11-14T22:13:20.000000001',
      uptime: 123456789,
      usage: 12.25,
    },
    { healthy: false, host: 'server 2', time: '2023-11-14T22:13:20.000000002', usage: 0.5 },
  ]);
});

test('WriteApi with default tags and writeRecords (raw line protocol)', async () => {
  const w = client().getWriteApi('silt', 'v2rec', 'ns', { ...WRITE_OPTS, defaultTags: { dc: 'par1' } });
  w.writePoint(new Point('m').floatField('v', 1.5).timestamp('10'));
  w.writeRecords(['m,dc=ams v=2.5 20', 'm,dc=ams v=3.5 30']);
  await w.close();
  const rows = await srv.query('v2rec', 'SELECT dc, v FROM m ORDER BY time');
  assert.deepEqual(rows, [
    { dc: 'par1', v: 1.5 },
    { dc: 'ams', v: 2.5 },
    { dc: 'ams', v: 3.5 },
  ]);
});

test('the client gzips the body (gzipThreshold: 1): Content-Encoding gzip on the wire, rows queryable', async (t) => {
  const proxy = await recordingProxy(t);
  const w = client(proxy.url).getWriteApi('silt', 'v2gz', 'ns', { ...WRITE_OPTS, gzipThreshold: 1 });
  const points = [];
  for (let i = 0; i < 500; i++) points.push(new Point('gz').tag('k', `k${i % 7}`).intField('i', i).stringField('s', `value ${i}`).timestamp(String(1000 + i)));
  w.writePoints(points);
  await w.close();
  const writes = proxy.seen.filter((s) => s.url.startsWith('/api/v2/write'));
  assert.equal(writes.length, 1);
  assert.equal(writes[0].headers['content-encoding'], 'gzip');
  assert.equal(writes[0].body[0], 0x1f);
  assert.equal(writes[0].body[1], 0x8b);
  assert.match(writes[0].url, /[?&]bucket=v2gz(&|$)/);
  assert.match(writes[0].url, /[?&]precision=ns(&|$)/);
  const rows = await srv.query('v2gz', 'SELECT i, k, s FROM gz ORDER BY time');
  assert.equal(rows.length, 500);
  for (let i = 0; i < 500; i++) assert.deepEqual(rows[i], { i, k: `k${i % 7}`, s: `value ${i}` });
});

test('without gzipThreshold crossing, the client sends plain text', async (t) => {
  const proxy = await recordingProxy(t);
  const w = client(proxy.url).getWriteApi('silt', 'v2plain', 'ns', { ...WRITE_OPTS, gzipThreshold: 1 << 20 });
  w.writePoint(new Point('p').intField('i', 1).timestamp('1'));
  await w.close();
  const writes = proxy.seen.filter((s) => s.url.startsWith('/api/v2/write'));
  assert.equal(writes.length, 1);
  assert.equal(writes[0].headers['content-encoding'], undefined);
  assert.deepEqual(await srv.query('v2plain', 'SELECT i FROM p'), [{ i: 1 }]);
});

test('client precisions ns, us, ms, s', async () => {
  const cases = [
    ['ns', '1700000000123456789', '2023-11-14T22:13:20.123456789'],
    ['us', '1700000000123456', '2023-11-14T22:13:20.123456'],
    ['ms', '1700000000123', '2023-11-14T22:13:20.123'],
    ['s', '1700000000', '2023-11-14T22:13:20'],
  ];
  for (const [prec, ts, time] of cases) {
    const db = `v2prec${prec}`;
    const w = client().getWriteApi('silt', db, prec, WRITE_OPTS);
    w.writePoint(new Point('p').tag('prec', prec).floatField('v', 1).timestamp(ts));
    // a Date is converted by the client into the same precision
    w.writePoint(new Point('p').tag('prec', `${prec}-date`).floatField('v', 2).timestamp(new Date('2023-11-14T22:13:20.000Z')));
    await w.close();
    const rows = sortRows(await srv.query(db, 'SELECT prec, time FROM p'), 'prec');
    assert.deepEqual(
      rows,
      [
        { prec, time },
        { prec: `${prec}-date`, time: '2023-11-14T22:13:20' },
      ],
      prec,
    );
  }
});

test('/api/v2/write without precision takes nanoseconds', async () => {
  const r = await srv.writeLp('v2default', 'm v=1 1700000000', { api: 'v2' });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('v2default', 'SELECT time FROM m'), [{ time: '1970-01-01T00:00:01.700' }]);
});

test('/api/v2/write bucket "db/rp" writes to database db', async () => {
  const w = client().getWriteApi('silt', 'v2bucket/autogen', 'ns', WRITE_OPTS);
  w.writePoint(new Point('m').floatField('v', 1).timestamp('5'));
  await w.close();
  assert.deepEqual(await srv.query('v2bucket', 'SELECT v FROM m'), [{ v: 1 }]);
});

test('/api/v2/write partial write answers 400 {"code":"invalid"} naming line and column; valid lines written', async () => {
  const r = await srv.writeLp('v2pw', 'm,t=a v=1 1\nm,t=b v=x 2\nm,t=c v=3 3', { api: 'v2' });
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.code, 'invalid');
  assert.match(j.message, /line 2 column 9: /);
  assert.deepEqual(await srv.query('v2pw', 'SELECT t FROM m ORDER BY time'), [{ t: 'a' }, { t: 'c' }]);
});

test('the client sees a rejected line as HttpError 400 with code "invalid"', async () => {
  const w = client().getWriteApi('silt', 'v2err', 'ns', WRITE_OPTS);
  w.writeRecord('m v=1 1');
  w.writeRecord('m v=notanumber 2');
  const err = await w.close().then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof HttpError, `expected HttpError, got ${err}`);
  assert.equal(err.statusCode, 400);
  assert.equal(err.code, 'invalid');
  assert.match(err.message, /line 2 column 5/);
  // v2 keeps the valid lines of a request (partial write)
  assert.deepEqual(await srv.query('v2err', 'SELECT v FROM m'), [{ v: 1 }]);
});

test('/api/v2/write without bucket answers 400 {"code":"invalid"}', async () => {
  const r = await srv.request('POST', '/api/v2/write?org=silt', { body: 'm v=1 1' });
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.code, 'invalid');
  assert.match(j.message, /bucket/);
});

test('/api/v2/write with an unknown precision answers 400 {"code":"invalid"}', async () => {
  const r = await srv.writeLp('v2badprec', 'm v=1 1', { api: 'v2', params: { precision: 'weeks' } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json().code, 'invalid');
  assert.match(r.json().message, /precision/);
  assert.equal((await srv.queryRaw('v2badprec', 'SELECT * FROM m')).status, 404);
});
