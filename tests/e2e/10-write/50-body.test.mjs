// SPDX-License-Identifier: MIT
//
// Request bodies: gzip (single and multi-member), bad gzip streams, unsupported encodings,
// invalid UTF-8, and the size limit (413 on Content-Length, on a chunked body and after
// gzip decoding), on a server with --max-http-request-size 1024 (the smallest allowed).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startServer, request } from '../lib/server.mjs';
import { gzip } from '../lib/util.mjs';

const LIMIT = 1024;
let srv;
before(async () => {
  srv = await startServer({ args: ['--max-http-request-size', String(LIMIT)] });
});
after(() => srv.cleanup());

/* A write on a fresh connection (the server may close one after an error answer). */
const post = (db, body, { headers = {}, chunked = false, api = 'v3' } = {}) =>
  request(srv.port, {
    method: 'POST',
    path: api === 'v3' ? `/api/v3/write_lp?db=${db}` : api === 'v2' ? `/api/v2/write?bucket=${db}` : `/write?db=${db}`,
    headers,
    body,
    chunked,
  });

const lines = (n, m = 'g') => Array.from({ length: n }, (_, i) => `${m},k=${i % 3} v=${i}i ${i + 1}`).join('\n') + '\n';

test('a gzip body (Content-Encoding: gzip) is decoded and written', async () => {
  for (const api of ['v3', 'v2', 'v1']) {
    const db = `gz${api}`;
    const r = await post(db, gzip(lines(20)), { headers: { 'Content-Encoding': 'gzip' }, api });
    assert.equal(r.status, 204, `${api}: ${r.text}`);
    assert.deepEqual(await srv.query(db, 'SELECT count(*) FROM g'), [{ 'count(*)': 20 }], api);
  }
  const rows = await srv.query('gzv3', 'SELECT k, v FROM g ORDER BY time LIMIT 4');
  assert.deepEqual(rows, [
    { k: '0', v: 0 },
    { k: '1', v: 1 },
    { k: '2', v: 2 },
    { k: '0', v: 3 },
  ]);
});

test('concatenated gzip members are all decoded', async () => {
  const body = Buffer.concat([gzip('m v=1 1\n'), gzip('m v=2 2\n'), gzip('m v=3 3\n')]);
  const r = await post('gzmulti', body, { headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('gzmulti', 'SELECT v FROM m ORDER BY time'), [{ v: 1 }, { v: 2 }, { v: 3 }]);
});

test('Content-Encoding: identity is a plain body', async () => {
  const r = await post('identity', 'm v=1 1', { headers: { 'Content-Encoding': 'identity' } });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('identity', 'SELECT v FROM m'), [{ v: 1 }]);
});

test('a bad gzip stream answers 400 and writes nothing', async () => {
  const good = gzip(lines(10));
  const bodies = {
    garbage: Buffer.from('this is not gzip at all'),
    truncated: good.subarray(0, good.length - 12),
    'corrupt crc': Buffer.concat([good.subarray(0, good.length - 8), Buffer.from([0, 0, 0, 0]), good.subarray(good.length - 4)]),
    'plain text labelled gzip': Buffer.from('m v=1 1\n'),
  };
  for (const [name, body] of Object.entries(bodies)) {
    const db = `badgz${name.replace(/ /g, '')}`;
    const r = await post(db, body, { headers: { 'Content-Encoding': 'gzip' } });
    assert.equal(r.status, 400, `${name}: ${r.status} ${r.text}`);
    assert.match(r.json().error, /gzip/, name);
    assert.ok(r.headers['x-influxdb-version']);
    assert.equal((await srv.queryRaw(db, 'SHOW TABLES')).status, 404, `${name}: database created`);
  }
});

test('an unsupported Content-Encoding answers 415 and writes nothing', async () => {
  const r = await post('brotli', 'm v=1 1', { headers: { 'Content-Encoding': 'br' } });
  assert.equal(r.status, 415, r.text);
  assert.equal((await srv.queryRaw('brotli', 'SHOW TABLES')).status, 404);
});

test('invalid UTF-8 answers 400 naming the line, and writes nothing of the request', async () => {
  const cases = {
    'lone 0xff in a tag': Buffer.concat([Buffer.from('u v=1 1\nu,t='), Buffer.from([0xff]), Buffer.from(' v=2 2\n')]),
    'overlong slash in a string': Buffer.concat([Buffer.from('u v=1 1\nu s="'), Buffer.from([0xc0, 0xaf]), Buffer.from('" 2\n')]),
    'UTF-16 surrogate in a measurement': Buffer.concat([Buffer.from('u v=1 1\nu'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(' v=2 2\n')]),
    'truncated sequence at the end': Buffer.concat([Buffer.from('u v=1 1\nu v=2 2 '), Buffer.from([0xe6, 0x97])]),
  };
  for (const [name, body] of Object.entries(cases)) {
    const db = `utf8${name.split(' ').join('')}`;
    const r = await post(db, body);
    assert.equal(r.status, 400, name);
    const err = r.json().error;
    assert.match(err, /UTF-8/, name);
    assert.match(err, /line 2/, name);
    assert.equal((await srv.queryRaw(db, 'SHOW TABLES')).status, 404, `${name}: something was written`);
  }
  // the same inside a gzip body
  const r = await post('utf8gz', gzip(cases['lone 0xff in a tag']), { headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /UTF-8/);
});

/* A body of exactly `size` bytes: lines of table `m`, padded with a comment line. */
function exactBody(m, size) {
  let body = lines(200, m);
  body = body.slice(0, body.lastIndexOf('\n', size - 40) + 1);
  body += `#${'p'.repeat(size - Buffer.byteLength(body) - 2)}\n`;
  assert.equal(Buffer.byteLength(body), size);
  return { body, n: body.split('\n').filter((l) => l.startsWith(m)).length };
}

test('a body of exactly the limit is accepted', async () => {
  const { body, n } = exactBody('lim', LIMIT);
  const r = await post('exact', body);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('exact', 'SELECT count(*) FROM lim'), [{ 'count(*)': n }]);
});

test('a gzip body of exactly the limit once decoded is accepted', async () => {
  const { body, n } = exactBody('limgz', LIMIT);
  const r = await post('exactgz', gzip(body), { headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('exactgz', 'SELECT count(*) FROM limgz'), [{ 'count(*)': n }]);
});

test('Content-Length above the limit answers 413 with X-Influxdb-Version; nothing written', async () => {
  for (const api of ['v3', 'v2', 'v1']) {
    const db = `big${api}`;
    const body = lines(100);
    assert.ok(body.length > LIMIT);
    const r = await post(db, body, { api });
    assert.equal(r.status, 413, api);
    assert.ok(r.headers['x-influxdb-version'], api);
    assert.equal((await srv.queryRaw(db, 'SHOW TABLES')).status, 404, `${api}: something was written`);
  }
  // one byte over
  const r = await post('bigby1', exactBody('m', LIMIT + 1).body);
  assert.equal(r.status, 413, r.text);
});

test('a chunked body (no Content-Length) above the limit answers 413; nothing written', async () => {
  const r = await post('bigchunked', lines(5000), { chunked: true });
  assert.equal(r.status, 413, r.text);
  assert.ok(r.headers['x-influxdb-version']);
  assert.equal((await srv.queryRaw('bigchunked', 'SHOW TABLES')).status, 404);
  // a small chunked body is fine
  const ok = await post('smallchunked', 'm v=1 1\n', { chunked: true });
  assert.equal(ok.status, 204, ok.text);
  assert.deepEqual(await srv.query('smallchunked', 'SELECT v FROM m'), [{ v: 1 }]);
});

test('a gzip bomb (small body, large after decoding) answers 413; nothing written', async () => {
  const bomb = gzip('m v=1 1\n'.repeat(50000)); // 400 kB of line protocol
  assert.ok(bomb.length < LIMIT, `bomb is ${bomb.length} bytes`);
  const r = await post('bomb', bomb, { headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(r.status, 413, r.text);
  assert.ok(r.headers['x-influxdb-version']);
  assert.equal((await srv.queryRaw('bomb', 'SHOW TABLES')).status, 404);
  // and chunked
  const r2 = await post('bomb2', bomb, { headers: { 'Content-Encoding': 'gzip' }, chunked: true });
  assert.equal(r2.status, 413, r2.text);
  // a gzip body one byte over the limit once decoded
  const r3 = await post('bomb3', gzip(exactBody('m', LIMIT + 1).body), { headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(r3.status, 413, r3.text);
});

test('the server keeps serving after the 413s', async () => {
  const r = await post('after413', 'm v=1 1');
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('after413', 'SELECT v FROM m'), [{ v: 1 }]);
});
