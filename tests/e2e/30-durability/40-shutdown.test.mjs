// SPDX-License-Identifier: MIT
//
// Graceful shutdown: SIGTERM while writes are in flight answers them, refuses new writes
// (503 or a refused connection, never 204), keeps queries working while it drains, persists
// the buffer and empties the WAL, exits 0, and every acknowledged write is there after the
// restart. And the data directory LOCK: one server per data directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startServer, request, runSilt, freePort, sleep, walSegments } from '../lib/server.mjs';
import { persistLines } from '../lib/storage.mjs';

for (const args of [[], ['--buffer-persist-size', '1MiB']]) {
  test(`SIGTERM while 4 writers are busy${args.length ? ' (and the persister, ' + args.join(' ') + ')' : ''}: exit 0, every acknowledged write is present after the restart`, async (t) => {
    const srv = await startServer({ t, args });
    const acked = new Set();
    const refused = [];
    let stop = false;
    const writer = async (w) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let b = 0; !stop; b++) {
          const body = Array.from({ length: 50 }, (_, i) => `g,w=${w} v=${b * 50 + i}i ${b * 50 + i + 1}`).join('\n');
          try {
            const r = await request(srv.port, { method: 'POST', path: '/api/v3/write_lp?db=gdb&precision=ns', body, agent, timeoutMs: 20000 });
            if (r.status === 204) acked.add(`${w}/${b}`);
            else {
              assert.equal(r.status, 503, `unexpected HTTP ${r.status}: ${r.text}`);
              refused.push(r.status);
              return;
            }
          } catch (e) {
            refused.push(e.code);
            return;
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    const deadline = Date.now() + 20000;
    while (acked.size < 20 && Date.now() < deadline) await sleep(5); // writes are flowing
    const off = srv.logOffset();
    srv.signal('SIGTERM');
    const ex = await srv.waitExit();
    stop = true;
    await Promise.all(writers);
    assert.deepEqual(ex, { code: 0, signal: null });
    srv.checkCleanExit(ex);
    assert.ok(srv.logContains(/received SIGTERM: shutting down/, off));
    // every acknowledged batch (50 rows each) was persisted, and the WAL left empty
    const persisted = /serve: shutdown: persisted (\d+) rows to (\d+) Parquet file\(s\) .*, 0 segment\(s\) left/.exec(srv.log(off));
    assert.ok(persisted, srv.log(off));
    // (the persister may have persisted some before the SIGTERM: every persist is logged)
    const rows = persistLines(srv).reduce((n, p) => n + p.rows, 0);
    assert.ok(rows >= acked.size * 50 && rows % 50 === 0, `persisted ${rows} rows, ${acked.size} batches of 50 acknowledged`);
    assert.deepEqual(walSegments(path.join(srv.dataDir, 'wal')), []);
    assert.ok(acked.size > 4, `only ${acked.size} writes acknowledged`);

    await srv.restart();
    for (let w = 0; w < 4; w++) {
      const rows = await srv.query('gdb', `SELECT v FROM g WHERE w = '${w}' ORDER BY time`);
      const have = new Set(rows.map((r) => Math.floor(r.v / 50)));
      for (const k of acked) {
        const [ww, b] = k.split('/').map(Number);
        if (ww === w) assert.ok(have.has(b), `acknowledged batch ${k} is missing after the restart`);
      }
      // a batch is one record: all of its rows or none
      const per = new Map();
      for (const r of rows) per.set(Math.floor(r.v / 50), (per.get(Math.floor(r.v / 50)) ?? 0) + 1);
      for (const [b, n] of per) assert.equal(n, 50, `batch ${w}/${b} is partly present (${n} of 50 rows)`);
    }
  });
}

/* silt_http_requests_total: every request counts when its headers arrive (this one too). */
async function requestsTotal(srv) {
  const r = await request(srv.port, { path: '/metrics' });
  return Number(/^silt_http_requests_total (\d+)$/m.exec(r.text)[1]);
}

/* Open a write whose body is only partly sent: the server counts it as in flight. Returns
 * { finish(): Promise<{status, text}> }. */
function slowWrite(port, db, body) {
  const sock = net.connect(port, '127.0.0.1');
  const half = Math.floor(body.length / 2);
  const head = `POST /api/v3/write_lp?db=${db}&precision=ns HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  let data = '';
  const done = new Promise((resolve, reject) => {
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => resolve({ status: Number(data.split(' ')[1]), text: data }));
    sock.on('error', reject);
  });
  const ready = new Promise((resolve) => sock.on('connect', resolve)).then(() => new Promise((r) => sock.write(head + body.slice(0, half), r)));
  return {
    ready,
    async finish() {
      await ready;
      sock.write(body.slice(half));
      return done;
    },
  };
}

test('while draining: new writes get 503 (or a refused connection), /health says fail, queries work; the write in flight is answered 204 and kept', async (t) => {
  const srv = await startServer({ t });
  await srv.write('drain', 'd,k=before v=1i 1', { params: { precision: 'ns' } });
  const base = await requestsTotal(srv);
  const slow = slowWrite(srv.port, 'drain', 'd,k=inflight v=2i 2\n');
  await slow.ready;
  // wait until the server has read the slow write's headers: from then on it is in flight
  const deadline = Date.now() + 10000;
  for (let k = 2; ; k++) {
    if ((await requestsTotal(srv)) >= base + k) break; // k /metrics requests + the write
    assert.ok(Date.now() < deadline, 'the server never received the slow write');
    await sleep(10);
  }
  const off = srv.logOffset();
  srv.signal('SIGTERM');
  await srv.waitForLog(/received SIGTERM/, off);

  // the server waits for the slow write; meanwhile:
  const late = await request(srv.port, { method: 'POST', path: '/api/v3/write_lp?db=drain&precision=ns', body: 'd,k=late v=3i 3' });
  assert.equal(late.status, 503, late.text);
  assert.ok(late.headers['x-influxdb-version']);
  for (const api of ['/api/v2/write?bucket=drain', '/write?db=drain']) {
    const r = await request(srv.port, { method: 'POST', path: api, body: 'd,k=late v=3i 3' });
    assert.equal(r.status, 503, api);
  }
  const health = await request(srv.port, { path: '/health' });
  assert.equal(health.status, 503, health.text);
  assert.equal(health.json().status, 'fail');
  const q = await request(srv.port, { path: `/api/v3/query_sql?db=drain&q=${encodeURIComponent('SELECT k FROM d')}` });
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(JSON.parse(q.text), [{ k: 'before' }]);
  assert.ok(srv.running, 'the server exited while a write was in flight');

  const ans = await slow.finish();
  assert.equal(ans.status, 204, ans.text);
  const ex = await srv.waitExit();
  assert.deepEqual(ex, { code: 0, signal: null });
  srv.checkCleanExit(ex);

  await srv.restart();
  const rows = await srv.query('drain', 'SELECT k FROM d ORDER BY time');
  assert.deepEqual(rows, [{ k: 'before' }, { k: 'inflight' }]);
});

test('a write sent after SIGTERM is never acknowledged: 503 or a refused connection', async (t) => {
  const srv = await startServer({ t });
  await srv.write('late', 'l v=1i 1');
  const off = srv.logOffset();
  srv.signal('SIGTERM');
  await srv.waitForLog(/received SIGTERM/, off);
  const outcomes = [];
  for (let i = 0; i < 20; i++) {
    try {
      const r = await request(srv.port, { method: 'POST', path: '/api/v3/write_lp?db=late', body: `l v=${i + 2}i ${i + 2}` });
      outcomes.push(r.status);
    } catch (e) {
      outcomes.push(e.code);
    }
  }
  for (const o of outcomes) assert.ok(o === 503 || o === 'ECONNREFUSED' || o === 'ECONNRESET', `a write after SIGTERM got ${o}`);
  const ex = await srv.waitExit();
  srv.checkCleanExit(ex);
  await srv.restart();
  assert.deepEqual(await srv.query('late', 'SELECT v FROM l'), [{ v: 1 }]);
});

test('SIGINT stops the server gracefully too', async (t) => {
  const srv = await startServer({ t });
  await srv.write('sigint', 's v=1i 1');
  const off = srv.logOffset();
  srv.signal('SIGINT');
  const ex = await srv.waitExit();
  assert.deepEqual(ex, { code: 0, signal: null });
  srv.checkCleanExit(ex);
  assert.ok(srv.logContains(/received SIGINT/, off));
  await srv.restart();
  assert.deepEqual(await srv.query('sigint', 'SELECT v FROM s'), [{ v: 1 }]);
});

test('a second server on the same data directory fails to start with a clear message; the first is unharmed', async (t) => {
  const srv = await startServer({ t });
  await srv.write('lock', 'l v=1i 1');
  const port = await freePort();
  const second = await runSilt(['serve', '--data-dir', srv.dataDir, '--http-bind', `127.0.0.1:${port}`], { timeoutMs: 20000 });
  assert.notEqual(second.code, 0);
  assert.equal(second.signal, null, 'the second server did not exit by itself');
  assert.match(second.stderr, new RegExp(`data directory ${srv.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another silt process`));
  // the first server still serves its data and takes writes
  await srv.write('lock', 'l v=2i 2');
  assert.deepEqual(await srv.query('lock', 'SELECT v FROM l ORDER BY time'), [{ v: 1 }, { v: 2 }]);
  // once the first is killed, the lock is free again
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual(await srv.query('lock', 'SELECT count(*) FROM l'), [{ 'count(*)': 2 }]);
});

test('a second server using the same --wal-dir (another data directory) fails to start', async (t) => {
  const a = await startServer({ t, walDirs: 1 });
  await a.write('walshare', 'w,s=a v=1i 1');
  const other = await startServer({ t, start: false, walDirs: a.walDirs });
  // two processes appending to one WAL directory lose acknowledged writes (each replays
  // and then skips the other's records): the WAL directory must be locked like the data
  // directory
  const started = await other.start().then(
    () => true,
    (e) => e,
  );
  assert.notEqual(started, true, `a second server started on the WAL directory ${a.walDirs[0]}, which another running server uses`);
  assert.match(started.message, /exited during start-up[\s\S]*in use/);
  await a.write('walshare', 'w,s=a v=2i 2');
  assert.deepEqual(await a.query('walshare', 'SELECT count(*) FROM w'), [{ 'count(*)': 2 }]);
});
