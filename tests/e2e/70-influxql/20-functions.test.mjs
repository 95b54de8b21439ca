// SPDX-License-Identifier: MIT
//
// InfluxQL functions and clauses beyond the basic aggregates, each checked against answers
// worked out by hand on small data sets, with InfluxDB 1.x semantics:
//   mode()      most frequent value; a tie goes to the value seen first, then the smaller
//   distinct()  one row per value in order of first occurrence; count(distinct())
//   integral()  trapezoids per unit (1s by default); with GROUP BY time a bucket's area runs
//               to its end, interpolated toward the next point (the InfluxDB docs' NOAA
//               numbers: 3732.66, 62.211, 24.972)
//   fill(linear) interpolation of empty buckets between two rows of a series, integers
//               truncated, nothing past either end
//   tz()        day buckets at local midnight (also on the 23-hour day of a DST change), times
//               printed with the zone's offset, local time literals, unknown zones refused
//   selectors   first/last/min/max alone report the selected point's time

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request } from '../lib/server.mjs';

async function v1(srv, q, params = {}) {
  const qs = new URLSearchParams({ db: 'fn', q, ...params });
  const r = await request(srv.port, { path: `/query?${qs}` });
  return { status: r.status, text: r.text, json: r.text && r.text[0] === '{' ? JSON.parse(r.text) : null };
}

async function check(srv, cases) {
  for (const [q, want] of cases) {
    const r = await v1(srv, q);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    const res = r.json.results[0];
    if (typeof want === 'string') assert.deepEqual(res, { statement_id: 0, error: want }, `${q}\n${r.text}`);
    else assert.deepEqual(res, { statement_id: 0, series: want }, `${q}\n${r.text}`);
  }
}

const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const E = '1970-01-01T00:00:00Z';

// times in seconds
const DATA = [
  // mode / distinct: host a has x at 0, 30; y at 10, 20; q at 130; host b z at 5, x at 65
  'm,h=a s="x",n=1i,b=true 0',
  'm,h=a s="y",n=2i,b=false 10',
  'm,h=a s="y",n=2i 20',
  'm,h=a s="x",n=1i,b=true 30',
  'm,h=b s="z",n=3i 5',
  'm,h=b s="x",n=3i 65',
  'm,h=a s="q",n=7i 130',
  // the InfluxDB docs' NOAA sample: santa_monica every 6 minutes from 2015-08-18T00:00:00Z
  'h2o_feet,location=santa_monica water_level=2.064 1439856000',
  'h2o_feet,location=santa_monica water_level=2.116 1439856360',
  'h2o_feet,location=santa_monica water_level=2.028 1439856720',
  'h2o_feet,location=santa_monica water_level=2.126 1439857080',
  'h2o_feet,location=santa_monica water_level=2.041 1439857440',
  'h2o_feet,location=santa_monica water_level=2.051 1439857800',
  // integers: 0 at 0s, 10 at 10s and 20s
  'ints v=0i 0',
  'ints v=10i 10',
  'ints v=10i 20',
  // fill(linear): host a at 0 and 3 minutes, host b at 1 minute
  'lin,host=a f=1,i=10i 0',
  'lin,host=a f=4,i=0i 180',
  'lin,host=b f=5 60',
  // tz: 2016-03-25T23:00Z, 2016-03-27T00:00Z, 2016-03-27T23:00Z, 2016-03-28T00:00Z (Paris
  // moves to +02:00 at 2016-03-27T01:00Z)
  'p v=1 1458946800',
  'p v=2 1459036800',
  'p v=4 1459119600',
  'p v=3 1459123200',
  // selectors
  'sel,host=a v=5i 10',
  'sel,host=a v=9i 20',
  'sel,host=b v=9i 30',
  'sel,host=a x=1i 40',
].join('\n');

for (const persisted of [false, true]) {
  const where = persisted ? 'from Parquet files' : 'from the buffer';

  async function server(t) {
    const srv = await startServer({ t });
    await srv.write('fn', DATA, { params: { precision: 's' } });
    if (persisted) {
      await srv.stop();
      await srv.restart();
    }
    return srv;
  }

  test(`mode() and distinct() (${where})`, async (t) => {
    const srv = await server(t);
    const R = `time >= '${iso(0)}' AND time < '${iso(180)}'`;
    await check(srv, [
      // s: x twice, y twice -> x (first at 0); n: 1, 2, 3 twice each -> 1; b: true/false tie -> true
      ['SELECT mode(s), mode(n), mode(b) FROM m', [{ name: 'm', columns: ['time', 'mode', 'mode_1', 'mode_2'], values: [[E, 'x', 1, true]] }]],
      ['SELECT mode(*) FROM m GROUP BY h', [
        { name: 'm', tags: { h: 'a' }, columns: ['time', 'mode_b', 'mode_n', 'mode_s'], values: [[E, true, 1, 'x']] },
        { name: 'm', tags: { h: 'b' }, columns: ['time', 'mode_b', 'mode_n', 'mode_s'], values: [[E, null, 3, 'z']] },
      ]],
      // per minute: [0,60) x/y tie -> x, [60,120) x, [120,180) q
      [`SELECT mode(s) FROM m WHERE ${R} GROUP BY time(1m)`, [{ name: 'm', columns: ['time', 'mode'], values: [[iso(0), 'x'], [iso(60), 'x'], [iso(120), 'q']] }]],
      [`SELECT mode(s) FROM m WHERE ${R} AND h = 'b' GROUP BY time(1m)`, [{ name: 'm', columns: ['time', 'mode'], values: [[iso(0), 'z'], [iso(60), 'x'], [iso(120), null]] }]],
      // distinct: order of first occurrence (x at 0, z at 5, y at 10, q at 130)
      ['SELECT distinct(s) FROM m', [{ name: 'm', columns: ['time', 'distinct'], values: [[E, 'x'], [E, 'z'], [E, 'y'], [E, 'q']] }]],
      ['SELECT DISTINCT s FROM m GROUP BY h', [
        { name: 'm', tags: { h: 'a' }, columns: ['time', 'distinct'], values: [[E, 'x'], [E, 'y'], [E, 'q']] },
        { name: 'm', tags: { h: 'b' }, columns: ['time', 'distinct'], values: [[E, 'z'], [E, 'x']] },
      ]],
      [`SELECT distinct(n) FROM m WHERE ${R} GROUP BY time(1m)`, [{ name: 'm', columns: ['time', 'distinct'], values: [[iso(0), 1], [iso(0), 3], [iso(0), 2], [iso(60), 3], [iso(120), 7]] }]],
      [`SELECT distinct(n) FROM m WHERE ${R} GROUP BY time(1m) ORDER BY time DESC LIMIT 4`, [{ name: 'm', columns: ['time', 'distinct'], values: [[iso(120), 7], [iso(60), 3], [iso(0), 1], [iso(0), 3]] }]],
      ['SELECT count(distinct(s)), count(DISTINCT n) FROM m', [{ name: 'm', columns: ['time', 'count', 'count_1'], values: [[E, 4, 4]] }]],
      ['SELECT distinct(s), count(s) FROM m', 'aggregate function distinct() cannot be combined with other functions or fields'],
      ['SELECT mode(n) * 2 FROM m', 'mode() cannot be used in an expression or with other functions yet'],
    ]);
  });

  test(`integral() (${where})`, async (t) => {
    const srv = await server(t);
    const R = "time >= '2015-08-18T00:00:00Z' AND time <= '2015-08-18T00:30:00Z'";
    await check(srv, [
      [`SELECT integral(water_level) FROM h2o_feet WHERE ${R}`, [{ name: 'h2o_feet', columns: ['time', 'integral'], values: [[E, 3732.66]] }]],
      [`SELECT INTEGRAL(water_level, 1m) FROM h2o_feet WHERE ${R}`, [{ name: 'h2o_feet', columns: ['time', 'integral'], values: [[E, 62.211]] }]],
      [`SELECT integral(*, 1m) FROM h2o_feet WHERE ${R} GROUP BY location`, [{ name: 'h2o_feet', tags: { location: 'santa_monica' }, columns: ['time', 'integral_water_level'], values: [[E, 62.211]] }]],
      [`SELECT integral(water_level, 1m) FROM h2o_feet WHERE ${R} GROUP BY time(12m) LIMIT 1`, [{ name: 'h2o_feet', columns: ['time', 'integral'], values: [['2015-08-18T00:00:00Z', 24.972]] }]],
      // integers: 0->10 over 10s is 50, 10->10 over 10s is 100; per 15s bucket the area up to
      // 15s (10 there) is 50 + 50, the rest 50
      ['SELECT integral(v) FROM ints', [{ name: 'ints', columns: ['time', 'integral'], values: [[E, 150]] }]],
      [`SELECT integral(v) FROM ints WHERE time >= 0 AND time < ${30e9} GROUP BY time(15s)`, [{ name: 'ints', columns: ['time', 'integral'], values: [[iso(0), 100], [iso(15), 50]] }]],
      [`SELECT integral(v, 10s) FROM ints WHERE time >= 0 AND time < ${30e9} GROUP BY time(15s) ORDER BY time DESC`, [{ name: 'ints', columns: ['time', 'integral'], values: [[iso(15), 5], [iso(0), 10]] }]],
      ['SELECT integral(s) FROM m', 'integral() needs a numeric field: s is a string field'],
    ]);
    // the last 12-minute bucket: (2.041 + 2.051) / 2 * 6
    const r = await v1(srv, `SELECT integral(water_level, 1m) FROM h2o_feet WHERE ${R} GROUP BY time(12m)`);
    const vals = r.json.results[0].series[0].values;
    assert.deepEqual(vals.map((v) => v[0]), ['2015-08-18T00:00:00Z', '2015-08-18T00:12:00Z', '2015-08-18T00:24:00Z']);
    assert.equal(vals[0][1], 24.972);
    assert.ok(Math.abs(vals[1][1] - 24.963) < 1e-9, r.text);
    assert.ok(Math.abs(vals[2][1] - 12.276) < 1e-9, r.text);
  });

  test(`fill(linear) (${where})`, async (t) => {
    const srv = await server(t);
    const R = `time >= '${iso(0)}' AND time < '${iso(300)}'`;
    await check(srv, [
      // f: 1 -> 4 over three minutes; i: 10 -> 0, truncated (6.67 -> 6, 3.33 -> 3); nothing
      // after the last row; host b has one row: nothing to interpolate
      [`SELECT mean(f), max(i) FROM lin WHERE ${R} GROUP BY time(1m), host fill(linear)`, [
        { name: 'lin', tags: { host: 'a' }, columns: ['time', 'mean', 'max'], values: [[iso(0), 1, 10], [iso(60), 2, 6], [iso(120), 3, 3], [iso(180), 4, 0], [iso(240), null, null]] },
        { name: 'lin', tags: { host: 'b' }, columns: ['time', 'mean', 'max'], values: [[iso(0), null, null], [iso(60), 5, null], [iso(120), null, null], [iso(180), null, null], [iso(240), null, null]] },
      ]],
      [`SELECT mean(f) FROM lin WHERE ${R} AND host = 'a' GROUP BY time(1m) fill(linear) ORDER BY time DESC`, [{ name: 'lin', columns: ['time', 'mean'], values: [[iso(240), null], [iso(180), 4], [iso(120), 3], [iso(60), 2], [iso(0), 1]] }]],
      [`SELECT mean(f) FROM lin WHERE ${R} AND host = 'a' GROUP BY time(1m) fill(linear) LIMIT 2 OFFSET 1`, [{ name: 'lin', columns: ['time', 'mean'], values: [[iso(60), 2], [iso(120), 3]] }]],
      [`SELECT mode(f) FROM lin WHERE ${R} AND host = 'a' GROUP BY time(1m) fill(linear)`, [{ name: 'lin', columns: ['time', 'mode'], values: [[iso(0), 1], [iso(60), 2], [iso(120), 3], [iso(180), 4], [iso(240), null]] }]],
    ]);
  });

  test(`tz() (${where})`, async (t) => {
    const srv = await server(t);
    // local dates: 2016-03-26T00:00+01:00 to 2016-03-29T00:00+02:00
    const R = "time >= '2016-03-26' AND time < '2016-03-29'";
    await check(srv, [
      [`SELECT sum(v) FROM p WHERE ${R} GROUP BY time(1d) tz('Europe/Paris')`, [{ name: 'p', columns: ['time', 'sum'], values: [['2016-03-26T00:00:00+01:00', 1], ['2016-03-27T00:00:00+01:00', 2], ['2016-03-28T00:00:00+02:00', 7]] }]],
      // without tz() the same instants fall on UTC days
      ["SELECT sum(v) FROM p WHERE time >= '2016-03-25' AND time < '2016-03-29' GROUP BY time(1d)", [{ name: 'p', columns: ['time', 'sum'], values: [['2016-03-25T00:00:00Z', 1], ['2016-03-26T00:00:00Z', null], ['2016-03-27T00:00:00Z', 6], ['2016-03-28T00:00:00Z', 3]] }]],
      [`SELECT count(v) FROM p WHERE time >= '2016-03-24' AND time < '2016-03-29' GROUP BY time(1d) ORDER BY time DESC tz('Europe/Paris')`, [{ name: 'p', columns: ['time', 'count'], values: [['2016-03-28T00:00:00+02:00', 2], ['2016-03-27T00:00:00+01:00', 1], ['2016-03-26T00:00:00+01:00', 1], ['2016-03-25T00:00:00+01:00', 0], ['2016-03-24T00:00:00+01:00', 0]] }]],
      ["SELECT v FROM p WHERE v >= 2 tz('Europe/Paris')", [{ name: 'p', columns: ['time', 'v'], values: [['2016-03-27T01:00:00+01:00', 2], ['2016-03-28T01:00:00+02:00', 4], ['2016-03-28T02:00:00+02:00', 3]] }]],
      ["SELECT v FROM p WHERE v = 1 tz('UTC')", [{ name: 'p', columns: ['time', 'v'], values: [['2016-03-25T23:00:00Z', 1]] }]],
      ["SELECT mode(v) FROM p WHERE v = 1 tz('America/New_York')", [{ name: 'p', columns: ['time', 'mode'], values: [['1969-12-31T19:00:00-05:00', 1]] }]],
      ["SELECT v FROM p tz('Mars/Olympus')", 'unable to find time zone Mars/Olympus'],
      ["SELECT v FROM p tz('../../etc/passwd')", 'unable to find time zone ../../etc/passwd'],
    ]);
    // epoch= prints integers, tz() or not
    const r = await v1(srv, `SELECT sum(v) FROM p WHERE ${R} GROUP BY time(1d) tz('Europe/Paris')`, { epoch: 's' });
    assert.deepEqual(r.json.results[0].series[0].values, [[1458946800, 1], [1459033200, 2], [1459116000, 7]], r.text);
  });

  test(`a lone selector reports its point's time (${where})`, async (t) => {
    const srv = await server(t);
    await check(srv, [
      ['SELECT max(v) FROM sel', [{ name: 'sel', columns: ['time', 'max'], values: [[iso(20), 9]] }]],
      ['SELECT first(v) FROM sel', [{ name: 'sel', columns: ['time', 'first'], values: [[iso(10), 5]] }]],
      // the point at 40s has no v: last(v) is host b's 9 at 30s
      ['SELECT last(v) FROM sel', [{ name: 'sel', columns: ['time', 'last'], values: [[iso(30), 9]] }]],
      ['SELECT min(v) FROM sel GROUP BY host', [
        { name: 'sel', tags: { host: 'a' }, columns: ['time', 'min'], values: [[iso(10), 5]] },
        { name: 'sel', tags: { host: 'b' }, columns: ['time', 'min'], values: [[iso(30), 9]] },
      ]],
      // two selectors, or GROUP BY time: the range's start / the bucket's
      ['SELECT max(v), min(v) FROM sel', [{ name: 'sel', columns: ['time', 'max', 'min'], values: [[E, 9, 5]] }]],
      [`SELECT max(v) FROM sel WHERE time >= 0 AND time < ${60e9} GROUP BY time(1m)`, [{ name: 'sel', columns: ['time', 'max'], values: [[E, 9]] }]],
    ]);
  });
}
