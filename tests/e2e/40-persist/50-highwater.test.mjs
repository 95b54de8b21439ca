// SPDX-License-Identifier: MIT
//
// The high-water mark (--buffer-max-size): while persisting keeps failing (injected: every
// put "fails" after the object was written), the buffer grows until writes get 503 with a
// Retry-After header; the server stays up and answers queries with every acknowledged
// row; a graceful stop cannot persist and says so (exit 1, the WAL keeps everything); a
// restart without the failure has every acknowledged row, exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, injectionBin, request } from '../lib/server.mjs';
import { walFiles, replayLine, metric, count, shutdownLine, siltVerify } from '../lib/storage.mjs';
import { NS, BASE } from '../lib/dataset.mjs';

const bin = injectionBin();
const ROWS = 2000;
const batch = (b) =>
  Array.from({ length: ROWS }, (_, i) => {
    const n = b * ROWS + i;
    return `hw,s=s${n % 32} v=${n}i,txt="${`row ${n} `.padEnd(60, '-')}" ${BASE + BigInt(n) * 1000n}`;
  }).join('\n');

test('--buffer-max-size 4MiB while persisting fails: 503 with Retry-After, queries work, nothing acknowledged is lost', { timeout: 120000 }, async (t) => {
  const srv = await startServer({
    t, bin,
    args: ['--buffer-max-size', '4MiB', '--buffer-persist-size', '1MiB'],
    env: { SILT_INJECT: 'persist.after_put:error' },
  });
  const acked = [];
  let refused = null;
  for (let b = 0; b < 200 && !refused; b++) {
    const r = await srv.writeLp('hwm', batch(b), NS);
    if (r.status === 204) acked.push(b);
    else if (r.status === 503) refused = r;
    else assert.fail(`batch ${b}: HTTP ${r.status} ${r.text}`);
  }
  assert.ok(refused, `200 batches of ${ROWS} rows were all accepted above --buffer-max-size 4MiB`);
  assert.ok(acked.length >= 5, `only ${acked.length} batches accepted before the 503`);
  assert.ok(refused.headers['retry-after'], `a 503 without Retry-After: ${JSON.stringify(refused.headers)}`);
  assert.match(String(Number(refused.headers['retry-after'])), /^\d+$/);
  assert.match(refused.text, /buffer/i);
  // (the 503 also wakes the persister: a failed attempt is logged soon, if not already)
  await srv.waitForLog(/persisting the buffer failed: .*injected failure after put/, 0, 10000);
  assert.ok((await metric(srv, 'silt_persist_failures_total')) >= 1);
  assert.ok((await metric(srv, 'silt_buffer_bytes')) > 4 << 20);

  // still up: queries answer every acknowledged row; more writes keep getting 503
  assert.ok(srv.running);
  assert.equal(await count(srv, 'hwm', 'hw'), acked.length * ROWS);
  const last = acked[acked.length - 1];
  assert.deepEqual(await srv.query('hwm', `SELECT v FROM hw WHERE time = ${BASE + BigInt(last * ROWS + ROWS - 1) * 1000n}`), [{ v: last * ROWS + ROWS - 1 }]);
  for (let k = 0; k < 3; k++) {
    const r = await srv.writeLp('hwm', `hw,s=late v=1i ${BASE - 1n}`, NS);
    assert.equal(r.status, 503, r.text);
    assert.ok(r.headers['retry-after']);
  }
  const ping = await request(srv.port, { path: '/ping' });
  assert.ok(ping.status === 200 || ping.status === 204, `ping: ${ping.status}`);

  // a graceful stop cannot persist: it says so and exits 1, the WAL keeps everything
  const segs = walFiles(srv);
  assert.ok(segs.length >= 1);
  const off = srv.logOffset();
  srv.signal('SIGTERM');
  const ex = await srv.waitExit();
  assert.deepEqual(ex, { code: 1, signal: null }, srv.log(off));
  assert.ok(srv.logContains(/persisting the buffer at shutdown failed: .*injected failure after put/, off), srv.log(off));
  assert.equal(shutdownLine(srv, off), null);
  assert.deepEqual(walFiles(srv), segs);

  // without the failure: every acknowledged row, once; the refused ones are not there
  srv.env = {};
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.equal(rp.applied, acked.length, srv.log(off2));
  assert.equal(rp.watermark, 0);
  assert.equal(await count(srv, 'hwm', 'hw'), acked.length * ROWS);
  assert.equal(await count(srv, 'hwm', 'hw', "s = 'late'"), 0);
  // persisting works again: the buffer empties
  await srv.stop();
  await srv.restart();
  assert.equal(await count(srv, 'hwm', 'hw'), acked.length * ROWS);
  assert.deepEqual(walFiles(srv), []);
  const rows = await srv.query('hwm', "SELECT v FROM hw WHERE s = 's7' ORDER BY time");
  const want = [];
  for (let n = 7; n < acked.length * ROWS; n += 32) want.push(n);
  assert.deepEqual(rows.map((r) => r.v), want);
  // every failed attempt left its object behind: orphans, and only orphans
  const v = await siltVerify(srv);
  assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
  const m = /^(\d+) file\(s\) in the catalog: (\d+) verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; (\d+) orphan object\(s\)$/m.exec(v.stdout);
  assert.ok(m && m[1] === m[2] && Number(m[3]) >= 1, v.stdout);
});
