// SPDX-License-Identifier: MIT
//
// Persisting while the server runs (src/jobs/jobs.h): the persister freezes the buffer once
// it holds --buffer-persist-size bytes or its oldest write is --buffer-persist-age old,
// writes the Parquet files, commits them with the WAL watermark and removes the WAL
// segments wholly at or below it. Checked: files appear in the object store while the
// server runs, every persist is logged, no WAL segment whose records are all at or below
// the watermark remains, queries keep answering every row exactly once across files and
// buffer (also while a persist is running), and a kill -9 afterwards replays only the
// records above the watermark.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, parseSegment } from '../lib/server.mjs';
import { listParquet, walFiles, persistLines, replayLine, metric, count, waitFor } from '../lib/storage.mjs';
import { NS, BASE } from '../lib/dataset.mjs';

/* Batch b of the size test: 2000 rows, 16 series, unique (series, time) per row, with a
 * string field so that the buffer grows fast. */
const ROWS_PER_BATCH = 2000;
function sizeBatch(b) {
  const lines = [];
  for (let i = 0; i < ROWS_PER_BATCH; i++) {
    const n = b * ROWS_PER_BATCH + i;
    lines.push(`load,s=s${n % 16},g=g${n % 3} v=${n}i,f=${n / 4},txt="${`payload ${n} `.padEnd(48, '.')}" ${BASE + BigInt(n) * 1000000n}`);
  }
  return lines.join('\n');
}

/* No WAL segment may consist only of records at or below the watermark. */
function assertWalTrimmed(srv, watermark) {
  for (const f of walFiles(srv)) {
    let buf;
    try {
      buf = fs.readFileSync(f);
    } catch (e) {
      if (e.code === 'ENOENT') continue; // removed meanwhile
      throw e;
    }
    const seg = parseSegment(buf);
    if (!seg.records.length) continue; // just created, nothing in it yet
    const last = seg.records[seg.records.length - 1].seq;
    assert.ok(last > BigInt(watermark), `${f}: every record (last seq ${last}) is at or below the watermark ${watermark}, yet the segment was not removed`);
  }
}

test('--buffer-persist-size 1MiB: files appear while writing, WAL segments below the watermark go, every row is counted once', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t, args: ['--buffer-persist-size', '1MiB', '--wal-segment-size', '256KiB'] });
  const BATCHES = 30;
  let total = 0;
  let sent = 0;
  let seen = 0;
  // a reader racing the writes and the persists: every count(*) lies between the rows
  // acknowledged before it started and the rows sent before it ended (a generation dropped
  // from the buffer while its files are being listed must be counted once, not 0 or 2 times)
  let stopReader = false;
  let reads = 0;
  await srv.write('sz', 'load,s=x v=-1i 1', NS); // one more row (record 1): the table exists before the reader starts
  sent = 1;
  const reader = (async () => {
    while (!stopReader) {
      const lo = total + 1;
      const c = await count(srv, 'sz', 'load');
      assert.ok(c >= lo && c <= sent, `a concurrent count(*) answered ${c}: ${lo} rows were acknowledged before it, ${sent} sent before its answer`);
      reads++;
    }
  })();
  t.after(() => {
    stopReader = true;
  });
  for (let b = 0; b < BATCHES; b++) {
    sent += ROWS_PER_BATCH;
    await srv.write('sz', sizeBatch(b), NS);
    total += ROWS_PER_BATCH;
    // files + buffer answer every acknowledged row, exactly once
    assert.equal(await count(srv, 'sz', 'load'), total + 1, `after batch ${b}`);
    // above the threshold, a persist comes (the persister looks twice a second)
    if ((await metric(srv, 'silt_buffer_bytes')) >= 1 << 20) {
      await waitFor(() => persistLines(srv).length > seen, { what: `a persist after batch ${b} (buffer above 1 MiB)`, timeoutMs: 15000, describe: () => srv.log() });
      assert.equal(await count(srv, 'sz', 'load'), total + 1, `after the persist after batch ${b}`);
    }
    seen = persistLines(srv).length;
  }
  stopReader = true;
  await reader;
  assert.ok(reads >= 10, `only ${reads} concurrent reads`);
  const lines = persistLines(srv);
  assert.ok(lines.length >= 3, `only ${lines.length} persists for ${BATCHES} batches of about 0.2 MB in the buffer each:\n${srv.log()}`);
  for (const l of lines) {
    assert.ok(l.files >= 1 && l.rows > 0, JSON.stringify(l));
    assert.ok(l.rows < total, `one persist took all ${l.rows} rows: the size threshold was not applied`);
  }
  const watermark = Math.max(...lines.map((l) => l.seq));
  assert.ok(watermark >= 1 && watermark <= BATCHES + 1);
  assertWalTrimmed(srv, watermark);
  // the objects are the files the log reports, the metrics count the rows it reports (a
  // persist may still be running: poll until the three agree)
  await waitFor(async () => {
    const persisted = persistLines(srv);
    return (await listParquet(srv)).length === persisted.reduce((n, l) => n + l.files, 0) &&
      (await metric(srv, 'silt_persist_rows_total')) === persisted.reduce((n, l) => n + l.rows, 0);
  }, { what: 'objects, log and metrics to agree', timeoutMs: 15000, describe: async () => `${JSON.stringify(persistLines(srv))}\n${(await listParquet(srv)).length} objects, ${await metric(srv, 'silt_persist_rows_total')} rows in the metrics` });

  // every row once, with its values, across the files and the buffer
  assert.equal(await count(srv, 'sz', 'load'), total + 1);
  const rows = await srv.query('sz', "SELECT v, f, g FROM load WHERE s = 's5' ORDER BY time");
  assert.equal(rows.length, total / 16);
  rows.forEach((r, k) => {
    const n = k * 16 + 5;
    assert.deepEqual(r, { v: n, f: n / 4, g: `g${n % 3}` });
  });
  // time ranges over file and buffer boundaries
  for (const [lo, hi] of [[0, total], [1234, 40321], [ROWS_PER_BATCH * 7, ROWS_PER_BATCH * 7 + 1], [total - 10, total + 10]]) {
    const want = Math.max(0, Math.min(hi, total) - lo);
    assert.equal(await count(srv, 'sz', 'load', `time >= ${BASE + BigInt(lo) * 1000000n} AND time < ${BASE + BigInt(hi) * 1000000n}`), want, `[${lo}, ${hi})`);
  }

  // kill -9: the restart replays only the records above the watermark
  const final = Math.max(...persistLines(srv).map((l) => l.seq));
  await srv.kill('SIGKILL');
  const off = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off);
  assert.ok(rp, srv.log(off));
  assert.equal(rp.watermark, final, srv.log(off));
  assert.equal(rp.applied, BATCHES + 1 - final, srv.log(off));
  assert.equal(await count(srv, 'sz', 'load'), total + 1);
  assert.deepEqual(await srv.query('sz', "SELECT count(*) FROM load WHERE s = 's15' AND g = 'g0'"), [{ 'count(*)': total / 48 }]);
});

test('--buffer-persist-age 2s: each write is persisted about 2 s later, the WAL empties, queries stay exact during the persists', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t, walDirs: 2, args: ['--buffer-persist-age', '2s'] });
  let total = 0;
  let files = 0;
  const ROUNDS = 3;
  for (let round = 0; round < ROUNDS; round++) {
    const off = srv.logOffset();
    const t0 = Date.now();
    const lines = [];
    for (let i = 0; i < 300; i++) lines.push(`age,r=r${round},k=k${i % 5} v=${i}i,b=${i % 2 ? 't' : 'f'} ${BASE + BigInt(round) * 86400000000000n + BigInt(i) * 1000n}`);
    await srv.write('ag', lines.join('\n'), NS);
    total += 300;
    // query continuously while the persist happens: never a row missing or counted twice
    let queries = 0;
    await waitFor(async () => {
      assert.equal(await count(srv, 'ag', 'age'), total, `round ${round}, query ${queries} (during the persist)`);
      queries++;
      return persistLines(srv, off).length > 0;
    }, { intervalMs: 10, timeoutMs: 15000, what: `the persist of round ${round}`, describe: () => srv.log(off) });
    const line = /^(\S+) INFO\s+store: persisted (\d+) file\(s\), (\d+) rows/m.exec(srv.log(off));
    assert.equal(Number(line[3]), 300);
    files += Number(line[2]);
    const at = Date.parse(line[1]);
    assert.ok(at >= t0 + 1990, `persisted ${at - t0} ms after the write, before --buffer-persist-age 2s`);
    // the only segment held only persisted records: it is gone from both WAL directories
    assert.deepEqual(walFiles(srv), []);
    assert.equal(await count(srv, 'ag', 'age'), total);
    assert.ok(queries > 1);
  }
  assert.equal(files, ROUNDS); // one table, one day per round
  assert.equal((await listParquet(srv)).length, files);

  // and a write in the buffer: files plus buffer, ranges inside one file, across files, and
  // across files and buffer
  await srv.write('ag', `age,r=r9,k=k0 v=9i,b=t ${BASE + 2n * 86400000000000n + 7n}`, NS);
  total += 1;
  const day = 86400000000000n;
  const cases = [
    [`time >= ${BASE} AND time < ${BASE + 300000n}`, 300],
    [`time >= ${BASE + 150000n} AND time < ${BASE + day + 150000n}`, 300],
    [`time >= ${BASE} AND time <= ${BASE + 2n * day + 299000n}`, 901],
    [`time > ${BASE + 2n * day} AND time < ${BASE + 2n * day + 1000n}`, 1],
    [`time >= ${BASE + 2n * day + 7n} AND time <= ${BASE + 2n * day + 7n}`, 1],
    [`time >= ${BASE + 3n * day}`, 0],
  ];
  for (const [where, want] of cases) assert.equal(await count(srv, 'ag', 'age', where), want, where);
  assert.deepEqual(await srv.query('ag', "SELECT r, v, b FROM age WHERE k = 'k0' AND time >= " + `${BASE + 2n * day} AND time < ${BASE + 2n * day + 10000n} ORDER BY time`), [
    { r: 'r2', v: 0, b: false },
    { r: 'r9', v: 9, b: true },
    { r: 'r2', v: 5, b: true },
  ]);

  // kill -9 before the last write is persisted (or after: both are fine), then restart
  await srv.kill('SIGKILL');
  const off = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off);
  assert.ok(rp && rp.watermark >= ROUNDS && rp.applied === ROUNDS + 1 - rp.watermark, srv.log(off));
  assert.equal(await count(srv, 'ag', 'age'), total);
});
