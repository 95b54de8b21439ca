// SPDX-License-Identifier: MIT
//
// ORDER BY time ASC/DESC, LIMIT, count(*), SHOW TABLES, SHOW COLUMNS, identifier case,
// database isolation, and last-write-wins merging of one series at one time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sortRows } from '../lib/util.mjs';
import { DB, loadData, ID_BY_TIME } from './data.mjs';

let srv;
before(async () => {
  srv = await startServer();
  await loadData(srv);
});
after(() => srv.cleanup());

const idsOf = (rows) => rows.map((r) => ID_BY_TIME[r.time]);

test('ORDER BY time, ORDER BY time ASC and ORDER BY time DESC', async () => {
  assert.deepEqual(idsOf(await srv.query(DB, 'SELECT time FROM weather ORDER BY time')), ['P1', 'B', 'T', 'P2', 'O']);
  assert.deepEqual(idsOf(await srv.query(DB, 'SELECT time FROM weather ORDER BY time ASC')), ['P1', 'B', 'T', 'P2', 'O']);
  assert.deepEqual(idsOf(await srv.query(DB, 'SELECT time FROM weather ORDER BY time DESC')), ['O', 'P2', 'T', 'B', 'P1']);
});

test('ORDER BY time sorts rows written out of time order, across series', async () => {
  const times = [50, 10, 40, 20, 30, 60, 5];
  await srv.write('qorder', times.map((t, i) => `o,s=s${i % 3} v=${t}i ${t}`).join('\n'), { params: { precision: 'ns' } });
  assert.deepEqual(
    (await srv.query('qorder', 'SELECT v FROM o ORDER BY time')).map((r) => r.v),
    [...times].sort((a, b) => a - b),
  );
  assert.deepEqual(
    (await srv.query('qorder', 'SELECT v FROM o ORDER BY time DESC')).map((r) => r.v),
    [...times].sort((a, b) => b - a),
  );
});

test('without ORDER BY every row comes back once', async () => {
  const rows = await srv.query(DB, 'SELECT time FROM weather');
  assert.deepEqual(idsOf(rows).sort(), ['B', 'O', 'P1', 'P2', 'T']);
});

test('LIMIT n, LIMIT 0, LIMIT beyond the row count', async () => {
  assert.deepEqual(idsOf(await srv.query(DB, 'SELECT time FROM weather ORDER BY time LIMIT 2')), ['P1', 'B']);
  assert.deepEqual(idsOf(await srv.query(DB, 'SELECT time FROM weather ORDER BY time DESC LIMIT 1')), ['O']);
  assert.deepEqual(await srv.query(DB, 'SELECT * FROM weather LIMIT 0'), []);
  assert.equal((await srv.query(DB, 'SELECT * FROM weather LIMIT 100')).length, 5);
  assert.equal((await srv.query(DB, 'SELECT * FROM weather LIMIT 3')).length, 3);
});

test('WHERE, ORDER BY and LIMIT together', async () => {
  const rows = await srv.query(DB, "SELECT city, temp FROM weather WHERE temp > 0 ORDER BY time DESC LIMIT 2");
  assert.deepEqual(rows, [
    { city: 'Oslo', temp: 0.5 },
    { city: 'Paris', temp: 13.5 },
  ]);
});

test('count(*) of a table, with WHERE, with no match, and LIMIT does not change it', async () => {
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM weather'), [{ 'count(*)': 5 }]);
  assert.deepEqual(await srv.query(DB, "SELECT count(*) FROM weather WHERE city = 'Paris'"), [{ 'count(*)': 2 }]);
  assert.deepEqual(await srv.query(DB, "SELECT count(*) FROM weather WHERE city = 'Nowhere'"), [{ 'count(*)': 0 }]);
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM air'), [{ 'count(*)': 1 }]);
  assert.deepEqual(await srv.query(DB, 'SELECT COUNT(*) FROM weather'), [{ 'count(*)': 5 }]);
});

test('count(*) in CSV and JSONL', async () => {
  assert.equal((await srv.queryRaw(DB, 'SELECT count(*) FROM weather', { format: 'csv' })).text, 'count(*)\n5\n');
  assert.equal((await srv.queryRaw(DB, 'SELECT count(*) FROM weather', { format: 'jsonl' })).text, '{"count(*)":5}\n');
});

test('SHOW TABLES lists the database\'s tables, sorted', async () => {
  const rows = await srv.query(DB, 'SHOW TABLES');
  const mine = rows.filter((r) => r.table_schema === 'iox');
  assert.deepEqual(mine, [
    { table_catalog: 'public', table_schema: 'iox', table_name: 'air', table_type: 'BASE TABLE' },
    { table_catalog: 'public', table_schema: 'iox', table_name: 'weather', table_type: 'BASE TABLE' },
  ]);
});

test('SHOW COLUMNS FROM a table lists names and types, sorted by name', async () => {
  const rows = await srv.query(DB, 'SHOW COLUMNS FROM weather');
  assert.deepEqual(
    rows.map((r) => [r.table_name, r.column_name, r.data_type, r.is_nullable]),
    [
      ['weather', 'city', 'Dictionary(Int32, Utf8)', 'YES'],
      ['weather', 'country', 'Dictionary(Int32, Utf8)', 'YES'],
      ['weather', 'hum', 'Int64', 'YES'],
      ['weather', 'note', 'Utf8', 'YES'],
      ['weather', 'ok', 'Boolean', 'YES'],
      ['weather', 'pressure', 'UInt64', 'YES'],
      ['weather', 'temp', 'Float64', 'YES'],
      ['weather', 'time', 'Timestamp(Nanosecond, None)', 'NO'],
    ],
  );
});

test('SHOW COLUMNS of an unknown table answers 400', async () => {
  const r = await srv.queryRaw(DB, 'SHOW COLUMNS FROM nope');
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /nope/);
});

test('keywords are case-insensitive; unquoted names fold to lower case, quoted ones keep case', async () => {
  assert.deepEqual(await srv.query(DB, "select CITY from WEATHER where CITY = 'Oslo'"), [{ city: 'Oslo' }]);
  await srv.write('qcase', 'CamelCase,Tag=A MyField=1.5 1');
  assert.deepEqual(await srv.query('qcase', 'SELECT "MyField", "Tag" FROM "CamelCase"'), [{ MyField: 1.5, Tag: 'A' }]);
  const r = await srv.queryRaw('qcase', 'SELECT MyField FROM CamelCase');
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /camelcase/);
});

test('a trailing semicolon is accepted', async () => {
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM weather;'), [{ 'count(*)': 5 }]);
});

test('databases are isolated: the same table name in two databases', async () => {
  await srv.write('qiso1', 'shared v=1 1');
  await srv.write('qiso2', 'shared v=2 1\nshared v=3 2\nonly2 x=1 1');
  assert.deepEqual(await srv.query('qiso1', 'SELECT v FROM shared'), [{ v: 1 }]);
  assert.deepEqual(await srv.query('qiso2', 'SELECT v FROM shared ORDER BY time'), [{ v: 2 }, { v: 3 }]);
  assert.equal((await srv.queryRaw('qiso1', 'SELECT * FROM only2')).status, 400);
});

test('last write wins field by field for one series at one time, across requests', async () => {
  await srv.write('qmerge', 'm,host=a f1=1,f2=1 100');
  await srv.write('qmerge', 'm,host=a f2=2,f3=3 100');
  await srv.write('qmerge', 'm,host=a f3=30 200');
  assert.deepEqual(await srv.query('qmerge', 'SELECT * FROM m ORDER BY time'), [
    { f1: 1, f2: 2, f3: 3, host: 'a', time: '1970-01-01T00:01:40' },
    { f3: 30, host: 'a', time: '1970-01-01T00:03:20' },
  ]);
});

test('last write wins within one request, and tag order does not make a new series', async () => {
  await srv.write('qmerge2', 'm,a=1,b=2 x=1,y=1 5\nm,b=2,a=1 y=2,z=2 5\nm,a=1,b=2 z=3 5');
  assert.deepEqual(await srv.query('qmerge2', 'SELECT * FROM m'), [{ a: '1', b: '2', time: '1970-01-01T00:00:05', x: 1, y: 2, z: 3 }]);
  assert.deepEqual(await srv.query('qmerge2', 'SELECT count(*) FROM m'), [{ 'count(*)': 1 }]);
});

test('a merge does not touch other series at the same time', async () => {
  await srv.write('qmerge3', 'm,h=a v=1 7\nm,h=b v=2 7\nm v=3 7');
  await srv.write('qmerge3', 'm,h=a v=10 7');
  const rows = sortRows(await srv.query('qmerge3', 'SELECT h, v FROM m'), 'v');
  assert.deepEqual(rows, [{ h: 'b', v: 2 }, { v: 3 }, { h: 'a', v: 10 }]);
  assert.deepEqual(await srv.query('qmerge3', 'SELECT count(*) FROM m'), [{ 'count(*)': 3 }]);
});

test('a merged row is found by WHERE on its newest values only', async () => {
  await srv.write('qmerge4', 'm,h=a v=1 7');
  await srv.write('qmerge4', 'm,h=a v=2 7');
  assert.deepEqual(await srv.query('qmerge4', 'SELECT v FROM m WHERE v = 1'), []);
  assert.deepEqual(await srv.query('qmerge4', 'SELECT v FROM m WHERE v = 2'), [{ v: 2 }]);
  assert.deepEqual(await srv.query('qmerge4', 'SELECT count(*) FROM m WHERE v >= 1'), [{ 'count(*)': 1 }]);
});

test('rows across several days and before 1970: ORDER BY, LIMIT, count(*) and time ranges over day boundaries', async () => {
  const day = 86400n * 1000000000n;
  const hour = 3600n * 1000000000n;
  const lines = [];
  const all = []; // [time, v]
  for (let d = -3n; d < 4n; d++) {
    for (let h = 0n; h < 24n; h += 6n) {
      const t = d * day + h * hour;
      const v = Number(d * 100n + h);
      lines.push(`days,d=${d} v=${v}i ${t}`);
      all.push([t, v]);
    }
  }
  // write them shuffled, in two requests
  const order = lines.map((l, i) => [((i * 7919) % lines.length), l]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  await srv.write('qdays', order.slice(0, 13).join('\n'), { params: { precision: 'ns' } });
  await srv.write('qdays', order.slice(13).join('\n'), { params: { precision: 'ns' } });
  all.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const vs = all.map((x) => x[1]);
  assert.deepEqual((await srv.query('qdays', 'SELECT v FROM days ORDER BY time')).map((r) => r.v), vs);
  assert.deepEqual((await srv.query('qdays', 'SELECT v FROM days ORDER BY time DESC LIMIT 5')).map((r) => r.v), [...vs].reverse().slice(0, 5));
  assert.deepEqual(await srv.query('qdays', 'SELECT count(*) FROM days'), [{ 'count(*)': 28 }]);
  const lo = -day / 2n;
  const hi = day + 6n * hour;
  const inRange = all.filter(([t]) => t >= lo && t < hi).map((x) => x[1]);
  assert.deepEqual(
    (await srv.query('qdays', "SELECT v FROM days WHERE time >= '1969-12-31T12:00:00Z' AND time < '1970-01-02T06:00:00Z' ORDER BY time")).map((r) => r.v),
    inRange,
  );
  assert.deepEqual(await srv.query('qdays', `SELECT count(*) FROM days WHERE time >= ${lo} AND time < ${hi}`), [{ 'count(*)': inRange.length }]);
  assert.deepEqual((await srv.query('qdays', 'SELECT time FROM days ORDER BY time LIMIT 1')), [{ time: '1969-12-29T00:00:00' }]);
});
