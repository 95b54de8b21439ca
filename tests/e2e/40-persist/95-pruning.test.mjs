// SPDX-License-Identifier: MIT
//
// What a query over Parquet files skips, shown with the server's own counter of decoded data
// pages (/metrics silt_query_pages_decoded_total) and checked for exact answers:
//   - tag predicates (=, IN, !=) prune pages by the tag column's page statistics and its
//     dictionary, so a query for one host decodes a few pages, not the table;
//   - count(x) of a column without NULLs is answered from the chunk statistics (no page of x
//     decoded), and count(x) of a column with NULLs still counts exactly;
//   - InfluxQL's per-series LIMIT keeps only the first rows of each series in the sort, and
//     over a file with series-aligned pages (--parquet-tail-rows) the scan decodes only the
//     pages that can hold them: the tail page of every series for a last-point query.
// Small pages (--parquet-page-rows 256) make the difference visible on a small table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request } from '../lib/server.mjs';
import { NS } from '../lib/dataset.mjs';

const T0 = 1700000000000000000n;
const HOSTS = 40;
const PER = 500;
const host = (h) => `h${String(h).padStart(2, '0')}`;
const lines = [];
for (let h = 0; h < HOSTS; h++)
  for (let i = 0; i < PER; i++) {
    const w = i % 3 === 0 ? `,w=${i}i` : ''; // w: NULL in two rows of three
    lines.push(`pr,host=${host(h)},rack=r${h % 4} v=${h * 1000 + i}i${w} ${T0 + BigInt(i) * 1000000000n}`);
  }

async function pagesDecoded(srv) {
  const r = await request(srv.port, { path: '/metrics' });
  const m = r.text.match(/^silt_query_pages_decoded_total (\d+)$/m);
  assert.ok(m, 'the counter is in /metrics');
  return Number(m[1]);
}

/* The answer of sql and the number of data pages decoded to answer it. */
async function measured(srv, sql) {
  const before = await pagesDecoded(srv);
  const rows = await srv.query('prdb', sql);
  return { rows, pages: (await pagesDecoded(srv)) - before };
}

async function persisted(t, args = []) {
  const srv = await startServer({ t, args: ['--parquet-page-rows', '256', ...args] });
  for (let i = 0; i < lines.length; i += 5000) await srv.write('prdb', lines.slice(i, i + 5000).join('\n'), NS);
  await srv.stop(); // persists everything: one file, sorted by host, rack, time
  await srv.restart();
  return srv;
}

test('tag predicates decode only the pages of the matching series, with exact answers', async (t) => {
  const srv = await persisted(t);
  const full = await measured(srv, 'SELECT max(v) AS m FROM pr');
  assert.deepEqual(full.rows, [{ m: (HOSTS - 1) * 1000 + PER - 1 }]);
  const pagesOfV = full.pages;
  assert.ok(pagesOfV >= (HOSTS * PER) / 256, `a full scan of v decodes every page of v (${pagesOfV})`);

  const one = await measured(srv, "SELECT count(*) AS n, max(v) AS m, min(v) AS lo FROM pr WHERE host = 'h07'");
  assert.deepEqual(one.rows, [{ n: PER, m: 7 * 1000 + PER - 1, lo: 7000 }]);
  assert.ok(one.pages <= 12, `one host of ${HOSTS}: ${one.pages} pages decoded (a full scan of v: ${pagesOfV})`);

  const two = await measured(srv, "SELECT count(*) AS n, sum(v) AS s FROM pr WHERE host IN ('h01', 'h33')");
  let sum = 0;
  for (const h of [1, 33]) for (let i = 0; i < PER; i++) sum += h * 1000 + i;
  assert.deepEqual(two.rows, [{ n: 2 * PER, s: sum }]);
  assert.ok(two.pages <= 24, `two hosts: ${two.pages} pages decoded`);

  const none = await measured(srv, "SELECT count(*) AS n FROM pr WHERE host = 'nosuch'");
  assert.deepEqual(none.rows, [{ n: 0 }]);
  assert.ok(none.pages <= 2, `a host that does not exist: ${none.pages} pages decoded`);

  // predicates that select most rows, or several tags, stay exact
  assert.deepEqual(await srv.query('prdb', "SELECT count(*) AS n FROM pr WHERE host != 'h07'"), [{ n: (HOSTS - 1) * PER }]);
  assert.deepEqual(await srv.query('prdb', "SELECT count(*) AS n FROM pr WHERE rack = 'r1' AND host <> 'h05'"),
    [{ n: (HOSTS / 4 - 1) * PER }]);
  assert.deepEqual(await srv.query('prdb', "SELECT count(*) AS n FROM pr WHERE host = 'h07' OR host = 'h08' OR rack = 'r3'"),
    [{ n: (1 + HOSTS / 4) * PER }]); // h07 is in rack r3
  assert.deepEqual(await srv.query('prdb', "SELECT count(*) AS n FROM pr WHERE host IS NULL"), [{ n: 0 }]);
});

test('count(x) of a column without NULLs comes from statistics; with NULLs it is counted', async (t) => {
  const srv = await persisted(t);
  const c = await measured(srv, 'SELECT count(v) AS n, count(*) AS all_rows FROM pr');
  assert.deepEqual(c.rows, [{ n: HOSTS * PER, all_rows: HOSTS * PER }]);
  assert.equal(c.pages, 0, 'no page decoded to count a column without NULLs');
  const w = await measured(srv, 'SELECT count(w) AS n FROM pr');
  assert.deepEqual(w.rows, [{ n: HOSTS * Math.ceil(PER / 3) }]);
  assert.ok(w.pages > 0, 'a column with NULLs is decoded to count them');
  // a filter on the column needs its values
  const f = await measured(srv, 'SELECT count(v) AS n FROM pr WHERE v >= 39000');
  assert.deepEqual(f.rows, [{ n: PER }]);
  assert.ok(f.pages > 0);
});

test('InfluxQL per-series LIMIT and OFFSET keep the right rows of every series', async (t) => {
  const srv = await persisted(t);
  const q = async (iql) => {
    const r = await request(srv.port, { path: `/query?${new URLSearchParams({ db: 'prdb', q: iql, epoch: 's' })}` });
    assert.equal(r.status, 200, r.text);
    return r.json().results[0].series;
  };
  const t0 = Number(T0 / 1000000000n);
  const last = await q('SELECT v, w FROM pr GROUP BY host ORDER BY time DESC LIMIT 2');
  assert.equal(last.length, HOSTS);
  last.forEach((s, h) => {
    assert.deepEqual(s.tags, { host: host(h) });
    assert.deepEqual(s.values, [[t0 + PER - 1, h * 1000 + PER - 1, null], [t0 + PER - 2, h * 1000 + PER - 2, PER - 2]]);
  });
  const off = await q('SELECT v FROM pr GROUP BY host ORDER BY time DESC LIMIT 2 OFFSET 3');
  off.forEach((s, h) => assert.deepEqual(s.values, [[t0 + PER - 4, h * 1000 + PER - 4], [t0 + PER - 5, h * 1000 + PER - 5]]));
  const first = await q('SELECT v FROM pr WHERE rack = \'r2\' GROUP BY host LIMIT 1');
  assert.deepEqual(first.map((s) => [s.tags.host, s.values]),
    Array.from({ length: HOSTS / 4 }, (_, k) => [host(4 * k + 2), [[t0, (4 * k + 2) * 1000]]]));
  // only rows that have the selected field count toward the limit
  const ws = await q('SELECT w FROM pr GROUP BY host ORDER BY time DESC LIMIT 1');
  ws.forEach((s, h) => assert.deepEqual(s.values, [[t0 + 498, 498]], `host ${h}`));
});

test('per-series top-k reads only the pages that can hold the rows, with exact answers', async (t) => {
  // each series of 500 rows: pages of 256 and 194 rows, then its newest 50 rows alone
  const srv = await persisted(t, ['--parquet-tail-rows', '50']);
  const t0 = Number(T0 / 1000000000n);
  const iso = (sec) => new Date(sec * 1000).toISOString();
  const q = async (iql) => {
    const before = await pagesDecoded(srv);
    const r = await request(srv.port, { path: `/query?${new URLSearchParams({ db: 'prdb', q: iql, epoch: 's' })}` });
    assert.equal(r.status, 200, r.text);
    return { series: r.json().results[0].series, pages: (await pagesDecoded(srv)) - before };
  };
  const full = await q('SELECT * FROM pr GROUP BY host');
  assert.equal(full.series.length, HOSTS);
  const last = await q('SELECT * FROM pr GROUP BY host ORDER BY time DESC LIMIT 1');
  assert.equal(last.series.length, HOSTS);
  last.series.forEach((s, h) => {
    assert.deepEqual(s.columns, ['time', 'rack', 'v', 'w']);
    assert.deepEqual(s.values, [[t0 + PER - 1, `r${h % 4}`, h * 1000 + PER - 1, null]]);
  });
  // host, rack, time, v, w: one page each per series
  assert.ok(last.pages <= HOSTS * 5, `last point: ${last.pages} pages decoded (all rows: ${full.pages})`);
  assert.ok(full.pages >= HOSTS * 5 * 3, `all rows: ${full.pages} pages`);

  // more rows than the tail page holds: the page before it is read too
  const sixty = await q('SELECT v FROM pr GROUP BY host ORDER BY time DESC LIMIT 60');
  sixty.series.forEach((s, h) =>
    assert.deepEqual(s.values, Array.from({ length: 60 }, (_, i) => [t0 + PER - 1 - i, h * 1000 + PER - 1 - i])));
  // the oldest rows: the first page of each series
  const first = await q('SELECT v FROM pr GROUP BY host LIMIT 2');
  first.series.forEach((s, h) => assert.deepEqual(s.values, [[t0, h * 1000], [t0 + 1, h * 1000 + 1]]));
  assert.ok(first.pages <= HOSTS * 3, `first points: ${first.pages} pages decoded`);
  // a field with NULLs in the tail: the rows that have it may lie further back, so nothing
  // is skipped on its account
  const w = await q('SELECT w FROM pr GROUP BY host ORDER BY time DESC LIMIT 1');
  w.series.forEach((s) => assert.deepEqual(s.values, [[t0 + 498, 498]]));
  // a time range: only what lies inside it counts
  const win = await q(`SELECT v FROM pr WHERE time >= '${iso(t0 + 100)}' AND time < '${iso(t0 + 200)}' GROUP BY host ORDER BY time DESC LIMIT 1`);
  win.series.forEach((s, h) => assert.deepEqual(s.values, [[t0 + 199, h * 1000 + 199]]));
  // a tag predicate on another tag than the series key: exact (no skipping on page statistics)
  const rk = await q("SELECT v FROM pr WHERE rack = 'r1' GROUP BY host ORDER BY time DESC LIMIT 1");
  assert.equal(rk.series.length, HOSTS / 4);

  // SQL: the last (first) row of each group, by last_value / max(time) (first_value / min)
  const lastSql = await measured(srv, 'SELECT host, max(time) AS t, last_value(v ORDER BY time) AS v, ' +
    'last_value(w ORDER BY time) AS w FROM pr GROUP BY host ORDER BY host');
  assert.deepEqual(lastSql.rows, Array.from({ length: HOSTS }, (_, h) =>
    ({ host: host(h), t: new Date((t0 + PER - 1) * 1000).toISOString().replace('.000Z', ''), v: h * 1000 + PER - 1 }))); // w: NULL in the last row (JSON leaves NULLs out)
  assert.ok(lastSql.pages <= HOSTS * 4, `SQL last row per host: ${lastSql.pages} pages decoded`);
  const firstSql = await measured(srv, 'SELECT host, min(time) AS t, first_value(v ORDER BY time) AS v FROM pr ' +
    "WHERE time >= '" + iso(t0 + 7) + "' GROUP BY host ORDER BY host");
  assert.deepEqual(firstSql.rows, Array.from({ length: HOSTS }, (_, h) =>
    ({ host: host(h), t: new Date((t0 + 7) * 1000).toISOString().replace('.000Z', ''), v: h * 1000 + 7 })));
  // mixed with another aggregate: every row counts, nothing is skipped, still exact
  const mixed = await measured(srv, 'SELECT host, count(*) AS n, last_value(v ORDER BY time) AS v FROM pr GROUP BY host ORDER BY host');
  assert.deepEqual(mixed.rows[3], { host: host(3), n: PER, v: 3 * 1000 + PER - 1 });
  assert.ok(mixed.pages > lastSql.pages);

  // a newer point in the buffer and an overwrite of a persisted one: both seen
  await srv.write('prdb', `pr,host=h00,rack=r0 v=-1i ${T0 + BigInt(PER) * 1000000000n}\n` +
    `pr,host=h01,rack=r1 v=-2i ${T0 + BigInt(PER - 1) * 1000000000n}`, NS);
  const after = await q('SELECT v FROM pr GROUP BY host ORDER BY time DESC LIMIT 1');
  assert.deepEqual(after.series[0].values, [[t0 + PER, -1]]);
  assert.deepEqual(after.series[1].values, [[t0 + PER - 1, -2]]);
  assert.deepEqual(after.series[2].values, [[t0 + PER - 1, 2 * 1000 + PER - 1]]);
});
