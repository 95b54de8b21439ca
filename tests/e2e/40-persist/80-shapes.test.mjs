// SPDX-License-Identifier: MIT
//
// Shapes of data that stress the Parquet writer and the catalog commit, each persisted by
// a graceful stop and read back after the restart: thousands of distinct long tag and
// string values (a dictionary that outgrows its page), strings at the limits of the
// statistics, a table with hundreds of columns, many tables in one persist (one catalog
// transaction), and string values of hundreds of kilobytes. Files are checked by pqcheck; rows by exact comparison.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { startServer, dumpDb, runSilt } from '../lib/server.mjs';
import { listParquet, objectToFile, pqcheck, pqsql, unsortedAt, shutdownLine, count } from '../lib/storage.mjs';
import { NS, BASE } from '../lib/dataset.mjs';

async function persistAndRestart(srv) {
  const off = srv.logOffset();
  await srv.stop();
  const sd = shutdownLine(srv, off);
  assert.ok(sd && sd.left === 0, srv.log(off));
  await srv.restart();
  return sd;
}

const hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

test('12000 distinct series and strings (a tag dictionary larger than its 1 MiB page), long strings at the statistics limits: a valid file, sorted, every value back', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t });
  const N = 12000;
  const id = (n) => `dev-${hex(String(n))}${hex(`x${n}`)}`.slice(0, 100);
  const note = (n) => `${hex(`note ${n}`)}${hex(`more ${n}`)}`;
  for (let b = 0; b < 2; b++) {
    const lines = [];
    for (let n = b * (N / 2); n < (b + 1) * (N / 2); n++) lines.push(`dict,id=${id(n)},grp=g${n % 7} v=${n}i,note="${note(n)}" ${BASE + BigInt(n)}`);
    await srv.write('shapes', lines.join('\n'), NS);
  }
  // strings longer than the 64 bytes kept in statistics, where the truncated max must be
  // rounded up: multi-byte characters only, DEL (0x7f), '~', U+10FFFF, 'ÿ'
  const odd = ['東'.repeat(40), '\x7f'.repeat(100), `${'a'.repeat(63)}東東`, '~'.repeat(70), `${'z'.repeat(64)}\x7f`, '\u{10FFFF}'.repeat(30), 'ÿ'.repeat(50)];
  await srv.write('shapes', odd.map((v, k) => `dict,id=${v},grp=gx v=${-k}i,note="${v}" ${BASE - BigInt(k) - 1n}`).join('\n'), NS);
  const sd = await persistAndRestart(srv);
  assert.deepEqual([sd.rows, sd.files], [N + odd.length, 1]);
  assert.equal(await count(srv, 'shapes', 'dict'), N + odd.length);
  for (const n of [0, 1, 7777, N - 1]) {
    assert.deepEqual(await srv.query('shapes', `SELECT grp, v, note FROM dict WHERE id = '${id(n)}'`), [{ grp: `g${n % 7}`, v: n, note: note(n) }]);
  }
  assert.deepEqual((await srv.query('shapes', "SELECT id, note FROM dict WHERE grp = 'gx' ORDER BY time DESC")).map((r) => [r.id, r.note]), odd.map((v) => [v, v]));
  const [obj] = await listParquet(srv);
  const file = await objectToFile(srv, obj.key, path.join(srv.root, 'copy'));
  const pq = await pqcheck(file, ['--quiet']);
  assert.equal(pq.code, 0, pq.out.slice(-3000));
  const rows = await pqsql(file, 'SELECT grp, id, time FROM t');
  assert.equal(rows.length, N + odd.length);
  assert.equal(unsortedAt(rows, ['grp', 'id', 'time']), null);
});

test('a table with 440 fields, 60 tables in one persist, and 400 KB strings: files valid, every row back', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t });
  const types = [(i) => `${i}.5`, (i) => `${i}i`, (i) => `${i}u`, (i) => `"v${i}"`, (i) => (i % 2 ? 't' : 'f')];
  const wide = [];
  for (let r = 0; r < 20; r++) {
    const fields = [];
    for (let c = 0; c < 440; c++) if ((c + r) % 3) fields.push(`f${String(c).padStart(3, '0')}=${types[c % 5](c * 100 + r)}`);
    wide.push(`wide,t0=a${r % 2},t1=b${r % 3} ${fields.join(',')} ${BASE + BigInt(r)}`);
  }
  await srv.write('shapes2', wide.join('\n'), NS);
  const many = Array.from({ length: 60 }, (_, k) => `tbl_${k},k=x v=${k}i ${BASE + BigInt(k)}`);
  await srv.write('shapes2', many.join('\n'), NS);
  const big = Array.from({ length: 4 }, (_, k) => `big,k=k${k} s="${String.fromCharCode(97 + k).repeat(400000 + k)}" ${BASE + BigInt(k)}`);
  for (const l of big) await srv.write('shapes2', l, NS);
  const before = await dumpDb(srv, 'shapes2');
  assert.equal(before.wide.cols.length, 443);

  const sd = await persistAndRestart(srv);
  assert.deepEqual([sd.rows, sd.files], [20 + 60 + 4, 62]);
  assert.deepEqual(await dumpDb(srv, 'shapes2'), before);
  const lens = await srv.query('shapes2', 'SELECT k, s FROM big ORDER BY time');
  assert.deepEqual(lens.map((r) => [r.k, r.s.length, r.s[0]]), [0, 1, 2, 3].map((k) => [`k${k}`, 400000 + k, String.fromCharCode(97 + k)]));

  // the wide file (the largest: the big strings compress to almost nothing) passes pqcheck
  const objs = await listParquet(srv);
  assert.equal(objs.length, 62);
  const widest = [...objs].sort((x, y) => y.size - x.size)[0];
  const file = await objectToFile(srv, widest.key, path.join(srv.root, 'copy'));
  const ins = await runSilt(['inspect', file]);
  assert.match(ins.stdout, /^schema: 443 columns$/m);
  const pq = await pqcheck(file, ['--quiet']);
  assert.equal(pq.code, 0, `${widest.key}:\n${pq.out.slice(-3000)}`);
});
