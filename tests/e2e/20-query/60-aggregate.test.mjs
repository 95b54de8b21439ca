// SPDX-License-Identifier: MIT
//
// GROUP BY, aggregates, HAVING, DISTINCT, ORDER BY on expressions and general expressions,
// through the HTTP API with exact answers. Six cpu rows: h1 has three (two in the first
// hour, one an hour later), h2 two (one without n), h3 one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';

const DB = 'aggdb';
const T0 = 1700000000n * 1000000000n; // 2023-11-14T22:13:20Z
const S = 1000000000n;
const LP = [
  `cpu,host=h1,region=eu usage=10,n=1i ${T0}`,
  `cpu,host=h1,region=eu usage=20,n=2i ${T0 + 60n * S}`,
  `cpu,host=h1,region=eu usage=30,n=3i ${T0 + 3600n * S}`,
  `cpu,host=h2,region=us usage=5,n=10i ${T0}`,
  `cpu,host=h2,region=us usage=15 ${T0 + 60n * S}`,
  `cpu,host=h3 usage=1.5,n=-4i ${T0 + 30n * S}`,
].join('\n');

let srv;
before(async () => {
  srv = await startServer();
  await srv.write(DB, LP);
});
after(() => srv.cleanup());

const q = (sql, format) => srv.query(DB, sql, format);

test('GROUP BY a tag with count, sum, avg, min and max', async () => {
  assert.deepEqual(
    await q('SELECT host, count(*) AS c, sum(n) AS s, avg(usage) AS a, min(usage) AS mn, max(usage) AS mx FROM cpu GROUP BY host ORDER BY host'),
    [
      { host: 'h1', c: 3, s: 6, a: 20, mn: 10, mx: 30 },
      { host: 'h2', c: 2, s: 10, a: 10, mn: 5, mx: 15 },
      { host: 'h3', c: 1, s: -4, a: 1.5, mn: 1.5, mx: 1.5 },
    ],
  );
});

test('unaliased aggregates are named as DataFusion names them', async () => {
  assert.deepEqual(await q('SELECT max(usage), count(*), count(n) FROM cpu'), [
    { 'max(cpu.usage)': 30, 'count(*)': 6, 'count(cpu.n)': 5 },
  ]);
});

test('GROUP BY date_bin and a tag, by ordinal', async () => {
  assert.deepEqual(
    await q("SELECT date_bin(INTERVAL '1 hour', time) AS hour, host, avg(usage) AS a FROM cpu GROUP BY 1, 2 ORDER BY 1, 2"),
    [
      { hour: '2023-11-14T22:00:00', host: 'h1', a: 15 },
      { hour: '2023-11-14T22:00:00', host: 'h2', a: 10 },
      { hour: '2023-11-14T22:00:00', host: 'h3', a: 1.5 },
      { hour: '2023-11-14T23:00:00', host: 'h1', a: 30 },
    ],
  );
});

test('a tag and time filter with GROUP BY date_bin', async () => {
  assert.deepEqual(
    await q("SELECT max(usage) AS m FROM cpu WHERE host = 'h1' AND time >= '2023-11-14T22:14:00Z' GROUP BY date_bin(INTERVAL '1 minute', time) ORDER BY m"),
    [{ m: 20 }, { m: 30 }],
  );
});

test('expressions over aggregates and HAVING', async () => {
  assert.deepEqual(
    await q('SELECT host, max(usage) - min(usage) AS spread, round(avg(usage) / 3, 2) AS r FROM cpu GROUP BY host HAVING count(*) > 1 ORDER BY spread DESC'),
    [
      { host: 'h1', spread: 20, r: 6.67 },
      { host: 'h2', spread: 10, r: 3.33 },
    ],
  );
});

test('aggregates of an empty input give one row; GROUP BY gives none', async () => {
  assert.deepEqual(await q("SELECT count(*), avg(usage) FROM cpu WHERE host = 'nope'"), [{ 'count(*)': 0 }]);
  assert.deepEqual(await q("SELECT host, count(*) FROM cpu WHERE host = 'nope' GROUP BY host"), []);
});

test('median, stddev, count(DISTINCT), first_value and last_value', async () => {
  assert.deepEqual(
    await q('SELECT median(usage) AS md, count(DISTINCT host) AS h, count(DISTINCT region) AS r, first_value(usage ORDER BY time) AS f, last_value(usage ORDER BY time) AS l FROM cpu'),
    [{ md: 12.5, h: 3, r: 2, f: 10, l: 30 }],
  );
  const [{ sd }] = await q("SELECT stddev(usage) AS sd FROM cpu WHERE host = 'h1'");
  assert.equal(sd, 10);
});

test('selector functions answer {value, time} objects', async () => {
  assert.deepEqual(
    await q('SELECT host, selector_max(usage, time) AS mx, selector_first(n, time) AS f FROM cpu GROUP BY host ORDER BY host'),
    [
      { host: 'h1', mx: { value: 30, time: '2023-11-14T23:13:20' }, f: { value: 1, time: '2023-11-14T22:13:20' } },
      { host: 'h2', mx: { value: 15, time: '2023-11-14T22:14:20' }, f: { value: 10, time: '2023-11-14T22:13:20' } },
      { host: 'h3', mx: { value: 1.5, time: '2023-11-14T22:13:50' }, f: { value: -4, time: '2023-11-14T22:13:50' } },
    ],
  );
});

test('SELECT DISTINCT and ORDER BY with NULLS FIRST / LAST and LIMIT', async () => {
  assert.deepEqual(await q('SELECT DISTINCT region FROM cpu ORDER BY region NULLS FIRST'), [{}, { region: 'eu' }, { region: 'us' }]);
  assert.deepEqual(await q('SELECT host, n FROM cpu ORDER BY n DESC NULLS LAST, host LIMIT 3'), [
    { host: 'h2', n: 10 },
    { host: 'h1', n: 3 },
    { host: 'h1', n: 2 },
  ]);
  assert.deepEqual(await q('SELECT host, n FROM cpu ORDER BY n DESC LIMIT 1'), [{ host: 'h2' }]);
});

test('general expressions in WHERE and the select list', async () => {
  assert.deepEqual(
    await q("SELECT host, usage * 2 + n AS x, CASE WHEN usage > 10 THEN 'hi' ELSE 'lo' END AS c FROM cpu WHERE usage > n AND host IN ('h1', 'h3') ORDER BY time"),
    [
      { host: 'h1', x: 21, c: 'lo' },
      { host: 'h3', x: -1, c: 'lo' },
      { host: 'h1', x: 42, c: 'hi' },
      { host: 'h1', x: 63, c: 'hi' },
    ],
  );
  assert.deepEqual(await q("SELECT upper(host) AS h FROM cpu WHERE host ~ '^h[23]$' AND region IS NULL"), [{ h: 'H3' }]);
});

test('CSV output of a grouped query', async () => {
  assert.equal(
    await q('SELECT region, count(*) AS c FROM cpu GROUP BY region ORDER BY region NULLS LAST', 'csv'),
    'region,c\neu,3\nus,2\n,1\n',
  );
});

test('runtime and binding errors answer 400 with the reason', async () => {
  let r = await srv.queryRaw(DB, 'SELECT n / 0 FROM cpu');
  assert.equal(r.status, 400);
  assert.match(r.json().error, /division by zero at line 1, column 8/);
  r = await srv.queryRaw(DB, 'SELECT host, usage FROM cpu GROUP BY host');
  assert.equal(r.status, 400);
  assert.match(r.json().error, /column 'usage' must appear in the GROUP BY clause/);
  r = await srv.queryRaw(DB, 'SELECT avg(host) FROM cpu');
  assert.equal(r.status, 400);
  assert.match(r.json().error, /avg\(\) needs a numeric argument/);
});
