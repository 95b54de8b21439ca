// SPDX-License-Identifier: MIT
//
// WHERE: every comparison operator on tags, on each field type and on time (RFC 3339 text
// and integer nanoseconds), NULL semantics, AND / OR / NOT with parentheses and precedence.
// Row ids (data.mjs): P1 B T P2 O in time order.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { DB, loadData, ids } from './data.mjs';

let srv;
before(async () => {
  srv = await startServer();
  await loadData(srv);
});
after(() => srv.cleanup());

async function check(cases) {
  for (const [where, expected] of cases) assert.deepEqual(await ids(srv, where), expected, `WHERE ${where}`);
}

test('tag comparisons: = != <> < <= > >= (byte order)', async () => {
  await check([
    ["city = 'Paris'", ['P1', 'P2']],
    ["city != 'Paris'", ['B', 'T', 'O']],
    ["city <> 'Paris'", ['B', 'T', 'O']],
    ["city < 'Oslo'", ['B']],
    ["city <= 'Oslo'", ['B', 'O']],
    ["city > 'Paris'", ['T']],
    ["city >= 'Paris'", ['P1', 'T', 'P2']],
    ["city = 'paris'", []],
    ["city = 'Nowhere'", []],
  ]);
});

test('a missing tag is NULL: it matches neither = nor !=, only IS NULL', async () => {
  await check([
    ["country = 'FR'", ['P1', 'P2']],
    ["country != 'FR'", ['B', 'T']],
    ['country IS NULL', ['O']],
    ['country IS NOT NULL', ['P1', 'B', 'T', 'P2']],
  ]);
});

test('float field comparisons, with float and integer literals', async () => {
  await check([
    ['temp = 12.5', ['P1']],
    ['temp != 12.5', ['B', 'T', 'P2', 'O']],
    ['temp < 0', ['B']],
    ['temp <= 0.5', ['B', 'O']],
    ['temp > 13.5', ['T']],
    ['temp >= 13.5', ['T', 'P2']],
    ['temp > 12', ['P1', 'T', 'P2']],
    ['temp = -3.25', ['B']],
    ['temp < -3.25', []],
  ]);
});

test('integer field comparisons, with integer and float literals', async () => {
  await check([
    ['hum = 80', ['P1']],
    ['hum <> 80', ['B', 'T', 'P2']],
    ['hum < 75', ['T']],
    ['hum <= 75', ['T', 'P2']],
    ['hum > 80', ['B']],
    ['hum >= 80', ['P1', 'B']],
    ['hum > 79.5', ['P1', 'B']],
    ['hum = 80.0', ['P1']],
    ['hum IS NULL', ['O']],
  ]);
});

test('unsigned field comparisons', async () => {
  await check([
    ['pressure = 1013', ['O']],
    ['pressure > 1000', ['O']],
    ['pressure >= 1013', ['O']],
    ['pressure < 1013', []],
    ['pressure != 1013', []],
    ['pressure IS NOT NULL', ['O']],
  ]);
});

test('boolean field comparisons', async () => {
  await check([
    ['ok = true', ['P1', 'P2']],
    ['ok = false', ['B']],
    ['ok != true', ['B']],
    ['ok IS NULL', ['T', 'O']],
  ]);
});

test('string field comparisons', async () => {
  await check([
    ["note = 'sunny'", ['T']],
    ["note != 'sunny'", ['P1']],
    ["note > 'n'", ['T']],
    ["note <= 'n'", ['P1']],
    ['note = \'mild, "dry"\'', ['P1']],
    ['note IS NULL', ['B', 'P2', 'O']],
  ]);
});

test('time compared with RFC 3339 text', async () => {
  await check([
    ["time = '2023-11-14T22:14:20Z'", ['B']],
    ["time != '2023-11-14T22:14:20Z'", ['P1', 'T', 'P2', 'O']],
    ["time < '2023-11-14T22:14:20Z'", ['P1']],
    ["time <= '2023-11-14T22:14:20Z'", ['P1', 'B']],
    ["time > '2023-11-14T22:15:20Z'", ['P2', 'O']],
    ["time >= '2023-11-14T22:15:20Z'", ['T', 'P2', 'O']],
    ["time > '2023-11-14T22:17:20.4Z'", ['O']],
    ["time = '2023-11-14T22:17:20.500Z'", ['O']],
    ["time = '2023-11-14T23:14:20+01:00'", ['B']],
    ["time > '2030-01-01T00:00:00Z'", []],
  ]);
});

test('time compared with integer nanoseconds', async () => {
  await check([
    ['time = 1700000060000000000', ['B']],
    ['time != 1700000060000000000', ['P1', 'T', 'P2', 'O']],
    ['time < 1700000060000000000', ['P1']],
    ['time <= 1700000060000000000', ['P1', 'B']],
    ['time > 1700000180000000000', ['O']],
    ['time >= 1700000180000000000', ['P2', 'O']],
    ['time = 1700000240500000000', ['O']],
    ['time > 1700000240500000001', []],
  ]);
});

test('a time range selects the rows inside it', async () => {
  await check([
    ["time >= '2023-11-14T22:14:00Z' AND time < '2023-11-14T22:16:30Z'", ['B', 'T', 'P2']],
    ['time >= 1700000060000000000 AND time <= 1700000120000000000', ['B', 'T']],
    ["time > '2023-11-14T22:16:20Z' AND time < '2023-11-14T22:14:20Z'", []],
  ]);
});

test('AND, OR, NOT, parentheses and precedence (AND binds tighter than OR)', async () => {
  await check([
    ["city = 'Paris' AND temp > 13", ['P2']],
    ["city = 'Berlin' OR city = 'Tokyo'", ['B', 'T']],
    ["(city = 'Paris' OR city = 'Oslo') AND temp < 13", ['P1', 'O']],
    ["city = 'Paris' OR city = 'Oslo' AND temp < 13", ['P1', 'P2', 'O']],
    ["city = 'Oslo' AND temp < 13 OR city = 'Paris'", ['P1', 'P2', 'O']],
    ["NOT (city = 'Paris')", ['B', 'T', 'O']],
    ["NOT city = 'Paris' AND hum > 70", ['B']],
    ['NOT (temp < 1)', ['P1', 'T', 'P2']],
    ["NOT (city = 'Paris' OR temp < 0)", ['T', 'O']],
    ["((city = 'Paris') AND ((hum >= 80) OR (ok = false)))", ['P1']],
    ["city = 'Paris' AND city = 'Tokyo'", []],
    ["temp > 0 AND hum > 0 AND ok = true AND country = 'FR'", ['P1', 'P2']],
  ]);
});

test('NOT keeps SQL three-valued logic: NOT (hum > 70) does not select rows without hum', async () => {
  await check([
    ['NOT (hum > 70)', ['T']],
    ['NOT (ok = true)', ['B']],
  ]);
});

test('WHERE on a column that is not selected, and WHERE with count(*)', async () => {
  const rows = await srv.query(DB, "SELECT temp FROM weather WHERE country = 'FR' ORDER BY time");
  assert.deepEqual(rows, [{ temp: 12.5 }, { temp: 13.5 }]);
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM weather WHERE hum > 70'), [{ 'count(*)': 3 }]);
});
