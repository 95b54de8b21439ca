// SPDX-License-Identifier: MIT
//
// The InfluxDB 1.x query API: GET|POST /query with InfluxQL, answered in InfluxDB 1.x JSON
// byte-compatible with what the influx CLI, Grafana and the v1 clients read: SHOW statements,
// raw SELECTs, aggregates with GROUP BY time (every fill mode) and tags, per-series LIMIT with
// ORDER BY time DESC, count(*), several statements, errors per statement and per request,
// epoch=, chunked=, form bodies; and the real `influx` 1.x CLI (Debian influxdb-client).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startServer, request } from '../lib/server.mjs';

const DATA = [
  'cpu,host=a,region=eu usage=1.5,n=1i 1451606400000000000',
  'cpu,host=a,region=eu usage=2.5,n=2i 1451606460000000000',
  'cpu,host=b,region=us usage=10,n=10i 1451606400000000000',
  'cpu,host=b,region=us usage=20,n=20i 1451606520000000000',
  'mem,host=a free=100i 1451606400000000000',
].join('\n');

async function v1(srv, q, params = {}) {
  const qs = new URLSearchParams({ db: 'v1db', q, ...params });
  const r = await request(srv.port, { path: `/query?${qs}` });
  return { status: r.status, text: r.text, json: r.text && r.text[0] === '{' ? JSON.parse(r.text.split('\n')[0]) : null, type: r.headers?.['content-type'] };
}

const series = (json) => json.results[0].series;

async function withData(t, persisted) {
  const srv = await startServer({ t });
  await srv.write('v1db', DATA, { params: { precision: 'ns' } });
  if (persisted) {
    await srv.stop();
    await srv.restart();
  }
  return srv;
}

for (const persisted of [false, true]) {
  const where = persisted ? 'from Parquet files' : 'from the buffer';

  test(`SHOW statements answer as InfluxDB 1.x (${where})`, async (t) => {
    const srv = await withData(t, persisted);
    const cases = [
      ['SHOW MEASUREMENTS', [{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }]],
      ['SHOW TAG KEYS FROM cpu', [{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }]],
      ['SHOW TAG KEYS', [{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }, { name: 'mem', columns: ['tagKey'], values: [['host']] }]],
      ['SHOW FIELD KEYS FROM cpu', [{ name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['n', 'integer'], ['usage', 'float']] }]],
      ['SHOW TAG VALUES FROM cpu WITH KEY = "host"', [{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b']] }]],
      ['SHOW TAG VALUES FROM cpu WITH KEY IN ("host", "region") WHERE host = \'b\'', [{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'b'], ['region', 'us']] }]],
      ['SHOW SERIES FROM cpu', [{ columns: ['key'], values: [['cpu,host=a,region=eu'], ['cpu,host=b,region=us']] }]],
      ['SHOW MEASUREMENTS WITH MEASUREMENT =~ /^c/', [{ name: 'measurements', columns: ['name'], values: [['cpu']] }]],
      ['SHOW RETENTION POLICIES', [{ columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '0s', '168h0m0s', 1, true]] }]],
    ];
    for (const [q, want] of cases) {
      const r = await v1(srv, q);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      assert.deepEqual(r.json, { results: [{ statement_id: 0, series: want }] }, q);
    }
    const dbs = await v1(srv, 'SHOW DATABASES', { db: '' });
    assert.equal(dbs.status, 200, dbs.text);
    assert.deepEqual(series(dbs.json), [{ name: 'databases', columns: ['name'], values: [['v1db']] }]);
  });

  test(`SELECT: raw rows, aggregates, GROUP BY time with every fill, tags, per-series LIMIT (${where})`, async (t) => {
    const srv = await withData(t, persisted);
    const T = (m) => `2016-01-01T00:0${m}:00Z`;
    const range = `time >= '${T(0)}' AND time < '${T(4)}'`;
    const cases = [
      ["SELECT usage FROM cpu WHERE host = 'a'", [{ name: 'cpu', columns: ['time', 'usage'], values: [[T(0), 1.5], [T(1), 2.5]] }]],
      ["SELECT usage FROM cpu WHERE host =~ /^b$/", [{ name: 'cpu', columns: ['time', 'usage'], values: [[T(0), 10], [T(2), 20]] }]],
      ["SELECT usage + n FROM cpu WHERE host = 'a'", [{ name: 'cpu', columns: ['time', 'usage_n'], values: [[T(0), 2.5], [T(1), 4.5]] }]],
      ["SELECT usage FROM cpu WHERE region != 'eu' AND usage > 15", [{ name: 'cpu', columns: ['time', 'usage'], values: [[T(2), 20]] }]],
      [`SELECT max(usage) FROM cpu WHERE ${range} GROUP BY time(1m)`, [{ name: 'cpu', columns: ['time', 'max'], values: [[T(0), 10], [T(1), 2.5], [T(2), 20], [T(3), null]] }]],
      [`SELECT max(usage) FROM cpu WHERE ${range} GROUP BY time(1m) fill(none)`, [{ name: 'cpu', columns: ['time', 'max'], values: [[T(0), 10], [T(1), 2.5], [T(2), 20]] }]],
      [`SELECT max(usage) FROM cpu WHERE ${range} GROUP BY time(1m) fill(0)`, [{ name: 'cpu', columns: ['time', 'max'], values: [[T(0), 10], [T(1), 2.5], [T(2), 20], [T(3), 0]] }]],
      [`SELECT max(usage) FROM cpu WHERE ${range} GROUP BY time(1m) fill(previous)`, [{ name: 'cpu', columns: ['time', 'max'], values: [[T(0), 10], [T(1), 2.5], [T(2), 20], [T(3), 20]] }]],
      [`SELECT max(usage) FROM cpu WHERE ${range} GROUP BY time(1m) ORDER BY time DESC LIMIT 2`, [{ name: 'cpu', columns: ['time', 'max'], values: [[T(3), null], [T(2), 20]] }]],
      [`SELECT mean(usage) FROM cpu WHERE time >= '${T(0)}' AND time < '${T(2)}' GROUP BY time(1m), host`, [
        { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'mean'], values: [[T(0), 1.5], [T(1), 2.5]] },
        { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'mean'], values: [[T(0), 10], [T(1), null]] },
      ]],
      ['SELECT * FROM cpu GROUP BY host ORDER BY time DESC LIMIT 1', [
        { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'n', 'region', 'usage'], values: [[T(1), 2, 'eu', 2.5]] },
        { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'n', 'region', 'usage'], values: [[T(2), 20, 'us', 20]] },
      ]],
      ['SELECT count(*) FROM cpu', [{ name: 'cpu', columns: ['time', 'count_n', 'count_usage'], values: [['1970-01-01T00:00:00Z', 4, 4]] }]],
      ["SELECT spread(usage), sum(n) FROM cpu WHERE host = 'b'", [{ name: 'cpu', columns: ['time', 'spread', 'sum'], values: [['1970-01-01T00:00:00Z', 10, 30]] }]],
      [`SELECT mean(usage) AS m, count(usage) FROM cpu WHERE time >= '${T(0)}' GROUP BY region`, [
        { name: 'cpu', tags: { region: 'eu' }, columns: ['time', 'm', 'count'], values: [[T(0), 2, 2]] },
        { name: 'cpu', tags: { region: 'us' }, columns: ['time', 'm', 'count'], values: [[T(0), 15, 2]] },
      ]],
      ['SELECT usage FROM cpu GROUP BY host SLIMIT 1 SOFFSET 1', [{ name: 'cpu', tags: { host: 'b' }, columns: ['time', 'usage'], values: [[T(0), 10], [T(2), 20]] }]],
      ['SELECT usage FROM cpu LIMIT 2 OFFSET 1', [{ name: 'cpu', columns: ['time', 'usage'], values: [[T(0), 10], [T(1), 2.5]] }]],
      ['SELECT free FROM mem, cpu', [{ name: 'cpu', columns: ['time', 'free'], values: [] }, { name: 'mem', columns: ['time', 'free'], values: [[T(0), 100]] }].filter((s) => s.values.length)],
    ];
    for (const [q, want] of cases) {
      const r = await v1(srv, q);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      assert.deepEqual(r.json, { results: [{ statement_id: 0, series: want }] }, `${q}\n${r.text}`);
    }
  });
}

test('several statements, errors per statement and per request, epoch, chunked, POST form bodies', async (t) => {
  const srv = await withData(t, false);
  // two statements: the second names a measurement that does not exist (no series)
  let r = await v1(srv, "SELECT usage FROM cpu WHERE host = 'a'; SELECT free FROM nosuch");
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.results.map((x) => x.statement_id), [0, 1]);
  assert.equal(r.json.results[0].series[0].values.length, 2);
  assert.deepEqual(r.json.results[1], { statement_id: 1 });
  // a database that does not exist: an error inside a 200, as InfluxDB answers
  r = await v1(srv, 'SELECT * FROM cpu', { db: 'nope' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { results: [{ statement_id: 0, error: 'database not found: nope' }] });
  // a statement that fails does not hide the others
  r = await v1(srv, "SELECT usage FROM cpu WHERE host = 'a' GROUP BY time(1m); SELECT n FROM cpu WHERE host = 'a'");
  assert.equal(r.status, 200);
  assert.match(r.json.results[0].error, /aggregate/);
  assert.equal(r.json.results[1].series[0].values.length, 2);
  // a query that does not parse: 400, InfluxDB's message
  r = await v1(srv, 'SELECT FROM cpu');
  assert.equal(r.status, 400);
  assert.match(r.json.error, /^error parsing query: found FROM, expected .* at line 1, char 8$/);
  r = await request(srv.port, { path: '/query?db=v1db' });
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.text), { error: 'missing required parameter "q"' });
  r = await v1(srv, 'SELECT usage FROM cpu', { epoch: 'x' });
  assert.equal(r.status, 400);
  // epoch
  for (const [epoch, t0] of [['s', 1451606400], ['ms', 1451606400000], ['ns', 1451606400000000000], ['h', 403224]]) {
    r = await v1(srv, "SELECT usage FROM cpu WHERE host = 'a' LIMIT 1", { epoch });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(series(r.json)[0].values, [[t0, 1.5]], `epoch=${epoch}: ${r.text}`);
  }
  // chunked: one JSON object per line, partial flags until the statement ends
  r = await v1(srv, "SELECT usage FROM cpu WHERE host = 'a'", { chunked: 'true', chunk_size: '1' });
  assert.equal(r.status, 200);
  const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'usage'], values: [['2016-01-01T00:00:00Z', 1.5]], partial: true }], partial: true }] },
    { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'usage'], values: [['2016-01-01T00:01:00Z', 2.5]] }] }] },
  ]);
  // POST with a form body (what the influx CLI and Grafana send)
  r = await request(srv.port, {
    method: 'POST', path: '/query', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `q=${encodeURIComponent("SELECT usage FROM cpu WHERE host = 'b'")}&db=v1db&epoch=s`,
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'usage'], values: [[1451606400, 10], [1451606520, 20]] }] }] });
});

function influxCli(port, args) {
  return new Promise((resolve) => {
    execFile('influx', ['-host', '127.0.0.1', '-port', String(port), ...args], { timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

test('the influx 1.x CLI (Debian influxdb-client) queries silt', async (t) => {
  const srv = await withData(t, true);
  let r = await influxCli(srv.port, ['-database', 'v1db', '-format', 'csv', '-execute', "SELECT usage FROM cpu WHERE host = 'a'"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'name,time,usage\ncpu,1451606400000000000,1.5\ncpu,1451606460000000000,2.5');
  r = await influxCli(srv.port, ['-database', 'v1db', '-format', 'json', '-precision', 'rfc3339', '-execute', 'SELECT max(usage) FROM cpu GROUP BY host']);
  assert.equal(r.code, 0, r.stderr);
  // the CLI asks for chunked answers: one series per chunk, so one result per series
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.results.flatMap((x) => x.series).map((s) => [s.tags.host, s.values[0][1]]), [['a', 2.5], ['b', 20]]);
  r = await influxCli(srv.port, ['-format', 'csv', '-execute', 'SHOW DATABASES']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'name,name\ndatabases,v1db');
});
