// SPDX-License-Identifier: MIT
//
// Line protocol values end to end: the five field types (float, integer i, unsigned u,
// string, boolean in every spelling) with their limits, invalid values as rejected lines,
// and the escaping round trip (spaces, commas, equals signs in names and tags, quotes and
// backslashes in strings, Unicode) back out of a query.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sortRows } from '../lib/util.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

test('floats: plain, negative, exponent forms and the largest double', async () => {
  const vals = ['1.5', '-0.25', '1e3', '2.5E-3', '0', '42', '-7.125e+2', '1.7976931348623157e308', '5e-324'];
  await srv.write('vfloat', vals.map((v, i) => `f v=${v} ${i + 1}`).join('\n'));
  const rows = await srv.query('vfloat', 'SELECT v FROM f ORDER BY time');
  assert.deepEqual(
    rows.map((r) => r.v),
    vals.map(Number),
  );
});

test('integers (suffix i) keep all 64 bits', async () => {
  await srv.write('vint', 'i v=0i 1\ni v=-1i 2\ni v=9223372036854775807i 3\ni v=-9223372036854775808i 4\ni v=123456789012345678i 5');
  const r = await srv.queryRaw('vint', 'SELECT v FROM i ORDER BY time');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '[{"v":0},{"v":-1},{"v":9223372036854775807},{"v":-9223372036854775808},{"v":123456789012345678}]');
});

test('unsigned integers (suffix u) keep all 64 bits', async () => {
  await srv.write('vuint', 'u v=0u 1\nu v=18446744073709551615u 2\nu v=9223372036854775808u 3');
  const r = await srv.queryRaw('vuint', 'SELECT v FROM u ORDER BY time');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '[{"v":0},{"v":18446744073709551615},{"v":9223372036854775808}]');
});

test('booleans in every spelling', async () => {
  const t = ['t', 'T', 'true', 'True', 'TRUE'];
  const f = ['f', 'F', 'false', 'False', 'FALSE'];
  const lines = [...t, ...f].map((v, i) => `b,s=${v} v=${v} ${i + 1}`);
  await srv.write('vbool', lines.join('\n'));
  const rows = await srv.query('vbool', 'SELECT s, v FROM b ORDER BY time');
  assert.deepEqual(rows, [...t.map((s) => ({ s, v: true })), ...f.map((s) => ({ s, v: false }))]);
});

test('strings: empty, quotes, backslashes, separators, tabs and Unicode', async () => {
  const cases = [
    ['""', ''],
    ['"say \\"hi\\""', 'say "hi"'],
    ['"back\\\\slash"', 'back\\slash'],
    ['"a\\b"', 'a\\b'],
    ['"comma, space = equals"', 'comma, space = equals'],
    ['"tab\there"', 'tab\there'],
    ['"héllo wörld ✓ 日本語 🚀"', 'héllo wörld ✓ 日本語 🚀'],
    ['"ends with backslash\\\\"', 'ends with backslash\\'],
  ];
  await srv.write('vstr', cases.map(([lp], i) => `s,n=${i} v=${lp} ${i + 1}`).join('\n'));
  const rows = await srv.query('vstr', 'SELECT v FROM s ORDER BY time');
  assert.deepEqual(
    rows.map((r) => r.v),
    cases.map(([, v]) => v),
  );
});

test('every field type in one line, then queried with its type kept', async () => {
  // (precision auto: 1000 is seconds)
  await srv.write('vall', 'all,tag=x f=1.5,i=-2i,u=3u,s="str",b=true 1000');
  const r = await srv.queryRaw('vall', 'SELECT * FROM all');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '[{"b":true,"f":1.5,"i":-2,"s":"str","tag":"x","time":"1970-01-01T00:16:40","u":3}]');
  const cols = await srv.query('vall', 'SHOW COLUMNS FROM all');
  assert.deepEqual(
    cols.map((c) => [c.column_name, c.data_type]),
    [
      ['b', 'Boolean'],
      ['f', 'Float64'],
      ['i', 'Int64'],
      ['s', 'Utf8'],
      ['tag', 'Dictionary(Int32, Utf8)'],
      ['time', 'Timestamp(Nanosecond, None)'],
      ['u', 'UInt64'],
    ],
  );
});

test('invalid values are rejected lines, each with its column', async () => {
  const bad = [
    'x v=9223372036854775808i 1', // integer overflow
    'x v=-9223372036854775809i 1',
    'x v=18446744073709551616u 1', // unsigned overflow
    'x v=-1u 1', // negative unsigned
    'x v=1.5i 1', // fraction on an integer
    'x v=tRUE 1', // not a boolean spelling
    'x v=yes 1',
    "x v='single' 1", // strings take double quotes
    'x v=NaN 1',
    'x v=inf 1',
    'x v=.5 1', // no digit before '.'
    'x v=1. 1', // no digit after '.'
    'x v=+1 1', // leading '+'
    'x v="unterminated 1',
    'x v=1e999 1', // beyond the largest double
  ];
  const body = ['x v=0 1', ...bad].join('\n');
  const r = await srv.writeLp('vbad', body);
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.error, 'partial write of line protocol occurred');
  assert.deepEqual(
    j.data.map((d) => d.line_number),
    bad.map((_, i) => i + 2),
  );
  for (const d of j.data) {
    assert.ok(d.column >= 5 && d.column <= d.original_line.length + 1, `column ${d.column} of ${d.original_line}`);
    assert.equal(d.original_line, bad[d.line_number - 2]);
  }
  assert.deepEqual(await srv.query('vbad', 'SELECT v FROM x'), [{ v: 0 }]);
});

test('escaped measurement, tag keys, tag values and field keys round-trip through a query', async () => {
  await srv.write(
    'vesc',
    [
      'we\\ ird\\,name,ta\\ g\\,k\\=ey=v\\ a\\,l\\=ue fi\\ eld\\=x=1i 1',
      'we\\ ird\\,name,ta\\ g\\,k\\=ey=plain fi\\ eld\\=x=2i 2',
    ].join('\n'),
  );
  const tables = (await srv.query('vesc', 'SHOW TABLES')).filter((t) => t.table_schema === 'iox').map((t) => t.table_name);
  assert.deepEqual(tables, ['we ird,name']);
  const rows = await srv.query('vesc', 'SELECT * FROM "we ird,name" ORDER BY time');
  assert.deepEqual(rows, [
    { 'fi eld=x': 1, 'ta g,k=ey': 'v a,l=ue', time: '1970-01-01T00:00:01' },
    { 'fi eld=x': 2, 'ta g,k=ey': 'plain', time: '1970-01-01T00:00:02' },
  ]);
  // the unescaped tag value is what WHERE compares
  const sel = await srv.query('vesc', `SELECT "fi eld=x" FROM "we ird,name" WHERE "ta g,k=ey" = 'v a,l=ue'`);
  assert.deepEqual(sel, [{ 'fi eld=x': 1 }]);
});

test('backslashes in tags: "\\\\" is one backslash, a backslash before another byte stays, "=" in a tag value is literal', async () => {
  await srv.write('vbs', ['b,t=a\\\\b v=1 1', 'b,t=c\\d v=2 2', 'b,t=e=f v=3 3', 'b,t=g\\=h v=4 4'].join('\n'));
  const rows = await srv.query('vbs', 'SELECT t, v FROM b ORDER BY time');
  assert.deepEqual(rows, [
    { t: 'a\\b', v: 1 },
    { t: 'c\\d', v: 2 },
    { t: 'e=f', v: 3 },
    { t: 'g=h', v: 4 },
  ]);
});

test('Unicode measurement, tag and field names', async () => {
  await srv.write('vuni', 'température,城市=東京,emoji=🚀 値=21.5,ünits="°C" 1700000000000000000');
  const tables = (await srv.query('vuni', 'SHOW TABLES')).filter((t) => t.table_schema === 'iox').map((t) => t.table_name);
  assert.deepEqual(tables, ['température']);
  assert.deepEqual(await srv.query('vuni', 'SELECT * FROM "température"'), [
    { emoji: '🚀', time: '2023-11-14T22:13:20', ünits: '°C', 城市: '東京', 値: 21.5 },
  ]);
  assert.deepEqual(await srv.query('vuni', `SELECT "値" FROM "température" WHERE "城市" = '東京'`), [{ 値: 21.5 }]);
});

test('duplicate keys, a "time" key and empty tag values are rejected lines', async () => {
  const bad = ['d,t=a,t=b v=1 1', 'd v=1,v=2 1', 'd,v=a v=1 1', 'd time=1 1', 'd,time=x v=1 1', 'd,t= v=1 1'];
  const r = await srv.writeLp('vdup', ['d v=9 9', ...bad].join('\n'));
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(
    r.json().data.map((d) => d.line_number),
    [2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(await srv.query('vdup', 'SELECT v FROM d'), [{ v: 9 }]);
});

test('series differ by tag set: same measurement and time with different tags are different rows', async () => {
  await srv.write('vseries', 's,a=1 v=1 5\ns,a=2 v=2 5\ns v=3 5\ns,a=1,b=1 v=4 5');
  const rows = sortRows(await srv.query('vseries', 'SELECT a, b, v FROM s'), 'v');
  assert.deepEqual(rows, [{ a: '1', v: 1 }, { a: '2', v: 2 }, { v: 3 }, { a: '1', b: '1', v: 4 }]);
});

test('the largest and smallest timestamps round-trip; one beyond is a rejected line', async () => {
  const r = await srv.writeLp('vext', 'e,k=max v=1 9223372036854775806\ne,k=min v=2 -9223372036854775806\ne,k=over v=3 9223372036854775807', {
    params: { precision: 'ns' },
  });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(
    r.json().data.map((d) => [d.line_number, d.column]),
    [[3, 14]],
  );
  assert.deepEqual(await srv.query('vext', 'SELECT k, time FROM e ORDER BY time'), [
    { k: 'min', time: '1677-09-21T00:12:43.145224194' },
    { k: 'max', time: '2262-04-11T23:47:16.854775806' },
  ]);
  assert.deepEqual(await srv.query('vext', 'SELECT k FROM e WHERE time > 0'), [{ k: 'max' }]);
});
