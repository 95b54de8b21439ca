// SPDX-License-Identifier: MIT
//
// Differential query tests: a random data set (seeded) is written through the write API in two
// rounds, the second overwriting part of the first (last write wins, field by field) and
// persisted to Parquet; then random queries from a small grammar run on silt and, rendered
// in DuckDB's dialect, on DuckDB over the very Parquet files silt wrote (lib/oracle.mjs
// applies silt's merge rule across files). Every answer must be identical. The same queries
// also run while the second round is still in the buffer: silt's answers must not change when
// the buffer is persisted.
//
// Besides single-table SELECTs and aggregates, the grammar composes queries: subqueries in
// FROM, WITH (CTEs reading earlier CTEs) and UNION ALL (rows and aggregates, mixed numeric
// types).
//
// SILT_DIFF_SEED=<seed> replays a run (the seed is printed); SILT_DIFF_QUERIES sets the
// number of queries (default 200).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import { listParquet, objectToFile } from '../lib/storage.mjs';
import { openOracle, dropNulls } from '../lib/oracle.mjs';
import { NS } from '../lib/dataset.mjs';

function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const D0 = 1699920000000000000n; // 2023-11-14T00:00:00Z
const STEP = 61000000123n; // ~61 s: 4,000 rows span about three UTC days; times are unique
const HOSTS = 10;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'Zeta', 'über', 'ω', 'a b', "it's", ''];

function isoOf(ns) {
  const ms = Number(ns / 1000000n);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/* ------------------------------------------------------------------ the data set */

function makeData(rng) {
  const pick = (a) => a[Math.floor(rng() * a.length)];
  const rows = []; // { host, region?, time, f?, i?, u?, b?, s? } as written in round 1
  const fieldGen = {
    f: () => Number(((rng() - 0.5) * 2000).toFixed(3)),
    i: () => Math.floor((rng() - 0.5) * 2000000),
    u: () => Math.floor(rng() * 1000000),
    b: () => rng() < 0.5,
    s: () => pick(WORDS),
  };
  const present = { f: 0.85, i: 0.85, u: 0.8, b: 0.8, s: 0.8 };
  const fieldsOf = () => {
    const o = {};
    for (const k of Object.keys(fieldGen)) if (rng() < present[k]) o[k] = fieldGen[k]();
    if (!Object.keys(o).length) o.f = fieldGen.f();
    return o;
  };
  for (let k = 0; k < 3500; k++) {
    const r = { host: `h${Math.floor(rng() * HOSTS)}`, time: D0 + BigInt(k) * STEP };
    if (rng() < 0.8) r.region = `r${Math.floor(rng() * 4)}`;
    Object.assign(r, fieldsOf());
    rows.push(r);
  }
  // round 2: overwrite some rows (same series and time, some fields), and add new ones
  const round2 = [];
  for (let n = 0; n < 600; n++) {
    const base = pick(rows);
    const o = { host: base.host, time: base.time };
    if (base.region !== undefined) o.region = base.region;
    Object.assign(o, fieldsOf());
    round2.push(o);
  }
  for (let k = 3500; k < 4000; k++) {
    const r = { host: `h${Math.floor(rng() * HOSTS)}`, time: D0 + BigInt(k) * STEP };
    if (rng() < 0.8) r.region = `r${Math.floor(rng() * 4)}`;
    Object.assign(r, fieldsOf());
    round2.push(r);
  }
  return { round1: rows, round2 };
}

const lpString = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
function toLp(r) {
  const tags = `m,host=${r.host}${r.region !== undefined ? `,region=${r.region}` : ''}`;
  const f = [];
  if (r.f !== undefined) f.push(`f=${r.f}`);
  if (r.i !== undefined) f.push(`i=${r.i}i`);
  if (r.u !== undefined) f.push(`u=${r.u}u`);
  if (r.b !== undefined) f.push(`b=${r.b}`);
  if (r.s !== undefined) f.push(`s=${lpString(r.s)}`);
  return `${tags} ${f.join(',')} ${r.time}`;
}

/* ------------------------------------------------------------------ the query grammar */

/* An expression is rendered for both dialects: { silt, duck }. */
const both = (s, d = s) => ({ silt: s, duck: d });
const sqlStr = (s) => `'${s.replace(/'/g, "''")}'`;

function makeGen(rng) {
  const pick = (a) => a[Math.floor(rng() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
  const cmp = () => pick(['=', '!=', '<', '<=', '>', '>=']);
  const tMin = D0, tMax = D0 + 4000n * STEP;
  const randTime = () => tMin + BigInt(Math.floor(rng() * Number(tMax - tMin + STEP)));

  const leaf = () => {
    switch (int(0, 10)) {
      case 0: return both(`host ${cmp()} ${sqlStr(`h${int(0, HOSTS)}`)}`);
      case 1: return both(`region ${cmp()} ${sqlStr(`r${int(0, 4)}`)}`);
      case 2: return both(`${pick(['region', 'f', 'i', 'u', 'b', 's'])} IS ${pick(['', 'NOT '])}NULL`);
      case 3: return both(`f ${cmp()} ${((rng() - 0.5) * 2000).toFixed(int(0, 3))}`);
      case 4: return both(`i ${cmp()} ${int(-1000000, 1000000)}`);
      case 5: return both(`u ${cmp()} ${int(0, 1000000)}`);
      case 6: return both(`b = ${pick(['true', 'false'])}`);
      case 7: return both(`s ${cmp()} ${sqlStr(pick(WORDS))}`);
      case 8: {
        const t = randTime();
        const op = cmp();
        return both(`time ${op} ${sqlStr(isoOf(t))}`, `time ${op} TIMESTAMP_NS ${sqlStr(isoOf(t).replace('T', ' ').replace('Z', ''))}`);
      }
      case 9: {
        const t = randTime();
        const op = pick(['<', '<=', '>', '>=']);
        return both(`time ${op} ${t}`, `epoch_ns(time) ${op} ${t}`);
      }
      default: {
        // a time window
        const a = randTime();
        const b = a + BigInt(int(1, 20000)) * STEP;
        return both(`time >= ${a} AND time < ${b}`, `epoch_ns(time) >= ${a} AND epoch_ns(time) < ${b}`);
      }
    }
  };
  const pred = (depth = 0) => {
    const r = rng();
    if (depth >= 2 || r < 0.45) return leaf();
    if (r < 0.55) {
      const p = pred(depth + 1);
      return both(`NOT (${p.silt})`, `NOT (${p.duck})`);
    }
    const op = r < 0.8 ? 'AND' : 'OR';
    const kids = Array.from({ length: int(2, 3) }, () => pred(depth + 1));
    return both(kids.map((k) => `(${k.silt})`).join(` ${op} `), kids.map((k) => `(${k.duck})`).join(` ${op} `));
  };
  const where = () => (rng() < 0.85 ? pred() : null);
  const W = (w, d) => (w ? ` WHERE ${w[d]}` : '');

  const kinds = [
    // rows, ORDER BY time (times are unique, so the order is total), maybe LIMIT/OFFSET
    () => {
      const cols = rng() < 0.2 ? ['*'] : ['host', 'region', 'f', 'i', 'u', 'b', 's', 'time'].filter(() => rng() < 0.6);
      if (!cols.length) cols.push('time');
      const w = where();
      const dir = pick(['', ' ASC', ' DESC']);
      let tail = '';
      if (rng() < 0.5) tail += ` LIMIT ${int(0, 60)}`;
      if (tail && rng() < 0.3) tail += ` OFFSET ${int(0, 30)}`;
      const sel = cols.join(', ');
      return { silt: `SELECT ${sel} FROM m${W(w, 'silt')} ORDER BY time${dir}${tail}`, duck: `SELECT ${sel} FROM m${W(w, 'duck')} ORDER BY time${dir}${tail}` };
    },
    // count(*) and count(column)
    () => {
      const w = where();
      const c = pick(['*', 'f', 'i', 'u', 'b', 's', 'region', 'host', 'time']);
      return { silt: `SELECT count(${c}) AS n FROM m${W(w, 'silt')}`, duck: `SELECT count(${c}) AS n FROM m${W(w, 'duck')}` };
    },
  ];
  if (AGGREGATES) kinds.push(...aggregateKinds({ rng, pick, int, where, W }));
  kinds.push(...composeKinds({ rng, pick, int, where, W }));
  return () => pick(kinds)();
}

/* GROUP BY, aggregates and scalar expressions. Float aggregates are compared with a relative
 * tolerance (summation order differs between engines). */
const AGGREGATES = true;
function aggregateKinds({ rng, pick, int, where, W }) {
  const HOUR = 3600000000000n;
  const aggPool = [
    ['count(*)', 'count(*)'], ['count(f)', 'count(f)'], ['count(s)', 'count(s)'], ['count(DISTINCT host)', 'count(DISTINCT host)'],
    ['sum(i)', 'sum(i)'], ['sum(u)', 'sum(u)'], ['sum(f)', 'sum(f)'], ['avg(f)', 'avg(f)'], ['avg(i)', 'avg(i)'],
    ['min(f)', 'min(f)'], ['max(f)', 'max(f)'], ['min(i)', 'min(i)'], ['max(u)', 'max(u)'], ['min(s)', 'min(s)'], ['max(s)', 'max(s)'],
    ['min(time)', 'min(time)'], ['max(time)', 'max(time)'], ['max(f) - min(f)', 'max(f) - min(f)'],
    ['stddev(f)', 'stddev_samp(f)'],
  ];
  const pickAggs = () => {
    const n = int(1, 4);
    const out = [];
    for (let k = 0; k < n; k++) out.push(pick(aggPool));
    return out.map(([s, d], k) => ({ silt: `${s} AS a${k}`, duck: `${d} AS a${k}` }));
  };
  const bucket = (n) => ({
    silt: `date_bin(INTERVAL '${n} hour', time)`,
    duck: `make_timestamp_ns((epoch_ns(time) // ${BigInt(n) * HOUR}) * ${BigInt(n) * HOUR})`,
  });
  return [
    // no GROUP BY: one row
    () => {
      const a = pickAggs();
      const w = where();
      return { silt: `SELECT ${a.map((x) => x.silt).join(', ')} FROM m${W(w, 'silt')}`, duck: `SELECT ${a.map((x) => x.duck).join(', ')} FROM m${W(w, 'duck')}`, tol: true };
    },
    // GROUP BY tags (region has NULLs: one group for them, sorted last)
    () => {
      const keys = pick([['host'], ['region'], ['host', 'region'], ['region', 'host']]);
      const a = pickAggs();
      const w = where();
      const having = rng() < 0.3 ? ` HAVING count(*) > ${int(0, 60)}` : '';
      const k = keys.join(', ');
      return {
        silt: `SELECT ${k}, ${a.map((x) => x.silt).join(', ')} FROM m${W(w, 'silt')} GROUP BY ${k}${having} ORDER BY ${k}`,
        duck: `SELECT ${k}, ${a.map((x) => x.duck).join(', ')} FROM m${W(w, 'duck')} GROUP BY ${k}${having} ORDER BY ${k}`,
        tol: true,
      };
    },
    // time buckets, optionally with a tag
    () => {
      const b = bucket(pick([1, 2, 6, 24]));
      const tag = pick(['', 'host']);
      const a = pickAggs();
      const w = where();
      const sel = (d) => `${b[d]} AS t${tag ? `, ${tag}` : ''}, ${a.map((x) => x[d]).join(', ')}`;
      const grp = tag ? '1, 2' : '1';
      return {
        silt: `SELECT ${sel('silt')} FROM m${W(w, 'silt')} GROUP BY ${grp} ORDER BY ${grp}`,
        duck: `SELECT ${sel('duck')} FROM m${W(w, 'duck')} GROUP BY ${grp} ORDER BY ${grp}`,
        tol: true,
      };
    },
    // scalar expressions per row
    () => {
      const exprs = pick([
        [['f * 2 + i', 'f * 2 + i'], ['abs(i)', 'abs(i)'], ['i + 1', 'i + 1']],
        [['f / 4', 'f / 4'], ['floor(f)', 'floor(f)'], ['ceil(f)', 'ceil(f)']],
        [['CASE WHEN f > 0 THEN 1 ELSE 0 END', 'CASE WHEN f > 0 THEN 1 ELSE 0 END'], ['coalesce(i, 0)', 'coalesce(i, 0)']],
        [['length(s)', 'length(s)'], ["concat(host, '-', s)", "concat(host, '-', s)"]],
        [['i % 7', 'i % 7'], ['-i', '-i'], ['nullif(u, 0)', 'nullif(u, 0)']],
      ]);
      const w = where();
      const sel = (d) => exprs.map((e, k) => `${e[d === 'silt' ? 0 : 1]} AS e${k}`).join(', ');
      const lim = int(1, 80);
      return {
        silt: `SELECT time, ${sel('silt')} FROM m${W(w, 'silt')} ORDER BY time LIMIT ${lim}`,
        duck: `SELECT time, ${sel('duck')} FROM m${W(w, 'duck')} ORDER BY time LIMIT ${lim}`,
        tol: true,
      };
    },
    // ORDER BY an aggregate with LIMIT (top-k); ties broken by the key
    () => {
      const w = where();
      const dir = pick(['ASC', 'DESC']);
      const n = int(1, 5);
      return {
        silt: `SELECT host, count(*) AS n FROM m${W(w, 'silt')} GROUP BY host ORDER BY n ${dir}, host LIMIT ${n}`,
        duck: `SELECT host, count(*) AS n FROM m${W(w, 'duck')} GROUP BY host ORDER BY n ${dir}, host LIMIT ${n}`,
      };
    },
  ];
}

/* Subqueries in FROM, WITH and UNION ALL (the same text in both dialects but for the inner
 * WHERE). Every ORDER BY is total over the visible columns (rows equal in all of them are
 * indistinguishable). */
function composeKinds({ rng, pick, int, where, W }) {
  const cmp = () => pick(['=', '!=', '<', '<=', '>', '>=']);
  const dual = (f) => ({ silt: f('silt'), duck: f('duck'), tol: true });
  return [
    // a FROM subquery: the outer WHERE / ORDER BY / LIMIT over the inner query's names
    () => {
      const w = where();
      const [col, c] = pick([['i', () => int(-1000000, 1000000)], ['f', () => ((rng() - 0.5) * 2000).toFixed(2)], ['u', () => int(0, 1000000)]]);
      const outer = rng() < 0.7 ? ` WHERE s.v ${cmp()} ${c()}` : '';
      const dir = pick(['', ' DESC']);
      const lim = rng() < 0.7 ? ` LIMIT ${int(0, 50)}` : '';
      return dual((d) => `SELECT s.h, s.v, time FROM (SELECT host AS h, ${col} AS v, time FROM m${W(w, d)}) AS s${outer} ORDER BY time${dir}${lim}`);
    },
    // aggregates over an aggregating subquery
    () => {
      const w = where();
      const k = int(0, 40);
      return dual((d) => `SELECT count(*) AS groups, sum(n) AS n_rows, max(af) AS top, min(lo) AS lo FROM (SELECT host, region, count(*) AS n, avg(f) AS af, min(i) AS lo FROM m${W(w, d)} GROUP BY host, region) g WHERE n > ${k}`);
    },
    // WITH: a CTE reading an earlier one
    () => {
      const w = where();
      const k = int(0, 30);
      const dir = pick(['ASC', 'DESC']);
      return dual((d) => `WITH a AS (SELECT host, f, u, time FROM m${W(w, d)}), b AS (SELECT host, count(f) AS nf, max(u) AS mu, min(time) AS t0 FROM a GROUP BY host) SELECT host, nf, mu, t0 FROM b WHERE nf >= ${k} ORDER BY host ${dir}`);
    },
    // UNION ALL of rows; integer, unsigned and float arms mix as float
    () => {
      const w1 = where(), w2 = where();
      const [c1, c2] = pick([['i', 'i'], ['f', 'f'], ['i', 'f'], ['u', 'i'], ['f', 'u'], ['s', 's'], ['b', 'b']]);
      const lim = int(1, 60);
      const off = rng() < 0.3 ? ` OFFSET ${int(0, 20)}` : '';
      return dual((d) => `SELECT time, host, ${c1} AS v FROM m${W(w1, d)} UNION ALL SELECT time, host, ${c2} FROM m${W(w2, d)} ORDER BY time DESC, host, v LIMIT ${lim}${off}`);
    },
    // UNION ALL of aggregates, in a CTE, aggregated again
    () => {
      const w1 = where(), w2 = where();
      return dual((d) => `WITH u AS (SELECT host AS k, count(*) AS n FROM m${W(w1, d)} GROUP BY host UNION ALL SELECT region, count(*) FROM m${W(w2, d)} GROUP BY region) SELECT k, sum(n) AS n, count(*) AS arms FROM u GROUP BY k ORDER BY k`);
    },
  ];
}

/* deepEqual, but floats may differ by a relative 1e-9 when tol is set. */
function assertRows(got, want, tol, msg) {
  if (!tol) return assert.deepEqual(got, want, msg);
  const close = (a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);
    return a === b;
  };
  const same = got.length === want.length && got.every((g, k) => {
    const w = want[k];
    const gk = Object.keys(g).sort(), wk = Object.keys(w).sort();
    return gk.length === wk.length && gk.every((key, j) => key === wk[j] && close(g[key], w[key]));
  });
  if (!same) assert.deepEqual(got, want, msg);
}

/* ------------------------------------------------------------------ the test */

test('differential: random queries over files merged by last write wins, silt vs DuckDB on the same Parquet files', { timeout: 300000 }, async (t) => {
  const seed = process.env.SILT_DIFF_SEED ? Number(process.env.SILT_DIFF_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`seed ${seed} (SILT_DIFF_SEED=${seed} replays it)`);
  const ctx = `(SILT_DIFF_SEED=${seed})`;
  const nQueries = Number(process.env.SILT_DIFF_QUERIES || 200);
  const rng = prng(seed);
  const data = makeData(rng);
  const srv = await startServer({ t });

  for (let k = 0; k < data.round1.length; k += 500) await srv.write('diff', data.round1.slice(k, k + 500).map(toLp).join('\n'), NS);
  await srv.stop(); // persists round 1
  await srv.restart();
  for (let k = 0; k < data.round2.length; k += 500) await srv.write('diff', data.round2.slice(k, k + 500).map(toLp).join('\n'), NS);

  const gen = makeGen(prng(seed + 1));
  const queries = Array.from({ length: nQueries }, gen);
  // round 2 in the buffer, round 1 in files
  const before = [];
  for (const qq of queries) before.push(await srv.queryRaw('diff', qq.silt));

  await srv.stop(); // persists round 2: files overlapping round 1's
  await srv.restart();
  const objs = await listParquet(srv);
  assert.ok(objs.length >= 6, `${objs.length} Parquet files (two rounds over three or four days expected)`);
  const dir = path.join(srv.root, 'oracle');
  const files = [];
  for (const o of objs) files.push(await objectToFile(srv, o.key, dir));
  const oracle = await openOracle({ m: files }, { tags: { m: ['host', 'region'] } });
  t.after(() => oracle.close());

  // the oracle's view agrees with what was written
  assert.deepEqual(await oracle.query('SELECT count(*) AS n FROM m'), [{ n: 4000 }], ctx);

  let compared = 0;
  for (const [k, qq] of queries.entries()) {
    const r = await srv.queryRaw('diff', qq.silt);
    assert.equal(r.status, 200, `${qq.silt} ${ctx}: HTTP ${r.status} ${r.text}`);
    const got = dropNulls(JSON.parse(r.text));
    const want = await oracle.query(qq.duck);
    assertRows(got, want, qq.tol, `query ${k}: ${qq.silt}\nDuckDB: ${qq.duck}\n${ctx}`);
    // the same answer while round 2 was still in memory
    assert.equal(before[k].status, 200, `${qq.silt} (buffer) ${ctx}: HTTP ${before[k].status} ${before[k].text}`);
    assertRows(dropNulls(JSON.parse(before[k].text)), got, qq.tol, `query ${k} differs before and after persisting round 2: ${qq.silt} ${ctx}`);
    compared++;
  }
  t.diagnostic(`${compared} queries compared with DuckDB`);
});

test('string comparisons order by bytes in the buffer and in files (memcmp results other than -1/0/1)', async (t) => {
  const srv = await startServer({ t });
  const hosts = ['h0', 'h1', 'h2', 'h3', 'h9', 'h10', 'H5', 'é', ''];
  const body = hosts.map((h, k) => `x,host=${h || 'none'} v=${k}i,s="${h}" ${k + 1}`).join('\n');
  await srv.write('sc', body, NS);
  const check = async (where) => {
    for (const [col, vals] of [['host', hosts.map((h) => h || 'none')], ['s', hosts]]) {
      for (const c of ['h1', 'h7', 'h10', 'é', '']) {
        for (const [op, f] of [['>', (x) => x > c], ['>=', (x) => x >= c], ['<', (x) => x < c], ['<=', (x) => x <= c]]) {
          // JS compares UTF-16 code units; for these strings that is the UTF-8 byte order
          const want = vals.filter((x) => f(x)).length;
          const got = await srv.query('sc', `SELECT count(*) AS n FROM x WHERE ${col} ${op} '${c}'`);
          assert.deepEqual(got, [{ n: want }], `${where}: ${col} ${op} '${c}'`);
        }
      }
    }
  };
  await check('buffer');
  await srv.stop();
  await srv.restart();
  await check('files');
});
