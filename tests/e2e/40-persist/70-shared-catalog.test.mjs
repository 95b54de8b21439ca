// SPDX-License-Identifier: MIT
//
// Two silt processes sharing one catalog and one object store (src/catalog/README.md: each
// process that writes a WAL has its own --node-id and watermark): different data
// directories, each writing its own database, persisting by age while they write and at
// their graceful stop at the same time. Afterwards `silt verify` on the shared storage is
// clean (every file there, no orphan, no file twice), and a third server on a new data
// directory answers both databases from the files, row for row as the writers did.
//
// Distributed configuration: one PostgreSQL catalog and one bucket. Embedded: one SQLite
// catalog file given with --catalog (the catalog README: several processes on one file work,
// serialised) and one objects directory linked into each data directory as
// <data-dir>/objects (the file store has no flag of its own for its root).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, dumpDb, provisionDistributed } from '../lib/server.mjs';
import { DISTRIBUTED, assertVerifyClean, shutdownLine, persistLines, replayLine, listParquet, count } from '../lib/storage.mjs';
import { mixedDataset, NS } from '../lib/dataset.mjs';

/* Storage shared by several servers: { storage, attach(srv) } (attach before start). */
async function sharedStorage(t) {
  if (DISTRIBUTED) {
    const storage = await provisionDistributed();
    return { storage, attach() {} };
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'silt-e2e-shared-'));
  t.after(() => {
    if (!process.env.SILT_E2E_KEEP) fs.rmSync(root, { recursive: true, force: true });
  });
  const objects = path.join(root, 'objects');
  fs.mkdirSync(objects);
  return {
    storage: { args: ['--catalog', path.join(root, 'catalog.sqlite')] },
    attach(srv) {
      fs.symlinkSync(objects, path.join(srv.dataDir, 'objects'));
    },
  };
}

test('two servers on one catalog and object store, then a third on a new data directory: every row of both databases, verify clean', { timeout: 120000 }, async (t) => {
  const shared = await sharedStorage(t);
  const node = async (id, args = []) => {
    const srv = await startServer({ t, start: false, args: ['--node-id', id, ...args] });
    srv.storage = shared.storage;
    shared.attach(srv);
    await srv.start();
    return srv;
  };
  const a = await node('node-a', ['--buffer-persist-age', '1s']);
  const b = await node('node-b', ['--buffer-persist-age', '1s']);
  const dsA = mixedDataset('alpha', { perDay: 30 });
  const dsB = mixedDataset('beta', { perDay: 40 });
  // the same table names in both databases; both write at once, in several rounds, so
  // that the persisters of both run concurrently
  const write = async (srv, ds) => {
    for (const body of ds.batches) {
      await srv.write(ds.db, body, NS);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  await Promise.all([write(a, dsA), write(b, dsB)]);
  const want = { alpha: await dumpDb(a, 'alpha'), beta: await dumpDb(b, 'beta') };
  const rows = (d) => Object.values(d).reduce((n, tb) => n + tb.rows.length, 0);
  assert.equal(rows(want.alpha), dsA.rows);
  assert.equal(rows(want.beta), dsB.rows);

  const offA = a.logOffset();
  const offB = b.logOffset();
  await Promise.all([a.stop(), b.stop()]);
  const sdA = shutdownLine(a, offA);
  const sdB = shutdownLine(b, offB);
  assert.ok(sdA && sdA.left === 0, a.log(offA));
  assert.ok(sdB && sdB.left === 0, b.log(offB));
  const filesA = persistLines(a).reduce((n, l) => n + l.files, 0);
  const filesB = persistLines(b).reduce((n, l) => n + l.files, 0);
  assert.equal(persistLines(a).reduce((n, l) => n + l.rows, 0) >= dsA.rows, true);
  assert.equal((await listParquet(a)).length, filesA + filesB);

  // a third server, new data directory, its own node id: both databases from the files
  const c = await node('node-c');
  const rp = replayLine(c);
  assert.equal(rp.records, 0);
  assert.equal(rp.watermark, 0, 'node-c has no watermark of its own');
  const tables = (await c.query('alpha', 'SHOW TABLES')).filter((x) => x.table_schema === 'iox').map((x) => x.table_name);
  assert.deepEqual(tables.sort(), dsA.tables);
  assert.deepEqual({ alpha: await dumpDb(c, 'alpha'), beta: await dumpDb(c, 'beta') }, want);
  assert.equal(await count(c, 'alpha', 'cpu'), 4 * 2 * 30);
  assert.equal(await count(c, 'beta', 'cpu'), 4 * 2 * 40);

  // each writer keeps its own watermark: a restart of a replays nothing of b's and vice versa
  const offA2 = a.logOffset();
  await a.restart();
  const rpA = replayLine(a, offA2);
  assert.equal(rpA.watermark, dsA.batches.length, a.log(offA2));
  assert.equal(rpA.records, 0);
  assert.deepEqual(await dumpDb(a, 'beta'), want.beta, 'server a does not see what b persisted');

  const v = await assertVerifyClean(assert, c, 'of the shared storage');
  assert.equal(v.files, filesA + filesB);
});
