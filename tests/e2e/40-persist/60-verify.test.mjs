// SPDX-License-Identifier: MIT
//
// Damaged objects (changed behind silt's back, in the file store or the S3 bucket): `silt
// verify` reports each one by kind (checksum mismatch, missing, size mismatch), exits 1,
// and a query that needs a damaged file answers an error rather than wrong or missing
// rows, while queries that do not touch it (other tables, time ranges pruned away) answer
// correctly. Also a damage done after the server read (and, with S3, cached) the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import { listParquet, objectToFile, overwriteObject, deleteObject, siltVerify, count } from '../lib/storage.mjs';
import { NS } from '../lib/dataset.mjs';
import fs from 'node:fs';

const DAY = 86400000000000n;
const D0 = 1699920000000000000n; // 2023-11-14T00:00:00Z
// one table per UTC day, so that an object's key (its day) tells its table
const TABLES = ['flip', 'gone', 'short', 'intact', 'late'];
const dayOfTable = (k) => new Date(Number((D0 + BigInt(k) * DAY) / 1000000n)).toISOString().slice(0, 10);

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('silt verify reports a flipped byte, a missing and a truncated object; queries on them fail, the others answer exactly', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t });
  for (const [k, table] of TABLES.entries()) {
    const lines = Array.from({ length: 400 }, (_, i) => `${table},h=h${i % 4} v=${i}i,s="${table} ${i}" ${D0 + BigInt(k) * DAY + BigInt(i) * 1000000000n}`);
    await srv.write('vf', lines.join('\n'), NS);
  }
  await srv.stop();
  await srv.restart();
  const objs = await listParquet(srv);
  assert.equal(objs.length, TABLES.length);
  const obj = Object.fromEntries(TABLES.map((tb, k) => [tb, objs.find((o) => o.key.includes(`/${dayOfTable(k)}/`))]));
  const tmp = path.join(srv.root, 'tmp');

  // read the 'late' table once (with S3 the server and its cache now hold a good copy)
  assert.equal(await count(srv, 'vf', 'late'), 400);

  // the damage
  const flip = fs.readFileSync(await objectToFile(srv, obj.flip.key, tmp));
  flip[Math.floor(flip.length / 2)] ^= 0x40;
  await overwriteObject(srv, obj.flip.key, flip, tmp);
  await deleteObject(srv, obj.gone.key);
  const short = fs.readFileSync(await objectToFile(srv, obj.short.key, tmp));
  await overwriteObject(srv, obj.short.key, short.subarray(0, short.length - 10), tmp);
  const late = fs.readFileSync(await objectToFile(srv, obj.late.key, tmp));
  late[100] ^= 0x01;
  await overwriteObject(srv, obj.late.key, late, tmp);

  const v = await siltVerify(srv);
  assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
  const out = v.stdout;
  assert.match(out, new RegExp(`^checksum mismatch: ${esc(obj.flip.key)}: xxh3:[0-9a-f]{16}, catalog says xxh3:[0-9a-f]{16}$`, 'm'));
  assert.match(out, new RegExp(`^missing: ${esc(obj.gone.key)}$`, 'm'));
  assert.match(out, new RegExp(`^size mismatch: ${esc(obj.short.key)}: ${short.length - 10} bytes, catalog says ${short.length}$`, 'm'));
  assert.doesNotMatch(out, new RegExp(esc(obj.intact.key)));

  // queries needing a damaged file fail: an error, never wrong or missing rows
  for (const [table, re] of [['flip', /checksum/], ['gone', /not in the object store/], ['short', /bytes/]]) {
    for (const sql of [`SELECT * FROM ${table}`, `SELECT count(*) FROM ${table}`, `SELECT v FROM ${table} WHERE h = 'h1' ORDER BY time LIMIT 3`]) {
      const r = await srv.queryRaw('vf', sql);
      assert.notEqual(r.status, 200, `${sql} answered 200 from a damaged file: ${r.text.slice(0, 300)}`);
      assert.ok(r.status >= 400, `${sql}: HTTP ${r.status}`);
      assert.match(r.text, re, `${sql}: ${r.text}`);
    }
  }
  // the server with the good copy (S3: its cache) may answer from it, but never wrong rows
  const lr = await srv.queryRaw('vf', 'SELECT count(*) FROM late');
  if (lr.status === 200) assert.deepEqual(JSON.parse(lr.text), [{ 'count(*)': 400 }]);
  else assert.match(lr.text, /checksum/);
  // the intact table, and a time range that prunes the damaged file away, answer exactly
  assert.equal(await count(srv, 'vf', 'intact'), 400);
  assert.deepEqual(await srv.query('vf', "SELECT s FROM intact WHERE h = 'h2' ORDER BY time DESC LIMIT 1"), [{ s: 'intact 398' }]);
  assert.equal(await count(srv, 'vf', 'flip', `time >= ${D0 + DAY}`), 0);
  assert.equal(await count(srv, 'vf', 'gone', `time < ${D0}`), 0);
  // new writes to a damaged table are merged with nothing wrong either
  await srv.write('vf', `intact,h=h0 v=-1i ${D0 + 3n * DAY}`, NS);
  assert.deepEqual(await srv.query('vf', `SELECT v, s FROM intact WHERE time = ${D0 + 3n * DAY}`), [{ v: -1, s: 'intact 0' }]);
  assert.ok(srv.running);

  // last (the rest holds either way): the object damaged after the server had read it is
  // reported too. With S3, `silt verify --data-dir D` must check the bucket, not the copy
  // in D/cache that the server filled.
  assert.match(out, new RegExp(`^checksum mismatch: ${esc(obj.late.key)}: `, 'm'), `the object damaged after the server had read (and cached) it is not reported:\n${out}`);
  assert.match(out, /^5 file\(s\) in the catalog: 1 verified, 1 missing, 1 with a wrong size, 2 with a wrong checksum; 0 orphan object\(s\)$/m);
});
