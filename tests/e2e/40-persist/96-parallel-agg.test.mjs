// SPDX-License-Identifier: MIT
//
// Partial aggregation on two threads: a GROUP BY over a Parquet file of more than one scan
// task (64k rows each) is aggregated by two lanes, each with its own hash table, folded into
// one after the scan (/metrics silt_query_parallel_scans_total counts such scans). Every
// aggregate must answer as one thread does (--query-scan-threads 1): exactly for counts,
// integer sums, min/max, first/last, selectors, distinct counts and medians; float sums,
// means and deviations within 1e-12 (the two halves are added in another order).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request } from '../lib/server.mjs';
import { NS } from '../lib/dataset.mjs';

const T0 = 1700000000000000000n;
const HOSTS = 30;
const PER = 5000; // 150,000 rows: three scan tasks
const host = (h) => `h${String(h).padStart(2, '0')}`;

function rows() {
  const out = [];
  let x = 7;
  for (let h = 0; h < HOSTS; h++)
    for (let i = 0; i < PER; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const f = (x % 100000) / 7.0 - 3000;
      const w = i % 5 === 0 ? `,w=${(x >> 8) % 1000}i` : '';
      const s = `s="k${(x >> 4) % 37}"`;
      // every 10 s; ties of time across hosts on purpose
      out.push(`pa,host=${host(h)},dc=d${h % 3} v=${(x >> 3) % 100000}i,f=${f},${s},b=${i % 2 === 0}${w} ` +
        `${T0 + BigInt(i) * 10000000000n}`);
    }
  return out;
}

const QUERIES = [
  'SELECT host, count(*) AS n, count(w) AS nw, sum(v) AS sv, sum(w) AS sw, avg(f) AS af, sum(f) AS sf, ' +
    'min(f) AS mnf, max(v) AS mxv, min(s) AS ms, max(s) AS xs, min(b) AS mb, stddev(f) AS sd, var_pop(f) AS vp, ' +
    'count(DISTINCT s) AS ds, median(f) AS md, approx_percentile_cont(f, 0.9) AS p9, ' +
    'first_value(v ORDER BY time) AS fv, last_value(f ORDER BY time) AS lf, last_value(w ORDER BY time) AS lw, ' +
    'selector_max(f, time) AS sx, selector_min(v, time) AS sn, selector_first(s, time) AS sf1, ' +
    'selector_last(w, time) AS sl FROM pa GROUP BY host ORDER BY host',
  'SELECT count(*) AS n, sum(v) AS sv, avg(f) AS af, stddev(f) AS sd, min(f) AS mn, max(s) AS mx, ' +
    'count(DISTINCT v) AS dv, median(v) AS mv FROM pa',
  "SELECT dc, date_bin(INTERVAL '1 hour', time) AS t, count(*) AS n, avg(f) AS af, max(w) AS mw " +
    'FROM pa GROUP BY dc, t ORDER BY dc, t',
  "SELECT s, count(*) AS n, sum(v) AS sv FROM pa WHERE f > 0 AND host <> 'h03' GROUP BY s ORDER BY s",
];
const IQL = 'SELECT mean(f), count(v), max(v), min(f), sum(w) FROM pa GROUP BY time(2h), dc';

function close(a, b, where) {
  if (typeof a === 'number' && typeof b === 'number' && (!Number.isInteger(a) || !Number.isInteger(b))) {
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b)), `${where}: ${a} vs ${b}`);
  } else if (a && b && typeof a === 'object') {
    assert.equal(Array.isArray(a), Array.isArray(b), where);
    assert.deepEqual(Object.keys(a), Object.keys(b), where);
    for (const k of Object.keys(a)) close(a[k], b[k], `${where}.${k}`);
  } else {
    assert.equal(a, b, where);
  }
}

async function parallelScans(srv) {
  const r = await request(srv.port, { path: '/metrics' });
  const m = r.text.match(/^silt_query_parallel_scans_total (\d+)$/m);
  assert.ok(m, 'the counter is in /metrics');
  return Number(m[1]);
}

async function answers(srv) {
  const out = [];
  for (const q of QUERIES) out.push(await srv.query('padb', q));
  const r = await request(srv.port, { path: `/query?${new URLSearchParams({ db: 'padb', q: IQL, epoch: 's' })}` });
  assert.equal(r.status, 200, r.text);
  out.push(r.json());
  return out;
}

test('two aggregation lanes answer as one thread does', async (t) => {
  const srv = await startServer({ t, args: ['--query-scan-threads', '2'] });
  const lines = rows();
  for (let i = 0; i < lines.length; i += 10000) await srv.write('padb', lines.slice(i, i + 10000).join('\n'), NS);
  await srv.stop(); // one Parquet file of 150,000 rows
  await srv.restart();

  const before = await parallelScans(srv);
  const two = await answers(srv);
  assert.ok((await parallelScans(srv)) - before >= QUERIES.length, 'the aggregates ran on two lanes');
  assert.equal(two[0].length, HOSTS);
  assert.equal(two[1][0].n, HOSTS * PER);

  srv.args = srv.args.filter((a, i, all) => a !== '--query-scan-threads' && all[i - 1] !== '--query-scan-threads');
  srv.args.push('--query-scan-threads', '1');
  await srv.restart();
  const b1 = await parallelScans(srv);
  const one = await answers(srv);
  assert.equal(await parallelScans(srv), b1, 'one thread: no lanes');
  close(two, one, 'answers');
});
