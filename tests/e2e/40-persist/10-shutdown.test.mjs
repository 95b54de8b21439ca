// SPDX-License-Identifier: MIT
//
// A graceful shutdown persists everything (src/cli/cli_serve.c, src/store/store.h): SIGTERM
// freezes the buffer, writes one Parquet file per table and UTC day into the object store,
// commits them with the WAL watermark in one catalog transaction, removes every WAL
// segment and exits 0. Checked from the outside: the log lines, no *.wal left in any WAL
// directory, the objects (file store or S3 bucket) with the key layout of the README, every
// file valid for three independent Parquet readers (pqcheck), `silt inspect` describing a
// file, `silt verify` clean, and after the restart every row back exactly with nothing to
// replay. Also: --persist-on-shutdown false keeps the old behaviour, an empty server
// persists nothing, and files whose field columns are NULL in every row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, dumpDb, runSilt } from '../lib/server.mjs';
import {
  listParquet, listObjects, objectToFile, pqcheck, pqsql, unsortedAt, assertVerifyClean, walFiles, shutdownLine, persistLines, replayLine,
  count,
} from '../lib/storage.mjs';
import { mixedDataset, dayText, NS } from '../lib/dataset.mjs';

const KEY_RE = /^dbs\/(\d+)\/(\d+)\/(\d{4}-\d\d-\d\d)\/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.parquet$/;

/* Run fn over items, at most `width` at a time. */
async function pool(items, width, fn) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

test('graceful shutdown persists everything: log, no WAL segment left, one valid Parquet file per table and day, verify clean, every row back after the restart', { timeout: 180000 }, async (t) => {
  const srv = await startServer({ t, walDirs: 2 });
  const a = mixedDataset('pa');
  const b = { db: 'pb', batches: [], rows: 0 };
  // a second database: a bigger table, one day, written in 4 requests
  for (let r = 0; r < 4; r++) {
    const lines = [];
    for (let i = 0; i < 500; i++) {
      const n = r * 500 + i;
      lines.push(`bulk,k=k${n % 7} v=${n}i,f=${n / 8},s="s${n}",b=${n % 2 ? 't' : 'f'},u=${n}u ${1699920000000000000n + BigInt(n) * 1000000000n}`);
    }
    b.batches.push(lines.join('\n'));
    b.rows += 500;
  }
  let requests = 0;
  for (const ds of [a, b]) for (const body of ds.batches) {
    await srv.write(ds.db, body, NS);
    requests++;
  }
  assert.equal(await count(srv, 'pb', 'bulk'), 2000);
  const before = { pa: await dumpDb(srv, 'pa'), pb: await dumpDb(srv, 'pb') };
  assert.deepEqual(Object.keys(before.pa).sort(), a.tables);
  const rowsA = Object.values(before.pa).reduce((n, tb) => n + tb.rows.length, 0);
  assert.equal(rowsA, a.rows);
  const filesExpected = a.files + 1;
  const rowsExpected = a.rows + b.rows;
  assert.ok(walFiles(srv).length >= 2, 'no WAL segments before the shutdown');

  const off = srv.logOffset();
  const ex = await srv.stop();
  assert.deepEqual(ex, { code: 0, signal: null });
  const sd = shutdownLine(srv, off);
  assert.ok(sd, `no shutdown line:\n${srv.log(off)}`);
  assert.deepEqual(sd, { rows: rowsExpected, files: filesExpected, seq: requests, left: 0 }, srv.log(off));
  const pl = persistLines(srv, off);
  assert.equal(pl.reduce((n, p) => n + p.rows, 0), rowsExpected, srv.log(off));
  assert.equal(pl.reduce((n, p) => n + p.files, 0), filesExpected, srv.log(off));
  assert.ok(srv.logContains(/ stopped$/m, off));
  assert.deepEqual(walFiles(srv), [], 'WAL segments left after a graceful shutdown');

  // the objects: one per table and day, keyed dbs/<db>/<table>/<day>/<uuidv7>.parquet
  const objs = await listObjects(srv);
  assert.equal(objs.length, filesExpected, JSON.stringify(objs, null, 1));
  const perTable = new Map();
  for (const o of objs) {
    const m = KEY_RE.exec(o.key);
    assert.ok(m, `object key ${o.key} does not follow dbs/<db-id>/<table-id>/<YYYY-MM-DD>/<uuid>.parquet`);
    const k = `${m[1]}/${m[2]}`;
    if (!perTable.has(k)) perTable.set(k, []);
    perTable.get(k).push(m[3]);
    assert.ok(o.size > 0);
  }
  // the days of each table are the days its rows fall on
  const expectDays = [...a.tableDays.values()].map((s) => [...s].map(dayText).sort().join(' '));
  expectDays.push('2023-11-14');
  assert.deepEqual([...perTable.values()].map((d) => d.sort().join(' ')).sort(), expectDays.sort());

  // every file passes pqcheck (DuckDB, arrow-rs and hyparquet agree, statistics and page
  // indexes are right); silt inspect describes the columns of a file
  const dir = path.join(srv.root, 'objects-copy');
  const files = await pool(objs, 4, (o) => objectToFile(srv, o.key, dir));
  // (pqcheck takes seconds per file: it runs while the rest of the test goes on)
  const checking = pool(files, 2, (f) => pqcheck(f, ['--quiet']));
  const inspected = await pool(files, 4, (f) => runSilt(['inspect', f]));
  const cpuFile = inspected.find((r) => /"usage"/.test(r.stdout));
  assert.ok(cpuFile, 'no file of table cpu');
  assert.equal(cpuFile.code, 0, cpuFile.stderr);
  for (const re of [/rows: 200 in 1 row group/, /schema: 8 columns/, /"host": BYTE_ARRAY STRING/, /"region": BYTE_ARRAY STRING/,
    /"msg": BYTE_ARRAY STRING/, /"n": INT64 OPTIONAL/, /"ok": BOOLEAN/, /"u": INT64 INTEGER\(64,unsigned\)/, /"usage": DOUBLE/,
    /"time": INT64 TIMESTAMP\(NANOS/, /"silt\.schema"/])
    assert.match(cpuFile.stdout, re);
  let inspectedRows = 0;
  for (const r of inspected) {
    assert.equal(r.code, 0, r.stderr);
    inspectedRows += Number(/^rows: (\d+) in/m.exec(r.stdout)[1]);
  }
  assert.equal(inspectedRows, rowsExpected, 'the files hold another number of rows than was persisted');
  // rows are sorted by the tags (by tag name), then time, as DuckDB reads them
  for (const [i, r] of inspected.entries()) {
    if (!/"usage"|"k": BYTE_ARRAY/.test(r.stdout)) continue; // the cpu and bulk files
    const keys = /"usage"/.test(r.stdout) ? ['host', 'region', 'time'] : ['k', 'time'];
    const rows = await pqsql(files[i], `SELECT ${keys.join(', ')} FROM t`);
    assert.equal(rows.length, Number(/^rows: (\d+) in/m.exec(r.stdout)[1]));
    assert.equal(unsortedAt(rows, keys), null, objs[i].key);
  }

  // restart: nothing to replay, every table, column and row exactly as before
  const off2 = srv.logOffset();
  await srv.restart();
  const rp = replayLine(srv, off2);
  assert.ok(rp, srv.log(off2));
  assert.equal(rp.records, 0, srv.log(off2));
  assert.equal(rp.rows, 0);
  assert.equal(rp.watermark, requests);
  assert.deepEqual({ pa: await dumpDb(srv, 'pa'), pb: await dumpDb(srv, 'pb') }, before);
  assert.equal(await count(srv, 'pb', 'bulk'), 2000);

  const checks = await checking;
  checks.forEach((c, i) => assert.equal(c.code, 0, `pqcheck ${objs[i].key}:\n${c.out.slice(-3000)}`));

  const v = await assertVerifyClean(assert, srv, 'after the shutdown');
  assert.equal(v.files, filesExpected);
});

test('an empty server shuts down without files; --persist-on-shutdown false keeps the WAL and persists nothing', async (t) => {
  const srv = await startServer({ t });
  let off = srv.logOffset();
  await srv.stop();
  assert.deepEqual(shutdownLine(srv, off), { rows: 0, files: 0, seq: 0, left: 0 }, srv.log(off));
  assert.deepEqual(await listObjects(srv), []);

  srv.args = ['--persist-on-shutdown', 'false'];
  await srv.restart();
  for (let i = 0; i < 5; i++) await srv.write('keep', `k,i=${i} v=${i}i ${i + 1}`);
  off = srv.logOffset();
  await srv.stop();
  assert.equal(shutdownLine(srv, off), null, srv.log(off));
  assert.ok(srv.logContains(/5 rows in memory stay in the WAL \(--persist-on-shutdown false\)/, off), srv.log(off));
  assert.equal(walFiles(srv).length, 1);
  assert.deepEqual(await listParquet(srv), []);

  srv.args = [];
  off = srv.logOffset();
  await srv.restart();
  assert.equal(replayLine(srv, off).records, 5, srv.log(off));
  assert.equal(await count(srv, 'keep', 'k'), 5);
  off = srv.logOffset();
  await srv.stop();
  assert.deepEqual(shutdownLine(srv, off), { rows: 5, files: 1, seq: 5, left: 0 }, srv.log(off));
  assert.deepEqual(walFiles(srv), []);
  await srv.restart();
  assert.deepEqual(await srv.query('keep', 'SELECT i, v FROM k ORDER BY time'), [0, 1, 2, 3, 4].map((i) => ({ i: `${i}`, v: i })));
});

test('files whose columns are NULL in every row (tags and each of the five field types) are persisted and read back', async (t) => {
  // table nulls: day 0 holds every column; each later day holds rows with one field only,
  // so each of its files has four field columns without a single value (and no tag values
  // on day 5). Table bare has no tags, and its first column (a boolean) has no value on day 1.
  const srv = await startServer({ t });
  const day = 86400000000000n;
  const lines = ['nulls,k=all f=1.5,i=1i,u=1u,s="x",b=t 1000'];
  const only = ['f=2.5', 'i=2i', 'u=2u', 's="y"', 'b=f'];
  only.forEach((fv, d) => lines.push(`nulls${d < 4 ? `,k=d${d}` : ''} ${fv} ${BigInt(d + 1) * day + 1000n}`));
  lines.push('bare a=t,v=1.5 1000', `bare v=2.5 ${day + 1000n}`);
  await srv.write('nl', lines.join('\n'), NS);
  const before = await dumpDb(srv, 'nl');
  const off = srv.logOffset();
  const ex = await srv.stop().catch((e) => e);
  assert.ok(!(ex instanceof Error), `the graceful shutdown failed persisting all-NULL columns: ${ex.message}`);
  assert.deepEqual(shutdownLine(srv, off), { rows: 8, files: 8, seq: 1, left: 0 }, srv.log(off));
  await srv.restart();
  assert.deepEqual(await dumpDb(srv, 'nl'), before);
  const objs = await listParquet(srv);
  assert.equal(objs.length, 8);
  // pqcheck three of them: bare's day 1 (no tags, its first column a boolean without a
  // value), nulls' day 1 (four field columns without a value) and day 5 (no tag value)
  const dir = path.join(srv.root, 'objects-copy');
  const lastDays = ['1970-01-02', '1970-01-06'];
  const picked = objs.filter((o) => lastDays.some((d) => o.key.includes(`/${d}/`)));
  assert.equal(picked.length, 3);
  const files = await pool(picked, 4, (o) => objectToFile(srv, o.key, dir));
  const checks = await pool(files, 2, (f) => pqcheck(f, ['--quiet']));
  checks.forEach((c, i) => assert.equal(c.code, 0, `pqcheck ${picked[i].key}:\n${c.out.slice(-3000)}`));
  for (const f of files) fs.unlinkSync(f);
});
