// SPDX-License-Identifier: MIT
//
// Two --wal-dir copies (write replication, src/wal/README.md invariant 7): both hold
// byte-identical segments; a damaged byte in the middle of one copy, a missing copy, a
// shorter copy, or damage in both copies at different records are all repaired at start:
// every row is back, the log names the damaged record and the copy used, and the two
// copies are byte-identical again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, walSegments, parseSegment } from '../lib/server.mjs';

const N_REQ = 30;

/* These tests are about the WAL files themselves: a graceful stop must leave them in place
 * (by default it persists the buffer to Parquet and removes every segment). */
const KEEP_WAL = ['--persist-on-shutdown', 'false'];

/* 30 requests of 20 rows each (one WAL record per request), then a graceful stop that keeps
 * the WAL. */
async function fillAndStop(t) {
  const srv = await startServer({ t, walDirs: 2, args: KEEP_WAL });
  for (let b = 0; b < N_REQ; b++) {
    const body = Array.from({ length: 20 }, (_, i) => `rep,b=${b} v=${b * 20 + i}i,s="row ${b * 20 + i}" ${b * 20 + i + 1}`).join('\n');
    await srv.write('rdb', body, { params: { precision: 'ns' } });
  }
  await srv.stop();
  return srv;
}

async function assertAllRows(srv) {
  assert.deepEqual(await srv.query('rdb', 'SELECT count(*) FROM rep'), [{ 'count(*)': N_REQ * 20 }]);
  const rows = await srv.query('rdb', 'SELECT v, s FROM rep ORDER BY time');
  rows.forEach((r, i) => assert.deepEqual(r, { v: i, s: `row ${i}` }));
}

function assertCopiesIdentical(srv) {
  const [a, b] = srv.walDirs;
  const namesA = walSegments(a).map((p) => path.basename(p));
  const namesB = walSegments(b).map((p) => path.basename(p));
  assert.deepEqual(namesA, namesB, 'segment names differ between the WAL copies');
  assert.ok(namesA.length > 0);
  for (const n of namesA) assert.ok(fs.readFileSync(path.join(a, n)).equals(fs.readFileSync(path.join(b, n))), `${n} differs between ${a} and ${b}`);
}

/* Flip one payload byte of the record holding the middle of the segment file. Returns the
 * record ({ offset, seq, ... }). */
function damageMiddle(file, recordIndex) {
  const buf = fs.readFileSync(file);
  const seg = parseSegment(buf);
  let rec;
  if (recordIndex === undefined) {
    const mid = Math.floor(buf.length / 2);
    rec = seg.records.find((r) => mid >= r.offset && mid < r.offset + r.bytes);
  } else rec = seg.records[recordIndex];
  const at = rec.offset + 16 + Math.floor(rec.len / 2); // inside the payload: a checksum mismatch
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([buf[at] ^ 0x5a]), 0, 1, at);
  fs.closeSync(fd);
  return rec;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('both WAL directories hold byte-identical segments', async (t) => {
  const srv = await fillAndStop(t);
  assertCopiesIdentical(srv);
  const seg = parseSegment(fs.readFileSync(walSegments(srv.walDirs[0])[0]));
  assert.equal(seg.records.length, N_REQ);
  assert.equal(seg.validBytes, fs.statSync(walSegments(srv.walDirs[0])[0]).size);
});

for (const damaged of [0, 1]) {
  test(`a damaged byte in the middle of the segment in WAL dir ${damaged + 1} of 2: all rows back, the log names the copy used, the copies are identical again`, async (t) => {
    const srv = await fillAndStop(t);
    const file = walSegments(srv.walDirs[damaged])[0];
    const rec = damageMiddle(file);
    assert.ok(!fs.readFileSync(file).equals(fs.readFileSync(walSegments(srv.walDirs[1 - damaged])[0])));
    const off = srv.logOffset();
    await srv.restart();
    const good = srv.walDirs[1 - damaged];
    const line = `${file}: record seq ${rec.seq} at offset ${rec.offset} is damaged or missing (checksum mismatch in record seq ${rec.seq}); using the copy in ${good}`;
    assert.ok(srv.logContains(new RegExp(escapeRe(line)), off), `log lacks:\n${line}\nlog:\n${srv.log(off)}`);
    assert.ok(srv.logContains(new RegExp(`WAL replay: ${N_REQ} records .* 1 replica\\(s\\) repaired`), off), srv.log(off));
    await assertAllRows(srv);
    assertCopiesIdentical(srv);
    // and the repaired pair keeps taking writes that survive another restart
    await srv.write('rdb', `rep,b=new v=${N_REQ * 20}i,s="row ${N_REQ * 20}" ${N_REQ * 20 + 1}`, { params: { precision: 'ns' } });
    await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(await srv.query('rdb', 'SELECT count(*) FROM rep'), [{ 'count(*)': N_REQ * 20 + 1 }]);
    assertCopiesIdentical(srv);
  });
}

test('damage at different records in both copies: each record comes from the copy that has it intact', async (t) => {
  const srv = await fillAndStop(t);
  const [a, b] = srv.walDirs;
  const fa = walSegments(a)[0];
  const fb = walSegments(b)[0];
  const ra = damageMiddle(fa, 5);
  const rb = damageMiddle(fb, 20);
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(escapeRe(`${fa}: record seq ${ra.seq} at offset ${ra.offset} is damaged or missing (checksum mismatch in record seq ${ra.seq}); using the copy in ${b}`)), off), srv.log(off));
  assert.ok(srv.logContains(new RegExp(escapeRe(`${fb}: record seq ${rb.seq} at offset ${rb.offset} is damaged or missing (checksum mismatch in record seq ${rb.seq}); using the copy in ${a}`)), off), srv.log(off));
  await assertAllRows(srv);
  assertCopiesIdentical(srv);
});

test('a segment missing from one WAL directory is restored from the other', async (t) => {
  const srv = await fillAndStop(t);
  const [a, b] = srv.walDirs;
  const gone = walSegments(b)[0];
  fs.unlinkSync(gone);
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(escapeRe(`${gone}: missing; restoring it from ${a}`)), off), srv.log(off));
  await assertAllRows(srv);
  assertCopiesIdentical(srv);
});

test('a shorter copy (torn tail in one directory) is completed from the other', async (t) => {
  const srv = await fillAndStop(t);
  const [a, b] = srv.walDirs;
  const fa = walSegments(a)[0];
  const seg = parseSegment(fs.readFileSync(fa));
  const last = seg.records[seg.records.length - 1];
  fs.truncateSync(fa, last.offset + 7); // half of the last record's header
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(escapeRe(`${fa}: record seq ${last.seq} at offset ${last.offset} is damaged or missing (torn record header (7 of 16 bytes)); using the copy in ${b}`)), off), srv.log(off));
  await assertAllRows(srv);
  assertCopiesIdentical(srv);
});

test('a WAL directory emptied entirely is rebuilt from the other', async (t) => {
  const srv = await fillAndStop(t);
  const [a, b] = srv.walDirs;
  for (const f of walSegments(a)) fs.unlinkSync(f);
  await srv.restart();
  await assertAllRows(srv);
  assertCopiesIdentical(srv);
});

test('adding a second --wal-dir to an existing server fills it at start; later the second copy alone has everything', async (t) => {
  const srv = await startServer({ t, walDirs: 2, start: false, args: KEEP_WAL });
  const [a, b] = srv.walDirs;
  srv.walDirs = [a];
  await srv.start();
  for (let i = 0; i < 5; i++) await srv.write('grow', `m v=${i}i ${i + 1}`, { params: { precision: 's' } });
  await srv.stop();

  srv.walDirs = [a, b];
  const off = srv.logOffset();
  await srv.restart();
  const seg = path.join(b, '00000000000000000001.wal');
  assert.ok(srv.logContains(new RegExp(escapeRe(`${seg}: missing; restoring it from ${a}`)), off), srv.log(off));
  assertCopiesIdentical(srv);
  for (let i = 5; i < 8; i++) await srv.write('grow', `m v=${i}i ${i + 1}`, { params: { precision: 's' } });
  await srv.kill('SIGKILL');
  assertCopiesIdentical(srv);

  srv.walDirs = [b];
  await srv.restart();
  assert.deepEqual(
    (await srv.query('grow', 'SELECT v FROM m ORDER BY time')).map((r) => r.v),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
});
