// SPDX-License-Identifier: MIT
//
// Crash safety of persisting (src/store/store.h), with the named injection points of test
// builds (SILT_INJECT): a crash after an object was put but before the catalog commit loses
// nothing and doubles nothing (the WAL still holds everything; the object is an orphan that
// `silt verify` reports); a crash after the commit but before the WAL segments are removed
// doubles nothing (replay skips what the watermark covers and removes those segments); a
// crash or a failure while removing segments is harmless; a failed put is retried.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, injectionBin, dumpDb, parseSegment } from '../lib/server.mjs';
import {
  listParquet, walFiles, replayLine, shutdownLine, persistLines, siltVerify, assertVerifyClean, count, waitFor,
} from '../lib/storage.mjs';
import { NS, BASE } from '../lib/dataset.mjs';

const bin = injectionBin();
const DAY = 86400000000000n;

/* Four requests (four WAL records), or one with everything (for the tests that persist by
 * age, so that no persist can fall between the requests): table a over two days, table b,
 * table c: 4 files, 181 rows. */
async function writeFour(srv, db, { oneRequest = false } = {}) {
  const bodies = [
    Array.from({ length: 100 }, (_, i) => `a,k=k${i % 4} v=${i}i,f=${i / 2},s="a${i}",b=${i % 2 ? 't' : 'f'},u=${i}u ${BASE + BigInt(i)}`).join('\n'),
    Array.from({ length: 50 }, (_, i) => `a,k=k${i % 4} v=${-i}i ${BASE + DAY + BigInt(i)}`).join('\n'),
    Array.from({ length: 30 }, (_, i) => `b,城市=東京${i % 3} x=${i * 1.5} ${BASE + BigInt(i) * 1000n}`).join('\n'),
    `c,k=one s="only" ${BASE}\na,k=k0 v=1000i ${BASE}`, // the last one also overwrites a row of a
  ];
  if (oneRequest) await srv.write(db, bodies.join('\n'), NS);
  else for (const body of bodies) await srv.write(db, body, NS);
  return { requests: oneRequest ? 1 : bodies.length, files: 4, rows: { a: 150, b: 30, c: 1 } };
}

async function assertRows(srv, db, rows, what) {
  for (const [table, n] of Object.entries(rows)) assert.equal(await count(srv, db, table), n, `${what}: count(*) of ${table}`);
  assert.deepEqual(await srv.query(db, `SELECT v, s FROM a WHERE k = 'k0' AND time = ${BASE}`), [{ v: 1000, s: 'a0' }], what);
}

test('persist.after_put:abort (crash between put and commit): nothing lost, nothing doubled, the object is an orphan for silt verify', async (t) => {
  const srv = await startServer({ t, bin, env: { SILT_INJECT: 'persist.after_put:abort' } });
  const w = await writeFour(srv, 'ip');
  const before = await dumpDb(srv, 'ip');
  await assertRows(srv, 'ip', w.rows, 'before');
  const segs = walFiles(srv);
  assert.ok(segs.length >= 1);

  const off = srv.logOffset();
  srv.signal('SIGTERM'); // the shutdown persist crashes after its first put
  const ex = await srv.waitExit();
  assert.equal(ex.signal, 'SIGKILL', srv.log(off));
  assert.ok(srv.logContains(/injection point persist\.after_put: abort/, off), srv.log(off));
  assert.equal(shutdownLine(srv, off), null);
  const objs = await listParquet(srv);
  assert.equal(objs.length, 1, `one object was put before the crash: ${JSON.stringify(objs)}`);
  assert.deepEqual(walFiles(srv), segs, 'the WAL must be untouched before the commit');

  // restart without the injection: everything comes back from the WAL, once
  srv.env = {};
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.ok(rp, srv.log(off2));
  assert.deepEqual([rp.records, rp.applied, rp.skipped, rp.watermark], [w.requests, w.requests, 0, 0], srv.log(off2));
  assert.deepEqual(await dumpDb(srv, 'ip'), before);
  await assertRows(srv, 'ip', w.rows, 'after the crash');

  // the object the catalog does not know is reported, and nothing else
  const esc = objs[0].key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let v = await siltVerify(srv);
  assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
  assert.match(v.stdout, new RegExp(`^orphan: ${esc} \\(${objs[0].size} bytes; not in the catalog\\)$`, 'm'));
  assert.match(v.stdout, /^0 file\(s\) in the catalog: 0 verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; 1 orphan object\(s\)$/m);

  // a clean persist now: the files are committed, the orphan stays an orphan, never read
  const off3 = srv.logOffset();
  await srv.stop();
  assert.deepEqual(shutdownLine(srv, off3), { rows: 181, files: w.files, seq: w.requests, left: 0 }, srv.log(off3));
  await srv.restart();
  assert.deepEqual(await dumpDb(srv, 'ip'), before);
  await assertRows(srv, 'ip', w.rows, 'after the persist');
  v = await siltVerify(srv);
  assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
  assert.deepEqual(v.stdout.split('\n').filter((l) => l.startsWith('orphan:')).length, 1, v.stdout);
  assert.match(v.stdout, new RegExp(`^orphan: ${esc} `, 'm'));
  assert.match(v.stdout, new RegExp(`^${w.files} file\\(s\\) in the catalog: ${w.files} verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; 1 orphan object\\(s\\)$`, 'm'));
});

test('persist.after_commit:abort (crash between the commit and the WAL removal), persisting by age: replay skips what the watermark covers, every row once', async (t) => {
  // (2 s: time enough to dump the database before the persister kills the server)
  const srv = await startServer({ t, bin, args: ['--buffer-persist-age', '2s'], env: { SILT_INJECT: 'persist.after_commit:abort' } });
  srv.expectExit(); // the persister will kill it
  const off = srv.logOffset();
  const w = await writeFour(srv, 'ic', { oneRequest: true });
  const before = await dumpDb(srv, 'ic');
  const segs = walFiles(srv);
  const ex = await srv.waitExit();
  assert.equal(ex.signal, 'SIGKILL', srv.log(off));
  assert.ok(srv.logContains(/injection point persist\.after_commit: abort/, off), srv.log(off));
  assert.deepEqual(persistLines(srv, off), [], 'the crash comes before the persist is logged');
  assert.equal((await listParquet(srv)).length, w.files);
  assert.deepEqual(walFiles(srv), segs, 'the segments are removed only after the commit step');

  srv.env = {};
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.ok(rp, srv.log(off2));
  assert.equal(rp.applied, 0, `records at or below the watermark were replayed again:\n${srv.log(off2)}`);
  assert.equal(rp.rows, 0, srv.log(off2));
  assert.equal(rp.skipped, w.requests, srv.log(off2));
  assert.equal(rp.watermark, w.requests);
  assert.equal(rp.removed, segs.length, srv.log(off2));
  assert.deepEqual(walFiles(srv), []);
  assert.deepEqual(await dumpDb(srv, 'ic'), before);
  await assertRows(srv, 'ic', w.rows, 'after the crash');

  // later writes go on above the watermark; a kill -9 replays only them
  await srv.write('ic', `c,k=two s="later" ${BASE + 1n}`, NS);
  await srv.kill('SIGKILL');
  const off3 = srv.logOffset();
  await srv.restart();
  assert.deepEqual([replayLine(srv, off3).applied, replayLine(srv, off3).skipped], [1, 0], srv.log(off3));
  assert.equal(await count(srv, 'ic', 'c'), 2);
  await assertRows(srv, 'ic', { a: 150, b: 30 }, 'after a later kill -9');
  await assertVerifyClean(assert, srv, 'after the crash after the commit');
});

test('wal.during_remove:abort (crash while removing persisted segments): the restart removes the rest, every row once', async (t) => {
  const srv = await startServer({ t, bin, args: ['--wal-segment-size', '64KiB'], env: { SILT_INJECT: 'wal.during_remove:abort@2' } });
  let rows = 0;
  for (let r = 0; r < 8; r++) {
    await srv.write('iw', Array.from({ length: 600 }, (_, i) => `seg,r=r${r} v=${i}i,pad="${'x'.repeat(40)}" ${BASE + BigInt(r * 1000 + i)}`).join('\n'), NS);
    rows += 600;
  }
  const segs = walFiles(srv);
  assert.ok(segs.length >= 3, `${segs.length} segments`);
  const off = srv.logOffset();
  srv.signal('SIGTERM');
  const ex = await srv.waitExit();
  assert.equal(ex.signal, 'SIGKILL', srv.log(off));
  assert.ok(srv.logContains(/injection point wal\.during_remove: abort/, off), srv.log(off));
  const left = walFiles(srv);
  assert.equal(left.length, segs.length - 1, `one segment removed before the crash: ${left}`);
  const inLeft = left.reduce((n, f) => n + parseSegment(fs.readFileSync(f)).records.length, 0);
  assert.ok(inLeft >= 1 && inLeft < 8);
  assert.equal((await listParquet(srv)).length, 1);

  srv.env = {};
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.ok(rp, srv.log(off2));
  assert.deepEqual([rp.applied, rp.skipped, rp.watermark, rp.removed, rp.rows], [0, inLeft, 8, left.length, 0], srv.log(off2));
  assert.deepEqual(walFiles(srv), []);
  assert.equal(await count(srv, 'iw', 'seg'), rows);
  assert.deepEqual(await srv.query('iw', "SELECT v FROM seg WHERE r = 'r7' ORDER BY time DESC LIMIT 1"), [{ v: 599 }]);
  await assertVerifyClean(assert, srv, 'after the crash while removing segments');
});

test('wal.during_remove:error: the persist stands, the segments stay until the restart removes them, nothing is doubled', async (t) => {
  const srv = await startServer({ t, bin, env: { SILT_INJECT: 'wal.during_remove:error' } });
  const w = await writeFour(srv, 'ie');
  const before = await dumpDb(srv, 'ie');
  const off = srv.logOffset();
  await srv.stop();
  assert.ok(srv.logContains(/removing WAL segments failed: .*injected/, off), srv.log(off));
  const sd = shutdownLine(srv, off);
  assert.ok(sd && sd.rows === 181 && sd.files === w.files && sd.left >= 1, srv.log(off));
  assert.equal(walFiles(srv).length, sd.left);

  srv.env = {};
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.deepEqual([rp.applied, rp.skipped, rp.removed, rp.rows], [0, w.requests, sd.left, 0], srv.log(off2));
  assert.deepEqual(walFiles(srv), []);
  assert.deepEqual(await dumpDb(srv, 'ie'), before);
  await assertRows(srv, 'ie', w.rows, 'after the restart');
});

test('persist.after_put:error once, persisting by age: the persister retries, the data is persisted once, the failed put is an orphan', async (t) => {
  const srv = await startServer({ t, bin, args: ['--buffer-persist-age', '1s'], env: { SILT_INJECT: 'persist.after_put:error@1' } });
  const w = await writeFour(srv, 'ir', { oneRequest: true });
  const before = await dumpDb(srv, 'ir');
  await waitFor(() => persistLines(srv).length > 0, { what: 'the retried persist', timeoutMs: 20000, describe: () => srv.log() });
  assert.ok(srv.logContains(/persisting the buffer failed: .*injected failure after put.*retrying in 1 s/), srv.log());
  assert.deepEqual(persistLines(srv).map((l) => [l.files, l.rows, l.seq]), [[w.files, 181, w.requests]]);
  await assertRows(srv, 'ir', w.rows, 'while running');
  assert.equal(await count(srv, 'ir', 'a', `time = ${BASE}`), 1);
  assert.deepEqual(walFiles(srv), []);
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual(await dumpDb(srv, 'ir'), before);
  const v = await siltVerify(srv);
  assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
  assert.match(v.stdout, new RegExp(`^${w.files} file\\(s\\) in the catalog: ${w.files} verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; 1 orphan object\\(s\\)$`, 'm'));
});

for (const point of ['wal.before_write', 'wal.after_sync']) {
  test(`${point} fails the last write before a graceful stop: the watermark covers it, and later writes are replayed after a kill -9`, async (t) => {
    // the buffer's last row is from seq 2, the WAL's last record is seq 3 (failed, not
    // acknowledged): the shutdown commits a watermark of its own so that the WAL can go, and
    // after the restart new records must get sequence numbers above it (else a replay would
    // skip them as "already persisted": acknowledged writes lost)
    const srv = await startServer({ t, bin, env: { SILT_INJECT: `${point}:error@3` } });
    const st = [];
    for (let i = 1; i <= 3; i++) st.push((await srv.writeLp('ig', `g,i=${i} v=${i}i ${i}`, NS)).status);
    assert.deepEqual(st, [204, 204, 500]);
    const off = srv.logOffset();
    await srv.stop();
    const sd = shutdownLine(srv, off);
    assert.ok(sd && sd.rows === 2 && sd.seq >= 2 && sd.left === 0, srv.log(off));
    assert.deepEqual(walFiles(srv), []);

    srv.env = {};
    await srv.restart();
    assert.deepEqual(await srv.query('ig', 'SELECT v FROM g ORDER BY time'), [{ v: 1 }, { v: 2 }]);
    for (let i = 4; i <= 5; i++) await srv.write('ig', `g,i=${i} v=${i}i ${i}`, NS);
    await srv.kill('SIGKILL');
    const off2 = srv.logOffset();
    await srv.restart();
    const rp = replayLine(srv, off2);
    assert.deepEqual([rp.applied, rp.skipped], [2, 0], srv.log(off2));
    assert.deepEqual(await srv.query('ig', 'SELECT v FROM g ORDER BY time'), [1, 2, 4, 5].map((v) => ({ v })));
  });
}
