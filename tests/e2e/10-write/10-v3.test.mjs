// SPDX-License-Identifier: MIT
//
// POST /api/v3/write_lp: writes through the real curl binary, partial writes with line
// numbers and columns, accept_partial=false, type conflicts, precisions, default
// timestamps, no_sync, database names, CRLF bodies. Every accepted write is proven by a
// query right after the 204.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, curl } from '../lib/server.mjs';
import { nowNs, timeToNs, sortRows } from '../lib/util.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

test('curl --data-binary @file to /api/v3/write_lp answers 204 and the rows are queryable', async () => {
  const file = path.join(srv.dataDir, 'in.lp');
  fs.writeFileSync(file, 'cpu,host=a usage=1.5 1700000000000000000\ncpu,host=b usage=2.5 1700000001000000000\n');
  const r = await curl(['-X', 'POST', '--data-binary', `@${file}`, `${srv.url}/api/v3/write_lp?db=curl3`]);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.body, '');
  assert.ok(r.headers['x-influxdb-version']);
  const rows = await srv.query('curl3', 'SELECT host, usage, time FROM cpu ORDER BY time');
  assert.deepEqual(rows, [
    { host: 'a', usage: 1.5, time: '2023-11-14T22:13:20' },
    { host: 'b', usage: 2.5, time: '2023-11-14T22:13:21' },
  ]);
});

test('curl from stdin with precision=s', async () => {
  const r = await curl(['-X', 'POST', '--data-binary', '@-', `${srv.url}/api/v3/write_lp?db=curl3s&precision=s`], {
    input: 'mem,host=a used=10i 1700000000\n',
  });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await srv.query('curl3s', 'SELECT * FROM mem'), [{ host: 'a', time: '2023-11-14T22:13:20', used: 10 }]);
});

test('a partial write answers 400 listing each rejected line with number, column and text; the valid lines are written', async () => {
  const body = [
    'pw,t=a v=1 1000000000', // 1 ok
    'pw,t=b v=abc 2000000000', // 2 bad value at column 10
    '# a comment counts as a line', // 3
    '', // 4 blank
    'pw,t=c v=3 3000000000', // 5 ok
    'pw,t=d', // 6 missing fields, column 7
    'pw,t=e v=5 notatime', // 7 bad timestamp, column 12
  ].join('\n');
  const r = await curl(['-X', 'POST', '--data-binary', '@-', `${srv.url}/api/v3/write_lp?db=partial3`], { input: body });
  assert.equal(r.status, 400, r.text);
  const j = JSON.parse(r.body);
  assert.equal(j.error, 'partial write of line protocol occurred');
  assert.deepEqual(
    j.data.map((d) => [d.line_number, d.column, d.original_line]),
    [
      [2, 10, 'pw,t=b v=abc 2000000000'],
      [6, 7, 'pw,t=d'],
      [7, 12, 'pw,t=e v=5 notatime'],
    ],
  );
  for (const d of j.data) assert.ok(typeof d.error_message === 'string' && d.error_message.length > 0);
  assert.match(j.data[0].error_message, /"v"/);
  assert.match(j.data[2].error_message, /timestamp/);
  const rows = await srv.query('partial3', 'SELECT t, v FROM pw ORDER BY time');
  assert.deepEqual(rows, [
    { t: 'a', v: 1 },
    { t: 'c', v: 3 },
  ]);
});

test('a write whose every line is rejected answers 400 "parsing failed for write_lp endpoint" and writes nothing', async () => {
  await srv.write('allbad3', 'keep v=1 1');
  const r = await srv.writeLp('allbad3', 'keep v= 2\nkeep\n');
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.error, 'parsing failed for write_lp endpoint');
  assert.deepEqual(
    j.data.map((d) => [d.line_number, d.column]),
    [
      [1, 8],
      [2, 5],
    ],
  );
  assert.deepEqual(await srv.query('allbad3', 'SELECT count(*) FROM keep'), [{ 'count(*)': 1 }]);
});

test('accept_partial=false: one bad line and nothing of the request is written', async () => {
  await srv.write('strict3', 'sp,t=x v=0 1');
  const r = await srv.writeLp('strict3', 'sp,t=a v=1 1000\nsp,t=b v=oops 2000\nsp,t=c v=3 3000\n', {
    params: { accept_partial: 'false' },
  });
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.error, 'parsing failed for write_lp endpoint');
  assert.deepEqual(
    j.data.map((d) => d.line_number),
    [2],
  );
  assert.deepEqual(await srv.query('strict3', 'SELECT t FROM sp'), [{ t: 'x' }]);
  // and the same body with accept_partial=true keeps lines 1 and 3
  const r2 = await srv.writeLp('strict3', 'sp,t=a v=1 1000\nsp,t=b v=oops 2000\nsp,t=c v=3 3000\n', {
    params: { accept_partial: 'true' },
  });
  assert.equal(r2.status, 400, r2.text);
  assert.equal(r2.json().error, 'partial write of line protocol occurred');
  const rows = await srv.query('strict3', 'SELECT t FROM sp ORDER BY time');
  assert.deepEqual(rows, [{ t: 'x' }, { t: 'a' }, { t: 'c' }]);
});

test('accept_partial=false with only valid lines writes them all', async () => {
  await srv.write('strict3ok', 'a v=1 1\na v=2 2', { params: { accept_partial: 'false' } });
  assert.deepEqual(await srv.query('strict3ok', 'SELECT count(*) FROM a'), [{ 'count(*)': 2 }]);
});

test('a request rejected as a whole leaves no trace: schema answers are the same before and after a restart', async () => {
  // accept_partial=false rejects the whole request: the new table, its column and the
  // column's type must not be created by it
  let r = await srv.writeLp('notrace', 'ghost f=1i 1\nbroken\n', { params: { accept_partial: 'false' } });
  assert.equal(r.status, 400, r.text);
  await srv.write('notrace', 'real v=1 1');
  const names = (rows) => rows.filter((x) => x.table_schema === 'iox').map((x) => x.table_name);
  assert.deepEqual(names(await srv.query('notrace', 'SHOW TABLES')), ['real'], 'the rejected request created a table');
  // a float for `f` must be accepted: no row ever gave `f` a type
  const floatBefore = await srv.writeLp('notrace', 'ghost f=1.5 2');
  assert.equal(floatBefore.status, 204, `a field type was fixed by a rejected request: ${floatBefore.text}`);
  const tablesBefore = await srv.query('notrace', 'SHOW TABLES');

  await srv.restart();
  const tablesAfter = await srv.query('notrace', 'SHOW TABLES');
  assert.deepEqual(tablesAfter, tablesBefore, 'SHOW TABLES changed across a restart');
  assert.deepEqual(names(tablesAfter), ['ghost', 'real']);
});

test('a write that stores nothing (empty body, every line rejected) leaves the database as a restart finds it', async () => {
  const r1 = await srv.writeLp('phantom1', '');
  assert.equal(r1.status, 204, r1.text);
  const r2 = await srv.writeLp('phantom2', 'not line protocol\n');
  assert.equal(r2.status, 400, r2.text);
  const before = [(await srv.queryRaw('phantom1', 'SHOW TABLES')).status, (await srv.queryRaw('phantom2', 'SHOW TABLES')).status];
  await srv.restart();
  const after = [(await srv.queryRaw('phantom1', 'SHOW TABLES')).status, (await srv.queryRaw('phantom2', 'SHOW TABLES')).status];
  // nothing reached the WAL, so nothing may exist before the restart that is gone after it
  assert.deepEqual(before, after, 'a database exists until the next restart, created by a write that stored nothing');
});

test('a line rejected for a type conflict adds no column: SHOW COLUMNS is the same before and after a restart', async () => {
  await srv.write('notrace2', 'tc f=1.5 1');
  // the tag `newtag` comes with a conflicting field: the line is rejected as a whole
  const r = await srv.writeLp('notrace2', 'tc,newtag=a f=1i 2');
  assert.equal(r.status, 400, r.text);
  const colsBefore = (await srv.query('notrace2', 'SHOW COLUMNS FROM tc')).map((c) => c.column_name);
  await srv.restart();
  const colsAfter = (await srv.query('notrace2', 'SHOW COLUMNS FROM tc')).map((c) => c.column_name);
  assert.deepEqual(colsBefore, colsAfter, 'SHOW COLUMNS changed across a restart');
  assert.deepEqual(colsAfter, ['f', 'time']);
});

test('a field whose type differs from the table\'s is a rejected line; the other lines are kept', async () => {
  await srv.write('types3', 'tt f=1.5 1000');
  const r = await srv.writeLp('types3', 'tt f=2i 2000\ntt f=2.5 3000\ntt f="s" 4000\ntt f=true 5000\ntt f=7u 6000\n');
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.equal(j.error, 'partial write of line protocol occurred');
  assert.deepEqual(
    j.data.map((d) => [d.line_number, d.column]),
    [
      [1, 4],
      [3, 4],
      [4, 4],
      [5, 4],
    ],
  );
  for (const d of j.data) assert.match(d.error_message, /float/);
  assert.deepEqual(await srv.query('types3', 'SELECT f FROM tt ORDER BY time'), [{ f: 1.5 }, { f: 2.5 }]);
});

test('the first line of a request fixes a new field\'s type for the lines after it', async () => {
  const r = await srv.writeLp('types3b', 'nt g=1i 1000\nnt g="text" 2000\nnt g=3i 3000\n');
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(
    r.json().data.map((d) => d.line_number),
    [2],
  );
  assert.deepEqual(await srv.query('types3b', 'SELECT g FROM nt ORDER BY time'), [{ g: 1 }, { g: 3 }]);
});

test('a tag key used as a field (and the reverse) is a rejected line', async () => {
  await srv.write('kinds3', 'k,host=a v=1 1');
  const r = await srv.writeLp('kinds3', 'k host="b" 2\nk,v=x w=1 3\nk,host=c v=3 4\n');
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(
    r.json().data.map((d) => d.line_number),
    [1, 2],
  );
  assert.deepEqual(await srv.query('kinds3', 'SELECT host, v FROM k ORDER BY time'), [
    { host: 'a', v: 1 },
    { host: 'c', v: 3 },
  ]);
});

test('precision=auto (the default) picks s, ms, us or ns from the magnitude', async () => {
  await srv.write(
    'auto3',
    [
      'p,u=s v=1 1700000000',
      'p,u=ms v=1 1700000000123',
      'p,u=us v=1 1700000000123456',
      'p,u=ns v=1 1700000000123456789',
    ].join('\n'),
  );
  const rows = await srv.query('auto3', 'SELECT u, time FROM p ORDER BY time');
  assert.deepEqual(rows, [
    { u: 's', time: '2023-11-14T22:13:20' },
    { u: 'ms', time: '2023-11-14T22:13:20.123' },
    { u: 'us', time: '2023-11-14T22:13:20.123456' },
    { u: 'ns', time: '2023-11-14T22:13:20.123456789' },
  ]);
  // precision=auto said explicitly is the same
  await srv.write('auto3b', 'p v=1 1700000000123', { params: { precision: 'auto' } });
  assert.deepEqual(await srv.query('auto3b', 'SELECT time FROM p'), [{ time: '2023-11-14T22:13:20.123' }]);
});

test('explicit v3 precisions s, ms, us, ns scale the timestamp', async () => {
  for (const [prec, time] of [
    ['s', '1970-01-01T00:00:05'],
    ['ms', '1970-01-01T00:00:00.005'],
    ['us', '1970-01-01T00:00:00.000005'],
    ['ns', '1970-01-01T00:00:00.000000005'],
  ]) {
    await srv.write(`prec3${prec}`, 'p v=1 5', { params: { precision: prec } });
    assert.deepEqual(await srv.query(`prec3${prec}`, 'SELECT time FROM p'), [{ time }], prec);
  }
});

test('an unknown precision answers 400 and writes nothing', async () => {
  const r = await srv.writeLp('badprec3', 'p v=1 5', { params: { precision: 'fortnight' } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /precision/);
  assert.equal((await srv.queryRaw('badprec3', 'SELECT * FROM p')).status, 404);
});

test('a line without a timestamp gets the server time of the request', async () => {
  const before = nowNs();
  await srv.write('notime3', 'nt,k=a v=1\nnt,k=b v=2  \n');
  const after = nowNs() + 1000000n;
  const rows = await srv.query('notime3', 'SELECT k, time FROM nt ORDER BY time');
  assert.equal(rows.length, 2);
  for (const r of rows) {
    const t = timeToNs(r.time);
    assert.ok(t >= before && t <= after, `time ${r.time} not within [${before}, ${after}]`);
  }
  // the lines of one request share one time
  assert.equal(rows[0].time, rows[1].time);
});

test('no_sync=true answers 204 and the rows are queryable right after it', async () => {
  // read-your-writes holds for no_sync too: the answer may come before the fsync, not
  // before the rows are in the buffer (checked after each of 20 writes)
  const missing = [];
  for (let i = 0; i < 20; i++) {
    await srv.write('nosync3', `ns v=${i} ${i + 1}`, { params: { no_sync: 'true' } });
    const [{ 'count(*)': n }] = await srv.query('nosync3', 'SELECT count(*) FROM ns');
    if (n !== i + 1) missing.push(`after write ${i + 1}: count(*) = ${n}`);
  }
  assert.deepEqual(missing, [], 'rows of an acknowledged no_sync write were not queryable');
  const rows = await srv.query('nosync3', 'SELECT v FROM ns ORDER BY time');
  assert.deepEqual(
    rows.map((r) => r.v),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('invalid boolean parameters answer 400', async () => {
  for (const params of [{ no_sync: 'maybe' }, { accept_partial: 'perhaps' }]) {
    const r = await srv.writeLp('boolparam3', 'b v=1 1', { params });
    assert.equal(r.status, 400, JSON.stringify(params));
  }
  assert.equal((await srv.queryRaw('boolparam3', 'SELECT * FROM b')).status, 404);
});

test('a missing or empty db answers 400', async () => {
  for (const p of ['/api/v3/write_lp', '/api/v3/write_lp?db=', '/api/v3/write_lp?bucket=x']) {
    const r = await srv.request('POST', p, { body: 'm v=1 1' });
    assert.equal(r.status, 400, p);
    assert.match(r.json().error, /db/, p);
  }
});

test('database names: letters, digits, _ and - up to 64 bytes are accepted; others answer 400', async () => {
  const good = ['a', 'Z9', 'my_db-1', '9lives', 'x'.repeat(64)];
  for (const db of good) {
    await srv.write(db, 'm v=1 1');
    assert.deepEqual(await srv.query(db, 'SELECT v FROM m'), [{ v: 1 }], db);
  }
  const bad = ['_x', '-x', 'a.b', 'a b', 'a/b', 'x'.repeat(65), 'ünï', 'a;b', "a'b"];
  for (const db of bad) {
    const r = await srv.writeLp(db, 'm v=1 1');
    assert.equal(r.status, 400, db);
    assert.match(r.json().error, /database name/, db);
    const q = await srv.queryRaw(db, 'SHOW TABLES');
    assert.equal(q.status, 404, `invalid database ${db} exists`);
  }
});

test('a CRLF body: lines end at CRLF and no value keeps the CR', async () => {
  const r = await srv.writeLp('crlf3', 'c,t=a s="x",v=1 1\r\nc,t=b s="y",v=2 2\r\nc,t=c v=\r\n');
  assert.equal(r.status, 400, r.text);
  const j = r.json();
  assert.deepEqual(
    j.data.map((d) => [d.line_number, d.column, d.original_line]),
    [[3, 9, 'c,t=c v=']],
  );
  assert.deepEqual(await srv.query('crlf3', 'SELECT t, s, v FROM c ORDER BY time'), [
    { t: 'a', s: 'x', v: 1 },
    { t: 'b', s: 'y', v: 2 },
  ]);
  // the last field value of a CRLF line without a timestamp does not keep the CR either
  await srv.write('crlf3b', 'c v=1i,w=2i\r\nc,t=z v=3i\r\nc,t=y s="q"\r\n');
  const rows = sortRows(await srv.query('crlf3b', 'SELECT t, v, w, s FROM c'), 't');
  assert.deepEqual(rows, [{ v: 1, w: 2 }, { t: 'y', s: 'q' }, { t: 'z', v: 3 }]);
});
