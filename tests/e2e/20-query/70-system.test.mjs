// SPDX-License-Identifier: MIT
//
// System tables against the real binary: SHOW TABLES / SHOW COLUMNS as InfluxDB 3 answers
// them (information_schema views), information_schema.tables and .columns under WHERE,
// ORDER BY, GROUP BY and LIMIT, and system.parquet_files: the catalog's files of one
// database, checked against the object store (keys and sizes), the rows written and the
// time ranges, before and after a persist, and not showing another database's files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { listParquet, walFiles, shutdownLine } from '../lib/storage.mjs';
import { nsToTime } from '../lib/util.mjs';

const NS = { params: { precision: 'ns' } };
const T0 = 1700000000000000000n; // 2023-11-14T22:13:20Z

async function persistAndRestart(srv) {
  const off = srv.logOffset();
  await srv.stop();
  assert.ok(shutdownLine(srv, off), srv.log(off));
  assert.deepEqual(walFiles(srv), []);
  await srv.restart();
}

const SYSTEM_TABLES = [
  { table_catalog: 'public', table_schema: 'system', table_name: 'parquet_files', table_type: 'BASE TABLE' },
  { table_catalog: 'public', table_schema: 'information_schema', table_name: 'tables', table_type: 'VIEW' },
  { table_catalog: 'public', table_schema: 'information_schema', table_name: 'columns', table_type: 'VIEW' },
];

test('SHOW TABLES and information_schema.tables: iox tables, then system and information_schema', async (t) => {
  const srv = await startServer({ t });
  await srv.write('sys1', ['cpu,host=a usage=1.5 1', 'mem,host=a free=3i 1', 'disk used=1u 1'].join('\n'), NS);
  const iox = ['cpu', 'disk', 'mem'].map((n) => ({ table_catalog: 'public', table_schema: 'iox', table_name: n, table_type: 'BASE TABLE' }));
  assert.deepEqual(await srv.query('sys1', 'SHOW TABLES'), [...iox, ...SYSTEM_TABLES]);
  assert.deepEqual(await srv.query('sys1', 'SELECT * FROM information_schema.tables'), [...iox, ...SYSTEM_TABLES]);
  assert.deepEqual(
    await srv.query('sys1', "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox' ORDER BY table_name DESC LIMIT 2"),
    [{ table_name: 'mem' }, { table_name: 'disk' }],
  );
  assert.deepEqual(
    await srv.query('sys1', 'SELECT table_type, count(*) AS n FROM information_schema.tables GROUP BY table_type ORDER BY table_type'),
    [{ table_type: 'BASE TABLE', n: 4 }, { table_type: 'VIEW', n: 2 }],
  );
  // csv and jsonl go through the same leaf
  assert.equal(
    await srv.query('sys1', "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE 'c%'", 'csv'),
    'table_schema,table_name\niox,cpu\ninformation_schema,columns\n',
  );
});

test('SHOW COLUMNS and information_schema.columns: Arrow type names, nullability, ordinal positions', async (t) => {
  const srv = await startServer({ t });
  await srv.write('sys2', 'm,tag=x f=1.5,i=2i,u=3u,s="str",b=true 1', NS);
  const want = [
    ['b', 'Boolean', 'YES'],
    ['f', 'Float64', 'YES'],
    ['i', 'Int64', 'YES'],
    ['s', 'Utf8', 'YES'],
    ['tag', 'Dictionary(Int32, Utf8)', 'YES'],
    ['time', 'Timestamp(Nanosecond, None)', 'NO'],
    ['u', 'UInt64', 'YES'],
  ];
  const show = await srv.query('sys2', 'SHOW COLUMNS FROM m');
  assert.deepEqual(show, want.map(([c, d, n]) => ({
    table_catalog: 'public', table_schema: 'iox', table_name: 'm', column_name: c, data_type: d, is_nullable: n,
  })));
  assert.deepEqual(await srv.query('sys2', 'SHOW COLUMNS IN iox.m'), show);
  const cols = await srv.query('sys2', "SELECT column_name, ordinal_position, data_type FROM information_schema.columns WHERE table_name = 'm' ORDER BY ordinal_position DESC LIMIT 3");
  assert.deepEqual(cols, [
    { column_name: 'u', ordinal_position: 6, data_type: 'UInt64' },
    { column_name: 'time', ordinal_position: 5, data_type: 'Timestamp(Nanosecond, None)' },
    { column_name: 'tag', ordinal_position: 4, data_type: 'Dictionary(Int32, Utf8)' },
  ]);
  // system tables describe themselves too
  const pf = await srv.query('sys2', "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'system' AND table_name = 'parquet_files'");
  assert.deepEqual(pf.map((r) => r.column_name), ['table_name', 'path', 'size_bytes', 'row_count', 'min_time', 'max_time', 'created_at', 'to_delete_at']);
  assert.deepEqual(pf.find((r) => r.column_name === 'size_bytes'), { column_name: 'size_bytes', data_type: 'UInt64', is_nullable: 'NO' });
  assert.deepEqual(pf.find((r) => r.column_name === 'to_delete_at'), { column_name: 'to_delete_at', data_type: 'Timestamp(Nanosecond, None)', is_nullable: 'YES' });
  assert.deepEqual((await srv.query('sys2', 'SHOW COLUMNS FROM system.parquet_files')).length, 8);
});

test('system.parquet_files lists the database\'s files as the object store and the data say', async (t) => {
  const srv = await startServer({ t });
  const lines = [];
  for (let i = 0n; i < 10n; i++) lines.push(`pa,host=h${i % 3n} v=${i}i ${T0 + i * 1000n}`);
  lines.push(`pb v=1.5 ${T0 + 86400n * 1000000000n}`); // the next day: its own file
  await srv.write('sysf', lines.join('\n'), NS);
  await srv.write('other', `zz v=1i ${T0}`, NS);
  assert.deepEqual(await srv.query('sysf', 'SELECT * FROM system.parquet_files'), [], 'nothing persisted yet');

  await persistAndRestart(srv);
  const objs = await listParquet(srv);
  const files = await srv.query('sysf', 'SELECT * FROM system.parquet_files');
  assert.equal(files.length, 2, JSON.stringify(files));
  const sizeOf = new Map(objs.map((o) => [o.key, o.size]));
  for (const f of files) {
    assert.ok(sizeOf.has(f.path), `${f.path} is not in the object store: ${[...sizeOf.keys()]}`);
    assert.equal(f.size_bytes, sizeOf.get(f.path), f.path);
    assert.match(f.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(f.to_delete_at, undefined, 'a live file has no deletion mark');
  }
  const [pa, pb] = files;
  assert.equal(pa.table_name, 'pa');
  assert.equal(pa.row_count, 10);
  // int64 nanoseconds beyond 2^53: read them exactly from the JSON text
  const raw = (await srv.queryRaw('sysf', "SELECT min_time, max_time FROM system.parquet_files WHERE table_name = 'pa'")).text;
  assert.equal(raw, `[{"min_time":${T0},"max_time":${T0 + 9000n}}]`);
  assert.equal(pb.table_name, 'pb');
  assert.equal(pb.row_count, 1);
  assert.ok(!files.some((f) => f.path.includes('zz')), 'another database\'s file is listed');
  assert.equal((await srv.query('other', 'SELECT * FROM system.parquet_files')).length, 1);
  assert.equal(objs.length, 3);

  // an ordinary table to SQL: filters, aggregates, ordering, expressions over times
  assert.deepEqual(
    await srv.query('sysf', 'SELECT table_name, sum(row_count) AS rows_, count(*) AS files FROM system.parquet_files GROUP BY table_name ORDER BY rows_ DESC'),
    [{ table_name: 'pa', rows_: 10, files: 1 }, { table_name: 'pb', rows_: 1, files: 1 }],
  );
  assert.deepEqual(
    await srv.query('sysf', `SELECT table_name FROM system.parquet_files WHERE min_time > ${T0} AND to_delete_at IS NULL`),
    [{ table_name: 'pb' }],
  );
  assert.deepEqual(
    await srv.query('sysf', "SELECT table_name FROM system.parquet_files WHERE created_at <= now() AND path LIKE '%.parquet' ORDER BY size_bytes LIMIT 1 OFFSET 1"),
    [{ table_name: [pa, pb].sort((x, y) => x.size_bytes - y.size_bytes)[1].table_name }],
  );
  // the rows really are there
  assert.deepEqual(await srv.query('sysf', 'SELECT count(*) FROM pa'), [{ 'count(*)': 10 }]);
  assert.equal(nsToTime(T0), (await srv.query('sysf', 'SELECT min(time) AS t FROM pa'))[0].t);
});

test('unknown system tables and schemas answer 400 naming them', async (t) => {
  const srv = await startServer({ t });
  await srv.write('sys3', 'm v=1i 1', NS);
  for (const [sql, re] of [
    ['SELECT * FROM system.queries', /'system\.queries' not found/],
    ['SELECT * FROM information_schema.views', /'information_schema\.views' not found/],
    ['SELECT * FROM nope.m', /'nope\.m' not found/],
    ['SHOW COLUMNS FROM system.nope', /'system\.nope' not found/],
    ['SELECT nope FROM system.parquet_files', /nope/],
    ['SELECT * FROM system.', /line 1, column 22/],
  ]) {
    const r = await srv.queryRaw('sys3', sql);
    assert.equal(r.status, 400, `${sql}: ${r.text}`);
    assert.match(r.json().error, re, sql);
  }
  assert.deepEqual(await srv.query('sys3', 'SELECT v FROM iox.m'), [{ v: 1 }]);
  assert.deepEqual(await srv.query('sys3', 'SELECT v FROM public.iox.m'), [{ v: 1 }]);
  assert.deepEqual(await srv.query('sys3', "SELECT table_name FROM public.information_schema.tables WHERE table_schema = 'iox'"), [{ table_name: 'm' }]);
  const other = await srv.queryRaw('sys3', 'SELECT v FROM other.iox.m');
  assert.equal(other.status, 400, other.text);
  assert.match(other.json().error, /'other\.iox\.m' not found/);
});
