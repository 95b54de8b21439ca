// SPDX-License-Identifier: MIT
//
// One WAL directory with a damaged segment (src/wal/README.md invariant 6): replay stops at
// the first invalid record, logs the file, offset and reason, truncates the segment there,
// and keeps everything before it. Cases: a torn last record, a torn record header, a
// zero-filled tail, a checksum mismatch in the middle, a segment whose header is garbage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, walSegments, parseSegment } from '../lib/server.mjs';

const N_REQ = 12;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/* N_REQ requests of 10 rows (one record each), graceful stop that keeps the WAL (these
 * tests damage its files; by default a graceful stop persists to Parquet and removes every
 * segment); returns the server and the only segment's path. */
async function fillAndStop(t) {
  const srv = await startServer({ t, args: ['--persist-on-shutdown', 'false'] });
  for (let b = 0; b < N_REQ; b++) {
    const body = Array.from({ length: 10 }, (_, i) => `tt,b=${b} v=${b * 10 + i}i ${b * 10 + i + 1}`).join('\n');
    await srv.write('tdb', body, { params: { precision: 'ns' } });
  }
  await srv.stop();
  const segs = walSegments(path.join(srv.dataDir, 'wal'));
  assert.equal(segs.length, 1);
  return { srv, seg: segs[0] };
}

/* The values of the rows present, in time order. */
async function values(srv) {
  return (await srv.query('tdb', 'SELECT v FROM tt ORDER BY time')).map((r) => r.v);
}
const range = (n) => Array.from({ length: n }, (_, i) => i);

test('a torn tail (the last bytes of the only segment cut off): "invalid record at offset N", truncated, earlier rows kept', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const parsed = parseSegment(fs.readFileSync(seg));
  const last = parsed.records[parsed.records.length - 1];
  const size = fs.statSync(seg).size;
  fs.truncateSync(seg, size - 5);
  const off = srv.logOffset();
  await srv.restart();
  const line = `${seg}: invalid record at offset ${last.offset}: torn record (payload of ${last.len} bytes, ${last.len - 5} present); truncating the segment there (${last.bytes - 5} bytes dropped)`;
  assert.ok(srv.logContains(new RegExp(escapeRe(line)), off), `log lacks:\n${line}\nlog:\n${srv.log(off)}`);
  assert.ok(srv.logContains(new RegExp(`WAL replay: ${N_REQ - 1} records .* 1 segment\\(s\\) truncated`), off), srv.log(off));
  assert.equal(fs.statSync(seg).size, last.offset, 'the segment was not truncated at the bad record');
  assert.deepEqual(await values(srv), range((N_REQ - 1) * 10));

  // new writes work, and the next restart finds nothing to repair
  await srv.write('tdb', 'tt,b=new v=1000i 100000', { params: { precision: 'ns' } });
  await srv.kill('SIGKILL');
  const off2 = srv.logOffset();
  await srv.restart();
  assert.ok(!srv.logContains(/invalid record/, off2), srv.log(off2));
  assert.deepEqual(await values(srv), [...range((N_REQ - 1) * 10), 1000]);
});

test('a torn record header: "torn record header (7 of 16 bytes)"', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const last = parseSegment(fs.readFileSync(seg)).records.at(-1);
  fs.truncateSync(seg, last.offset + 7);
  const off = srv.logOffset();
  await srv.restart();
  const line = `${seg}: invalid record at offset ${last.offset}: torn record header (7 of 16 bytes); truncating the segment there (7 bytes dropped)`;
  assert.ok(srv.logContains(new RegExp(escapeRe(line)), off), `log lacks:\n${line}\nlog:\n${srv.log(off)}`);
  assert.deepEqual(await values(srv), range((N_REQ - 1) * 10));
});

test('a zero-filled tail after the last record: every row kept, the zeros cut', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const size = fs.statSync(seg).size;
  fs.appendFileSync(seg, Buffer.alloc(4096));
  const off = srv.logOffset();
  await srv.restart();
  const line = `${seg}: invalid record at offset ${size}: zero-filled record header (end of data); truncating the segment there (4096 bytes dropped)`;
  assert.ok(srv.logContains(new RegExp(escapeRe(line)), off), `log lacks:\n${line}\nlog:\n${srv.log(off)}`);
  assert.equal(fs.statSync(seg).size, size);
  assert.deepEqual(await values(srv), range(N_REQ * 10));
});

test('a checksum mismatch in the middle: replay stops there, logs it, keeps the records before', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const buf = fs.readFileSync(seg);
  const rec = parseSegment(buf).records[6];
  const at = rec.offset + 16 + 3;
  const fd = fs.openSync(seg, 'r+');
  fs.writeSync(fd, Buffer.from([buf[at] ^ 0xff]), 0, 1, at);
  fs.closeSync(fd);
  const off = srv.logOffset();
  await srv.restart();
  const line = `${seg}: invalid record at offset ${rec.offset}: checksum mismatch in record seq ${rec.seq}; truncating the segment there (${buf.length - rec.offset} bytes dropped)`;
  assert.ok(srv.logContains(new RegExp(escapeRe(line)), off), `log lacks:\n${line}\nlog:\n${srv.log(off)}`);
  const v = await values(srv);
  assert.deepEqual(v.slice(0, 60), range(60), 'rows of the records before the damaged one are missing');
});

test('a damaged length field: "invalid record length"', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const rec = parseSegment(fs.readFileSync(seg)).records.at(-1);
  const fd = fs.openSync(seg, 'r+');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(0xfffffff0);
  fs.writeSync(fd, len, 0, 4, rec.offset);
  fs.closeSync(fd);
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(escapeRe(`${seg}: invalid record at offset ${rec.offset}: invalid record length ${0xfffffff0}; truncating the segment there`)), off), srv.log(off));
  assert.deepEqual(await values(srv), range((N_REQ - 1) * 10));
});

test('a later segment whose header is garbage is removed; the rows of the good segment stay', async (t) => {
  const { srv, seg } = await fillAndStop(t);
  const bogus = path.join(path.dirname(seg), `${String(N_REQ + 1).padStart(20, '0')}.wal`);
  fs.writeFileSync(bogus, Buffer.from('not a wal header, just some bytes'));
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(`${escapeRe(bogus)}: removing segment without a valid header`), off), srv.log(off));
  assert.ok(!fs.existsSync(bogus));
  assert.deepEqual(await values(srv), range(N_REQ * 10));
  await srv.write('tdb', 'tt,b=new v=5000i 99999', { params: { precision: 'ns' } });
  assert.equal((await values(srv)).length, N_REQ * 10 + 1);
});
