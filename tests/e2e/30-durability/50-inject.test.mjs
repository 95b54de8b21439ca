// SPDX-License-Identifier: MIT
//
// Named injection points of the WAL writer (SILT_INJECT, test builds only): a write or sync
// that fails poisons the segment and answers 500 without acknowledging or applying anything,
// and the writer continues in a new segment; a crash right before the write loses only the
// unacknowledged record; a crash right after the sync keeps the record (durable, so replayed)
// though it was never acknowledged; a crash between the two WAL copies is repaired from the
// copy that has the record.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, injectionBin, walSegments } from '../lib/server.mjs';

const bin = injectionBin();
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/* Writes 1..n, one request (so one WAL group) each; returns the HTTP status or the
 * transport error code of each. */
async function writes(srv, from, to) {
  const out = [];
  for (let i = from; i <= to; i++) {
    try {
      const r = await srv.writeLp('inj', `m,n=${i} v=${i}i ${i}`, { params: { precision: 's' } });
      out.push(r.status);
    } catch (e) {
      out.push(e.code ?? e.message);
    }
  }
  return out;
}

const present = async (srv) => (await srv.query('inj', 'SELECT v FROM m ORDER BY time')).map((r) => r.v);

for (const point of ['wal.before_write', 'wal.after_sync']) {
  test(`${point} fails (EIO) on the 3rd write: 500, nothing applied, the writer continues in a new segment`, async (t) => {
    const srv = await startServer({ t, bin, env: { SILT_INJECT: `${point}:error@3` } });
    const statuses = await writes(srv, 1, 5);
    assert.deepEqual(statuses, [204, 204, 500, 204, 204]);
    assert.ok(srv.logContains(/segment 0+1\.wal poisoned: .*injected/), srv.log());
    assert.ok(srv.logContains(/1 record\(s\) from seq 3 not acknowledged/), srv.log());
    assert.deepEqual(await present(srv), [1, 2, 4, 5]);
    const segs = walSegments(path.join(srv.dataDir, 'wal')).map((p) => path.basename(p));
    // segments are numbered by creation (src/wal/README.md): the poisoned one, then a new one
    assert.deepEqual(segs, ['00000000000000000001.wal', '00000000000000000002.wal']);

    await srv.kill('SIGKILL');
    srv.env = {};
    const off = srv.logOffset();
    await srv.restart();
    assert.ok(srv.logContains(/WAL replay: 4 records .* from 2 segments/, off), srv.log(off));
    assert.deepEqual(await present(srv), [1, 2, 4, 5]);
  });
}

test('a crash right before the WAL write of the 3rd request: the first two are kept, the third is not', async (t) => {
  const srv = await startServer({ t, bin, env: { SILT_INJECT: 'wal.before_write:abort@3' } });
  srv.expectExit(); // it dies where it is told to
  const statuses = await writes(srv, 1, 3);
  assert.deepEqual(statuses.slice(0, 2), [204, 204]);
  assert.notEqual(statuses[2], 204);
  const ex = await srv.waitExit();
  assert.equal(ex.signal, 'SIGKILL');
  assert.ok(srv.logContains(/injection point wal.before_write: abort/));
  srv.env = {};
  await srv.restart();
  assert.deepEqual(await present(srv), [1, 2]);
  assert.deepEqual(await writes(srv, 4, 4), [204]);
  assert.deepEqual(await present(srv), [1, 2, 4]);
});

test('a crash right after the sync of the 3rd request: never acknowledged, but durable, so replayed', async (t) => {
  const srv = await startServer({ t, bin, env: { SILT_INJECT: 'wal.after_sync:abort@3' } });
  srv.expectExit(); // it dies where it is told to
  const statuses = await writes(srv, 1, 3);
  assert.deepEqual(statuses.slice(0, 2), [204, 204]);
  assert.notEqual(statuses[2], 204);
  await srv.waitExit();
  srv.env = {};
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(/WAL replay: 3 records /, off), srv.log(off));
  assert.deepEqual(await present(srv), [1, 2, 3]);
});

test('a crash between the writes to the two WAL copies: the record is taken from the copy that has it, the other is repaired', async (t) => {
  // with two directories each group hits wal.before_write twice: hit 4 is the 2nd group's
  // write to the second directory, so record 2 is only in the first copy
  const srv = await startServer({ t, bin, walDirs: 2, env: { SILT_INJECT: 'wal.before_write:abort@4' } });
  const [a, b] = srv.walDirs;
  srv.expectExit();
  const statuses = await writes(srv, 1, 2);
  assert.equal(statuses[0], 204);
  assert.notEqual(statuses[1], 204);
  await srv.waitExit();
  const fa = path.join(a, '00000000000000000001.wal');
  const fb = path.join(b, '00000000000000000001.wal');
  assert.ok(fs.statSync(fa).size > fs.statSync(fb).size, 'the first copy should hold one more record');
  const offB = fs.statSync(fb).size;

  srv.env = {};
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(escapeRe(`${fb}: record seq 2 at offset ${offB} is damaged or missing (end of file); using the copy in ${a}`)), off), srv.log(off));
  assert.deepEqual(await present(srv), [1, 2]);
  assert.ok(fs.readFileSync(fa).equals(fs.readFileSync(fb)), 'the copies differ after the repair');
});

test('a no_sync write acknowledged before its sync fails is not lost while the server runs', async (t) => {
  // README: no_sync loses acknowledged writes only on a power cut or kernel crash. A failed
  // fdatasync is neither: the writer still holds the record and must write it again into
  // the fresh segment (WAL README invariant 5, "built from the writer's own memory").
  const srv = await startServer({ t, bin, env: { SILT_INJECT: 'wal.after_sync:error@2' } });
  assert.deepEqual(await writes(srv, 1, 1), [204]);
  const r = await srv.writeLp('inj', 'm,n=2 v=2i 2', { params: { precision: 's', no_sync: 'true' } });
  assert.equal(r.status, 204, r.text); // acknowledged
  await srv.waitForLog(/poisoned/);
  assert.deepEqual(await writes(srv, 3, 3), [204]);
  assert.deepEqual(await present(srv), [1, 2, 3], 'the acknowledged no_sync write is gone');
  await srv.kill('SIGKILL');
  srv.env = {};
  await srv.restart();
  assert.deepEqual(await present(srv), [1, 2, 3], 'the acknowledged no_sync write is gone after a restart');
});
