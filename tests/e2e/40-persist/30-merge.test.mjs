// SPDX-License-Identifier: MIT
//
// Queries over Parquet files and the buffer together (src/query/query_merge.c): last write
// wins field by field for one series and time across files and buffer, and across
// several files; a new field and a new tag column added after a file was written; WHERE on
// the newest values only; counts never see a row twice. And time pruning (catalog ranges,
// row groups, page indexes) with small pages and row groups: every time range, inside one
// page, over file and day boundaries, over files and the buffer, at the extreme times,
// answers exactly the rows a client-side model says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, dumpDb, runSilt } from '../lib/server.mjs';
import { nsToTime } from '../lib/util.mjs';
import { listParquet, walFiles, count, shutdownLine, objectToFile, pqcheck, pqsql, unsortedAt } from '../lib/storage.mjs';
import { NS, BASE } from '../lib/dataset.mjs';

const T = BASE + 123456789n;

/* SELECT * of the series (host, dc=x) at time T. */
const rowAt = async (srv, host) => srv.query('lww', `SELECT * FROM lww WHERE host = '${host}' AND time = ${T}`);

/* Graceful restart: everything in the buffer becomes a file. */
async function persistAndRestart(srv) {
  const off = srv.logOffset();
  await srv.stop();
  assert.ok(shutdownLine(srv, off), srv.log(off));
  assert.deepEqual(walFiles(srv), []);
  await srv.restart();
}

test('last write wins across a file and the buffer, across files, and after restarts: one merged row, counted once', async (t) => {
  const srv = await startServer({ t });
  await srv.write('lww', [
    `lww,host=a,dc=x f=1.5,i=1i,s="old",b=t,u=1u ${T}`,
    `lww,host=b,dc=x f=9.5,i=9i ${T}`,
    `lww,host=a,dc=x f=0.5 ${T - 1000n}`,
  ].join('\n'), NS);
  await persistAndRestart(srv);
  assert.equal((await listParquet(srv)).length, 1);

  // the same series and time again: f and s change, a new field appears, i, b, u stay
  await srv.write('lww', `lww,host=a,dc=x f=2.5,s="new",extra=7u ${T}`, NS);
  const merged = [{ b: true, dc: 'x', extra: 7, f: 2.5, host: 'a', i: 1, s: 'new', time: nsToTime(T), u: 1 }];
  const check = async (want, what) => {
    assert.deepEqual(await rowAt(srv, 'a'), want, what);
    assert.equal(await count(srv, 'lww', 'lww'), 3, what);
    assert.equal(await count(srv, 'lww', 'lww', "host = 'a'"), 2, what);
    assert.deepEqual(await srv.query('lww', `SELECT count(*) FROM lww WHERE time = ${T}`), [{ 'count(*)': 2 }], what);
    // WHERE sees only the newest values of the merged row
    assert.deepEqual(await srv.query('lww', "SELECT host FROM lww WHERE s = 'old'"), [], what);
    assert.deepEqual(await srv.query('lww', `SELECT host, s FROM lww WHERE s = '${want[0].s}'`), [{ host: 'a', s: want[0].s }], what);
    assert.deepEqual(await srv.query('lww', 'SELECT host FROM lww WHERE f = 1.5'), [], what);
    const big = (await srv.query('lww', 'SELECT host, f FROM lww WHERE f > 2')).sort((x, y) => (x.host < y.host ? -1 : 1));
    assert.deepEqual(big, [{ host: 'a', f: want[0].f }, { host: 'b', f: 9.5 }], what);
    // the other rows are untouched
    assert.deepEqual(await rowAt(srv, 'b'), [{ dc: 'x', f: 9.5, host: 'b', i: 9, time: nsToTime(T) }], what);
    assert.deepEqual(await srv.query('lww', `SELECT f FROM lww WHERE time = ${T - 1000n}`), [{ f: 0.5 }], what);
  };
  await check(merged, 'file + buffer');
  await persistAndRestart(srv);
  assert.equal((await listParquet(srv)).length, 2);
  await check(merged, 'two files');
  assert.ok((await srv.query('lww', 'SHOW COLUMNS FROM lww')).some((c) => c.column_name === 'extra'));

  // a third write of one field: two files and the buffer merge
  await srv.write('lww', `lww,host=a,dc=x b=false ${T}`, NS);
  merged[0].b = false;
  await check(merged, 'two files + buffer');
  await srv.kill('SIGKILL'); // the buffer comes back from the WAL
  await srv.restart();
  await check(merged, 'two files + buffer replayed from the WAL');
  await persistAndRestart(srv);
  assert.equal((await listParquet(srv)).length, 3);
  await check(merged, 'three files');

  // a new tag column after the files were written: rows without it are still one series
  await srv.write('lww', `lww,host=c,dc=x,rack=r1 f=3 ${T}\nlww,host=a,dc=x i=2i ${T}`, NS);
  merged[0].i = 2;
  assert.deepEqual(await rowAt(srv, 'a'), merged);
  assert.equal(await count(srv, 'lww', 'lww'), 4);
  assert.deepEqual(await srv.query('lww', `SELECT host, rack, f FROM lww WHERE rack = 'r1'`), [{ host: 'c', rack: 'r1', f: 3 }]);
  const before = await dumpDb(srv, 'lww');
  await persistAndRestart(srv);
  assert.deepEqual(await dumpDb(srv, 'lww'), before);
  assert.deepEqual(await rowAt(srv, 'a'), merged);
  assert.equal(await count(srv, 'lww', 'lww'), 4);
});

/* ------------------------------------------------------------------ time pruning */

const DAY = 86400000000000n;
const D0 = 1699920000000000000n; // 2023-11-14T00:00:00Z
const STEP = 57600000000n; // 1500 points per day and series
const SERIES = 4;
const MIN_T = -9223372036854775806n;
const MAX_T = 9223372036854775806n;

const tOf = (s, i) => D0 + BigInt(i) * STEP + BigInt(s);

test('time ranges over small pages and row groups, files, days, the buffer and the extreme times answer exactly the right rows', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t, args: ['--parquet-page-size', '4096', '--parquet-row-group-rows', '1024'] });
  const model = new Map(); // time (string) -> { s, time, v, n }
  const put = (s, ns, v, n) => {
    const prev = model.get(ns.toString());
    model.set(ns.toString(), { s, ns, v: v ?? prev.v, n: n ?? prev.n });
  };
  // days 0..2 (3 files of 6000 rows each), plus the extreme times (their own days)
  for (let d = 0; d < 3; d++) {
    const lines = [];
    for (let i = d * 1500; i < (d + 1) * 1500; i++) {
      for (let s = 0; s < SERIES; s++) {
        const v = i * 10 + s + 0.25;
        lines.push(`tp,s=s${s} v=${v},n=${i}i ${tOf(s, i)}`);
        put(`s${s}`, tOf(s, i), v, i);
      }
    }
    await srv.write('tp', lines.join('\n'), NS);
  }
  await srv.write('tp', `tp,s=s9 v=-1,n=-1i ${MIN_T}\ntp,s=s9 v=1,n=1i ${MAX_T}`, NS);
  put('s9', MIN_T, -1, -1);
  put('s9', MAX_T, 1, 1);
  await persistAndRestart(srv);
  const objs = await listParquet(srv);
  assert.equal(objs.length, 5);
  // a day's file really has several row groups and pages per column (what pruning skips),
  // and is valid for the other readers
  const day1 = objs.find((o) => o.key.includes('/2023-11-15/'));
  const file = await objectToFile(srv, day1.key, path.join(srv.root, 'copy'));
  const ins = await runSilt(['inspect', file]);
  assert.equal(ins.code, 0, ins.stderr);
  assert.match(ins.stdout, /^rows: 6000 in 6 row groups$/m);
  assert.ok([...ins.stdout.matchAll(/"time": .*, (\d+) data pages/g)].some((m) => Number(m[1]) > 1), ins.stdout);
  const pq = await pqcheck(file, ['--quiet']);
  assert.equal(pq.code, 0, pq.out.slice(-3000));
  const sorted = await pqsql(file, 'SELECT s, time FROM t');
  assert.equal(sorted.length, 6000);
  assert.equal(unsortedAt(sorted, ['s', 'time']), null);

  // the buffer: day 3 (i 4500..4999), and overwrites of s1's v for i 2000..2099 (a file)
  const lines = [];
  for (let i = 4500; i < 5000; i++) {
    for (let s = 0; s < SERIES; s++) {
      lines.push(`tp,s=s${s} v=${i * 10 + s + 0.25},n=${i}i ${tOf(s, i)}`);
      put(`s${s}`, tOf(s, i), i * 10 + s + 0.25, i);
    }
  }
  for (let i = 2000; i < 2100; i++) {
    lines.push(`tp,s=s1 v=${-i} ${tOf(1, i)}`);
    put('s1', tOf(1, i), -i, undefined);
  }
  await srv.write('tp', lines.join('\n'), NS);

  const all = [...model.values()].sort((a, b) => (a.ns < b.ns ? -1 : 1));
  const want = (lo, hi) => all.filter((r) => r.ns >= lo && r.ns <= hi); // inclusive
  const ranges = [
    ['inside one page', tOf(0, 10), tOf(0, 12) - 1n],
    ['one point', tOf(2, 777), tOf(2, 777)],
    ['between two points', tOf(3, 100) + 1n, tOf(0, 101) - 1n],
    ['one whole day (one file)', D0 + DAY, D0 + 2n * DAY - 1n],
    ['over a day and file boundary', tOf(0, 1400), tOf(3, 1600)],
    ['inside the overwritten range', tOf(1, 2050), tOf(1, 2060)],
    ['over files and the buffer', tOf(0, 2900), tOf(0, 4600)],
    ['the buffer only', tOf(0, 4500), tOf(3, 4999)],
    ['before the data (but after MIN)', MIN_T + 1n, D0 - 1n],
    ['after the data (but before MAX)', tOf(3, 4999) + 1n, MAX_T - 1n],
    ['the smallest time', MIN_T, MIN_T],
    ['the largest time', MAX_T, MAX_T],
    ['everything', MIN_T, MAX_T],
  ];
  for (const [what, lo, hi] of ranges) {
    const w = want(lo, hi);
    const where = `time >= ${lo} AND time <= ${hi}`;
    assert.equal(await count(srv, 'tp', 'tp', where), w.length, `${what}: count(*)`);
    const r = await srv.queryRaw('tp', `SELECT s, v, n, time FROM tp WHERE ${where} ORDER BY time`, { format: 'jsonl' });
    assert.equal(r.status, 200, r.text);
    const got = r.text.split('\n').filter((l) => l).map((l) => JSON.parse(l));
    assert.equal(got.length, w.length, `${what}: rows`);
    got.forEach((g, k) => assert.deepEqual(g, { s: w[k].s, v: w[k].v, n: w[k].n, time: nsToTime(w[k].ns) }, `${what}: row ${k}`));
    // strict bounds and one series
    assert.equal(await count(srv, 'tp', 'tp', `time > ${lo} AND time < ${hi} AND s = 's1'`), w.filter((x) => x.ns > lo && x.ns < hi && x.s === 's1').length, `${what}: strict, s1`);
  }
  // ORDER BY with LIMIT over files, the merged day and the buffer
  const pick = (rows) => rows.map((r) => ({ s: r.s, v: r.v, time: nsToTime(r.ns) }));
  for (const [lo, hi, dir, n] of [[tOf(0, 1490), tOf(0, 4510), 'DESC', 7], [tOf(0, 1490), tOf(0, 4510), 'ASC', 45], [tOf(1, 2095), tOf(1, 2105), 'DESC', 30], [MIN_T, MAX_T, 'DESC', 3], [MIN_T, MAX_T, 'ASC', 3]]) {
    const w = want(lo, hi);
    const exp = pick(dir === 'DESC' ? [...w].reverse().slice(0, n) : w.slice(0, n));
    assert.deepEqual(await srv.query('tp', `SELECT s, v, time FROM tp WHERE time >= ${lo} AND time <= ${hi} ORDER BY time ${dir} LIMIT ${n}`), exp, `ORDER BY time ${dir} LIMIT ${n} in [${lo}, ${hi}]`);
  }
  assert.deepEqual((await srv.query('tp', `SELECT v FROM tp WHERE s = 's1' AND time >= ${tOf(1, 2098)} ORDER BY time LIMIT 4`)).map((r) => r.v), [-2098, -2099, 21001.25, 21011.25]);
  assert.equal(await count(srv, 'tp', 'tp', 'time < 0'), 1);
  assert.equal(await count(srv, 'tp', 'tp'), all.length);
  assert.equal(all.length, 5000 * SERIES + 2);
});

test('overwrites racing the persists (--buffer-persist-age 1s): readers never see a row twice or an older version after a newer one', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ t, args: ['--buffer-persist-age', '1s'] });
  const K = 100;
  const T0 = BASE;
  const body = (ver) => Array.from({ length: K }, (_, k) => `ow,k=k${k} v=${ver}i${k % 2 ? `,odd=${ver}` : ''} ${T0 + BigInt(k % 10)}`).join('\n');
  // 100 series over 10 times: k and k+10 ... share a time, not a series
  await srv.write('ow', body(0), NS);
  let sentVer = 0;
  let ackedVer = 0;
  let stop = false;
  let reads = 0;
  const last = new Map();
  const reader = (async () => {
    while (!stop) {
      const lo = ackedVer;
      const rows = await srv.query('ow', 'SELECT k, v, odd FROM ow');
      const hi = sentVer;
      assert.equal(rows.length, K, `a read saw ${rows.length} rows of ${K}`);
      for (const r of rows) {
        assert.ok(r.v >= lo && r.v <= hi, `${r.k}: version ${r.v} outside [${lo}, ${hi}]`);
        assert.ok(r.v >= (last.get(r.k) ?? 0), `${r.k}: version ${r.v} after version ${last.get(r.k)} (an older write won)`);
        if (Number(r.k.slice(1)) % 2) assert.equal(r.odd, r.v, `${r.k}: fields of two versions in one row`);
        last.set(r.k, r.v);
      }
      reads++;
    }
  })();
  const deadline = Date.now() + 4000;
  while (Date.now() < deadline) {
    sentVer++;
    await srv.write('ow', body(sentVer), NS);
    ackedVer = sentVer;
    await new Promise((r) => setTimeout(r, 20));
  }
  stop = true;
  await reader;
  assert.ok(reads > 10, `${reads} reads`);
  const persists = (srv.log().match(/store: persisted/g) ?? []).length;
  assert.ok(persists >= 2, `${persists} persists while overwriting`);
  const final = Array.from({ length: K }, (_, k) => `k${k}:${sentVer}`).sort();
  const state = async () => (await srv.query('ow', 'SELECT k, v, odd FROM ow')).map((r) => {
    if (Number(r.k.slice(1)) % 2) assert.equal(r.odd, r.v);
    return `${r.k}:${r.v}`;
  }).sort();
  assert.deepEqual(await state(), final);
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual(await state(), final);
  await persistAndRestart(srv);
  assert.deepEqual(await state(), final);
  assert.equal(await count(srv, 'ow', 'ow'), K);
});
