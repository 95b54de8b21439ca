// SPDX-License-Identifier: MIT
//
// Query errors: 404 for an unknown database, 400 with "line L, column C" for SQL that does
// not parse, 400 for unknown tables and columns and for type mismatches, 400 for missing
// parameters; the server keeps answering afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { DB, loadData } from './data.mjs';

let srv;
before(async () => {
  srv = await startServer();
  await loadData(srv);
});
after(() => srv.cleanup());

test('an unknown database answers 404 with a JSON error naming it', async () => {
  for (const method of ['GET', 'POST']) {
    for (const sql of ['SELECT * FROM weather', 'SHOW TABLES']) {
      const r = await srv.queryRaw('nosuchdb', sql, { method });
      assert.equal(r.status, 404, `${method} ${sql}`);
      assert.match(r.json().error, /nosuchdb/);
    }
  }
});

test('SQL that does not parse answers 400 with the line and column of the error', async () => {
  const cases = [
    ['SELECT * FRM weather', 1, 10],
    ['SELEC * FROM weather', 1, 1],
    ['SELECT * FROM weather WHERE temp >', 1, 35],
    ["SELECT * FROM weather WHERE city = 'Paris' AND", 1, 47],
    ['SELECT * FROM weather ORDER BY time SIDEWAYS', 1, 37],
    ['SELECT * FROM weather LIMIT x', 1, 29],
    ['SELECT *\nFROM weather\nWHERE temp >', 3, 13],
    ["SELECT * FROM weather WHERE city = 'unterminated", 1, 36],
  ];
  for (const [sql, line, col] of cases) {
    const r = await srv.queryRaw(DB, sql);
    assert.equal(r.status, 400, sql);
    assert.match(r.json().error, new RegExp(`line ${line}, column ${col}\\b`), `${JSON.stringify(sql)}: ${r.text}`);
  }
});

test('an unknown table answers 400 naming it', async () => {
  const r = await srv.queryRaw(DB, 'SELECT * FROM nope');
  assert.equal(r.status, 400, r.text);
  assert.match(r.json().error, /'nope'/);
  const c = await srv.queryRaw(DB, 'SELECT count(*) FROM nope');
  assert.equal(c.status, 400, c.text);
});

test('an unknown column answers 400 naming it, in the select list and in WHERE', async () => {
  for (const sql of ['SELECT nope FROM weather', "SELECT city FROM weather WHERE nope = 'x'", 'SELECT city, nope AS n FROM weather']) {
    const r = await srv.queryRaw(DB, sql);
    assert.equal(r.status, 400, sql);
    assert.match(r.json().error, /nope/, sql);
  }
});

test('comparing a column with a literal of another type answers 400', async () => {
  for (const sql of ["SELECT * FROM weather WHERE temp = 'x'", "SELECT * FROM weather WHERE ok = 'yes'", 'SELECT * FROM weather WHERE city = 3', "SELECT * FROM weather WHERE time > 'not a time'"]) {
    const r = await srv.queryRaw(DB, sql);
    assert.equal(r.status, 400, sql);
  }
});

test('missing db or q answers 400', async () => {
  const noDb = await srv.request('GET', `/api/v3/query_sql?q=${encodeURIComponent('SHOW TABLES')}`);
  assert.equal(noDb.status, 400, noDb.text);
  assert.match(noDb.json().error, /db/);
  const noQ = await srv.request('GET', `/api/v3/query_sql?db=${DB}`);
  assert.equal(noQ.status, 400, noQ.text);
  assert.match(noQ.json().error, /q/);
  const emptyPost = await srv.request('POST', '/api/v3/query_sql', { body: '{}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(emptyPost.status, 400, emptyPost.text);
});

test('the server answers correctly after a run of errors', async () => {
  for (let i = 0; i < 20; i++) await srv.queryRaw(DB, `SELECT ${'('.repeat(i)} FROM`);
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM weather'), [{ 'count(*)': 5 }]);
});

test('deeply nested parentheses are an error, not a crash', async () => {
  const sql = `SELECT * FROM weather WHERE ${'('.repeat(5000)}temp > 1${')'.repeat(5000)}`;
  const r = await srv.queryRaw(DB, sql, { method: 'POST' });
  assert.ok(r.status === 400 || r.status === 413, `HTTP ${r.status}`);
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM weather'), [{ 'count(*)': 5 }]);
});
