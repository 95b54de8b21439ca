// SPDX-License-Identifier: MIT
//
// date_bin_gapfill with locf() and interpolate(), as InfluxDB 3 documents them, over known
// data (part persisted to Parquet, part in the buffer, then all persisted) with answers
// computed by hand: every bucket of the WHERE range for every group, NULL where a group has
// no rows, locf carrying the last value forward, interpolate filling linearly between two
// values (integers truncated toward zero). DuckDB has no gap filling, so the differential
// test cannot check this. The second test has the shape of the example in the InfluxDB 3
// documentation (a date_bin_gapfill aliased time, GROUP BY 1 or by the alias).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { NS } from '../lib/dataset.mjs';

const T8 = 1641024000000000000n; // 2022-01-01T08:00:00Z
const MIN = 60000000000n;
const at = (m) => (T8 + BigInt(m) * MIN).toString();
const RANGE = "time >= '2022-01-01T08:00:00Z' AND time <= '2022-01-01T10:00:00Z'";

async function check(srv) {
  const filled = await srv.query(
    'gf',
    `SELECT date_bin_gapfill(INTERVAL '30 minutes', time) AS _time, room, locf(avg(temp)) AS temp, interpolate(max(co)) AS co
     FROM home WHERE ${RANGE} GROUP BY _time, room ORDER BY room, _time`,
  );
  assert.deepEqual(filled, [
    { _time: '2022-01-01T08:00:00', room: 'Kitchen', temp: 22, co: 2 },
    { _time: '2022-01-01T08:30:00', room: 'Kitchen', temp: 22, co: 3 },
    { _time: '2022-01-01T09:00:00', room: 'Kitchen', temp: 22, co: 4 },
    { _time: '2022-01-01T09:30:00', room: 'Kitchen', temp: 22.7, co: 5 },
    { _time: '2022-01-01T10:00:00', room: 'Kitchen', temp: 22.7 },
    { _time: '2022-01-01T08:00:00', room: 'Living', temp: 21.1, co: 0 },
    { _time: '2022-01-01T08:30:00', room: 'Living', temp: 21.1, co: 1 },
    { _time: '2022-01-01T09:00:00', room: 'Living', temp: 21.1, co: 2 },
    { _time: '2022-01-01T09:30:00', room: 'Living', temp: 21.1, co: 3 },
    { _time: '2022-01-01T10:00:00', room: 'Living', temp: 22.2, co: 4 },
  ]);
  // without locf: NULL (left out of the JSON row) in the gaps; an exclusive upper bound
  const plain = await srv.query(
    'gf',
    `SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS t, count(temp) AS n FROM home
     WHERE time >= '2022-01-01T07:00:00Z' AND time < '2022-01-01T11:00:00Z' GROUP BY t`,
  );
  assert.deepEqual(plain, [
    { t: '2022-01-01T07:00:00' },
    { t: '2022-01-01T08:00:00', n: 3 },
    { t: '2022-01-01T09:00:00', n: 1 },
    { t: '2022-01-01T10:00:00', n: 1 },
  ]);
  // a gap-filled query as a subquery
  const per = await srv.query(
    'gf',
    `SELECT room, count(*) AS buckets, count(a) AS with_data FROM
       (SELECT date_bin_gapfill(INTERVAL '30 minutes', time) AS t, room, avg(temp) AS a FROM home WHERE ${RANGE} GROUP BY t, room) AS g
     GROUP BY room ORDER BY room`,
  );
  assert.deepEqual(per, [
    { room: 'Kitchen', buckets: 5, with_data: 2 },
    { room: 'Living', buckets: 5, with_data: 2 },
  ]);
  // InfluxDB 3 requires both time bounds
  for (const [where, re] of [['', /lower and upper time bounds/], ["WHERE time >= '2022-01-01T08:00:00Z'", /upper time bound/], ["WHERE time < '2022-01-01T08:00:00Z'", /lower time bound/]]) {
    const r = await srv.queryRaw('gf', `SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS t, avg(temp) FROM home ${where} GROUP BY t`);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json().error, re);
  }
}

test('date_bin_gapfill, locf and interpolate over the buffer and Parquet files', async (t) => {
  const srv = await startServer({ t });
  await srv.write('gf', [
    `home,room=Kitchen temp=21.0,co=0i ${at(0)}`,
    `home,room=Kitchen temp=23.0,co=2i ${at(20)}`,
    `home,room=Living temp=21.1,co=0i ${at(0)}`,
    `home,room=Kitchen temp=99.0,co=9i ${at(-61)}`, // before the range
  ].join('\n'), NS);
  await srv.stop(); // persisted
  await srv.restart();
  await srv.write('gf', [
    `home,room=Kitchen temp=22.7,co=5i ${at(90)}`,
    `home,room=Living temp=22.2,co=4i ${at(120)}`,
    `home,room=Office temp=19.0,co=0i ${at(200)}`, // after the range: no Office group
  ].join('\n'), NS);
  await check(srv);
  await srv.stop();
  await srv.restart();
  await check(srv);
});

test('the InfluxDB 3 documentation example: date_bin_gapfill AS time, GROUP BY 1 or time, room', async (t) => {
  const srv = await startServer({ t });
  const rows = [['Kitchen', 0, 21.0], ['Kitchen', 60, 23.0], ['Kitchen', 120, 22.7], ['Living Room', 0, 21.1], ['Living Room', 60, 21.4], ['Living Room', 120, 21.8]];
  await srv.write('gf', rows.map(([room, m, temp]) => `home,room=${room.replace(' ', '\\ ')} temp=${temp} ${at(m)}`).join('\n'), NS);
  const times = ['08:00', '08:30', '09:00', '09:30', '10:00'].map((h) => `2022-01-01T${h}:00`);
  const mid = (a, b) => a + (b - a) * (1800 / 3600); // the engine's formula, in the same doubles
  const interp = await srv.query('gf', `SELECT date_bin_gapfill(INTERVAL '30 minutes', time) as time, room, interpolate(avg(temp)) FROM home WHERE ${RANGE} GROUP BY 1, room`);
  const want = (room, vals) => vals.map((v, k) => ({ time: times[k], room, 'avg(home.temp)': v }));
  assert.deepEqual(interp, [...want('Kitchen', [21, mid(21, 23), 23, mid(23, 22.7), 22.7]), ...want('Living Room', [21.1, mid(21.1, 21.4), 21.4, mid(21.4, 21.8), 21.8])]);
  const locf = await srv.query('gf', `SELECT date_bin_gapfill(INTERVAL '30 minutes', time) as time, room, locf(avg(temp)) FROM home WHERE ${RANGE} GROUP BY time, room`);
  assert.deepEqual(locf, [...want('Kitchen', [21, 21, 23, 23, 22.7]), ...want('Living Room', [21.1, 21.1, 21.4, 21.4, 21.8])]);
});
