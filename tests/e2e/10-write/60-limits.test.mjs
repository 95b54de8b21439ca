// SPDX-License-Identifier: MIT
//
// Configured limits, end to end: --max-columns-per-table and --max-tables-per-database make
// rejected lines (the rest of the request is kept), --max-databases refuses new databases,
// --max-query-result-size answers 413 to a query whose answer is too large.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({
    args: ['--max-columns-per-table', '4', '--max-tables-per-database', '2', '--max-databases', '3', '--max-query-result-size', '1024'],
  });
});
after(() => srv.cleanup());

test('--max-columns-per-table: a line adding a column past the limit is rejected, the others are kept', async () => {
  const r = await srv.writeLp('lim1', 'c,a=1,b=2 x=1,y=2 1\nc,a=1 z=1,w=2 2\nc,b=3 y=5 3');
  assert.equal(r.status, 400, r.text);
  const d = r.json().data;
  assert.deepEqual(
    d.map((x) => [x.line_number, x.column]),
    [[2, 7]],
  );
  assert.match(d[0].error_message, /limit of 4 columns/);
  assert.deepEqual(await srv.query('lim1', 'SELECT a, b, y FROM c ORDER BY time'), [
    { a: '1', b: '2', y: 2 },
    { b: '3', y: 5 },
  ]);
});

test('--max-tables-per-database: a line creating a table past the limit is rejected, the others are kept', async () => {
  const r = await srv.writeLp('lim1', 't2 v=1 1\nt3 v=1 1\nc,a=9 x=9 9');
  assert.equal(r.status, 400, r.text);
  const d = r.json().data;
  assert.deepEqual(
    d.map((x) => [x.line_number, x.column]),
    [[2, 1]],
  );
  assert.match(d[0].error_message, /limit of 2 tables/);
  const tables = (await srv.query('lim1', 'SHOW TABLES')).filter((t) => t.table_schema === 'iox').map((t) => t.table_name);
  assert.deepEqual(tables, ['c', 't2']);
  assert.deepEqual(await srv.query('lim1', "SELECT x FROM c WHERE a = '9'"), [{ x: 9 }]);
});

test('--max-databases: a write to one database too many answers 400 and creates nothing', async () => {
  await srv.write('lim2', 'x v=1 1');
  await srv.write('lim3', 'x v=1 1');
  const r = await srv.writeLp('lim4', 'x v=1 1');
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /limit of 3 databases/);
  assert.equal((await srv.queryRaw('lim4', 'SHOW TABLES')).status, 404);
  // the existing databases still take writes
  await srv.write('lim3', 'x v=2 2');
  assert.deepEqual(await srv.query('lim3', 'SELECT count(*) FROM x'), [{ 'count(*)': 2 }]);
});

test('--max-query-result-size: a larger answer is 413, a smaller one 200', async () => {
  await srv.write('lim2', Array.from({ length: 100 }, (_, i) => `big v=${i}i ${i + 10}`).join('\n'));
  const r = await srv.queryRaw('lim2', 'SELECT * FROM big');
  assert.equal(r.status, 413, r.text);
  assert.match(r.json().error, /1024/);
  assert.ok(r.headers['x-influxdb-version']);
  const ok = await srv.queryRaw('lim2', 'SELECT v FROM big ORDER BY time LIMIT 3');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.text, '[{"v":0},{"v":1},{"v":2}]');
  assert.deepEqual(await srv.query('lim2', 'SELECT count(*) FROM big'), [{ 'count(*)': 100 }]);
});
