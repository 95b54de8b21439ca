// SPDX-License-Identifier: MIT
//
// Stopping queries: --query-timeout (SQL and /api/v3/query_influxql answer 400 "query timeout:
// ...", InfluxQL on /query answers the statement's error "query-timeout limit exceeded" as
// InfluxDB 1.x does and runs no later statement), and cancellation when the client disconnects (the server notices the closed
// socket between batches, logs "query cancelled", counts it in /metrics, and its CPU use
// drops at once instead of when the query would have ended).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startServer, request, sleep } from '../lib/server.mjs';
import { metric } from '../lib/storage.mjs';

const T0 = 1700000000000000000n;
const HEAVY_SQL =
  'SELECT concat(k, h, k, h) AS a, v % 7 AS b, count(*), median(v), median(f), count(DISTINCT f), ' +
  'stddev(f), approx_percentile_cont(f, 0.9) FROM m GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 1';
const HEAVY_IQL = 'SELECT count(v), median(f), mean(v), stddev(f) FROM m GROUP BY time(1ms), k';

async function writeRound(srv, round, n) {
  for (let from = 0; from < n; from += 50000) {
    const lines = [];
    for (let j = from; j < from + 50000 && j < n; j++) {
      const i = round * n + j;
      lines.push(`m,h=h${i % 50} k="key${i}",v=${(i * 7919) % 100003}i,f=${i / 3} ${T0 + BigInt(i) * 1000000n}`);
    }
    await srv.write('big', lines.join('\n'), { params: { precision: 'nanosecond' } });
  }
}

async function timed(fn) {
  const t = Date.now();
  const r = await fn();
  return { r, ms: Date.now() - t };
}

const sqlPath = (q) => `/api/v3/query_sql?${new URLSearchParams({ db: 'big', q })}`;
const v1Path = (q) => `/query?${new URLSearchParams({ db: 'big', q })}`;
const v3iqlPath = (q) => `/api/v3/query_influxql?${new URLSearchParams({ db: 'big', q })}`;

/* A server holding enough rows that HEAVY_SQL runs at least 2 s on this build (more rounds on
 * faster builds). Returns the server and HEAVY_SQL's duration. */
async function slowServer(t) {
  const srv = await startServer({ t });
  let ms = 0;
  for (let round = 0; round < 12; round++) {
    await writeRound(srv, round, 200000);
    if (round === 0) continue;
    const x = await timed(() => request(srv.port, { path: sqlPath(HEAVY_SQL) }));
    assert.equal(x.r.status, 200, x.r.text);
    ms = x.ms;
    if (ms >= 2000) break;
  }
  assert.ok(ms >= 2000, `the heavy query runs only ${ms} ms`);
  return { srv, ms };
}

/* CPU seconds (user + system) the process has used. */
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100; /* utime, stime in clock ticks */
}

/* Start a GET and destroy its socket after ms: the client disconnects mid-query. */
function abortAfter(port, p, ms) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve('answered'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
    setTimeout(() => req.destroy(), ms);
  });
}

test('a query whose client disconnects is cancelled at once (SQL and InfluxQL)', async (t) => {
  const { srv, ms: full } = await slowServer(t);
  const cases = [['SQL', sqlPath(HEAVY_SQL)], ['InfluxQL', v1Path(HEAVY_IQL)], ['InfluxQL', v3iqlPath(HEAVY_IQL)]];
  for (const [lang, p] of cases) {
    const before = await metric(srv, 'silt_query_cancelled_total');
    const off = srv.logOffset();
    const t0 = Date.now();
    assert.equal(await abortAfter(srv.port, p, 300), 'aborted');
    const re = new RegExp(`${lang} query cancelled after (\\d+\\.\\d+) s: the client closed the connection`);
    await srv.waitForLog(re, off, full * 3);
    const took = (Date.now() - t0) / 1000;
    const ranFor = Number(re.exec(srv.log(off))[1]);
    // stopped within a fraction of what the whole query takes
    assert.ok(ranFor < 0.3 + full / 1000 / 2, `${lang}: ran ${ranFor} s of ${full} ms`);
    assert.ok(took < full / 1000, `${lang}: cancelled after ${took} s; the query takes ${full} ms`);
    // the CPU is idle again: under a quarter of a core over the next second
    const c0 = cpuSeconds(srv.pid);
    await sleep(1000);
    const used = cpuSeconds(srv.pid) - c0;
    assert.ok(used < 0.25, `${lang}: ${used} CPU seconds in the second after the cancel`);
    assert.equal(await metric(srv, 'silt_query_cancelled_total'), before + 1);
    // and the next query answers promptly
    const x = await timed(() => srv.query('big', 'SELECT count(*) FROM m'));
    assert.ok(x.r[0]['count(*)'] >= 400000);
    assert.ok(x.ms < full, `next query took ${x.ms} ms`);
  }
  assert.equal(await metric(srv, 'silt_query_timeouts_total'), 0);
});

test('--query-timeout stops slow queries: SQL 400, InfluxQL "query-timeout limit exceeded"', async (t) => {
  const { srv, ms: full } = await slowServer(t);
  srv.args = [...srv.args, '--query-timeout', '300ms'];
  await srv.restart(); // also moves the rows to Parquet files: the timeout holds there too
  const off = srv.logOffset();

  const s = await timed(() => request(srv.port, { path: sqlPath(HEAVY_SQL) }));
  assert.equal(s.r.status, 400, s.r.text);
  assert.deepEqual(s.r.json(), { error: 'query timeout: the query ran longer than --query-timeout (0.300 s)' });
  assert.ok(s.ms < full, `the SQL answer took ${s.ms} ms (the whole query ${full} ms)`);

  const q = await timed(() => request(srv.port, { path: v1Path(`${HEAVY_IQL}; SELECT count(v) FROM m`) }));
  assert.equal(q.r.status, 200, q.r.text);
  assert.deepEqual(q.r.json(), { results: [{ statement_id: 0, error: 'query-timeout limit exceeded' }] });
  assert.ok(q.ms < full, `the InfluxQL answer took ${q.ms} ms`);

  // /api/v3/query_influxql answers a timeout as query_sql does
  const v3 = await timed(() => request(srv.port, { path: v3iqlPath(HEAVY_IQL) }));
  assert.equal(v3.r.status, 400, v3.r.text);
  assert.deepEqual(v3.r.json(), { error: 'query timeout: the query ran longer than --query-timeout (0.300 s)' });
  assert.ok(v3.ms < full, `the /api/v3/query_influxql answer took ${v3.ms} ms`);

  // a statement that finishes in time answers, before one that does not
  const q2 = await request(srv.port, { path: v1Path(`SELECT count(v) FROM m WHERE time < ${T0 + 5000000n}; ${HEAVY_IQL}`) });
  assert.deepEqual(q2.json(), {
    results: [
      { statement_id: 0, series: [{ name: 'm', columns: ['time', 'count'], values: [['1970-01-01T00:00:00Z', 5]] }] },
      { statement_id: 1, error: 'query-timeout limit exceeded' },
    ],
  });

  // quick queries are untouched
  assert.deepEqual(await srv.query('big', "SELECT count(*) FROM m WHERE k = 'key7'"), [{ 'count(*)': 1 }]);
  assert.equal(await metric(srv, 'silt_query_timeouts_total'), 4);
  assert.equal(await metric(srv, 'silt_query_cancelled_total'), 0);
  assert.ok(srv.logContains(/SQL query stopped by --query-timeout after 0\.\d+ s: SELECT concat/, off));
  assert.ok(srv.logContains(/InfluxQL query stopped by --query-timeout after 0\.\d+ s: SELECT count\(v\), median/, off));
});
