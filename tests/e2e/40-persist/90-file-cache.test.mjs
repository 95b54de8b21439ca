// SPDX-License-Identifier: MIT
//
// The in-memory cache of checked Parquet files (--file-cache-size): once a scan has fetched a
// file and checked it against the catalog (size, checksum), later scans reuse the checked
// copy. Shown by removing the object behind silt's back: with the cache, the table still
// answers exactly (from the checked copy) until the restart; with --file-cache-size 0 every
// query fetches again and fails at once. A file larger than the bound is not cached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { listParquet, deleteObject, count } from '../lib/storage.mjs';
import { NS } from '../lib/dataset.mjs';

const T0 = 1700000000000000000n;
const rows = Array.from({ length: 300 }, (_, i) => `fc,h=h${i % 3} v=${i}i ${T0 + BigInt(i) * 1000000000n}`).join('\n');

/* --object-cache-size 0: with S3 the on-disk cache of remote files (<data-dir>/cache) would
 * also serve a removed object; these tests are about the memory cache alone. */
async function persisted(t, args = []) {
  const srv = await startServer({ t, args: ['--object-cache-size', '0', ...args] });
  await srv.write('fcdb', rows, NS);
  await srv.stop();
  await srv.restart();
  const objs = await listParquet(srv);
  assert.equal(objs.length, 1);
  return { srv, key: objs[0].key };
}

test('a checked file is reused from memory: the table answers after its object is gone, until the restart', async (t) => {
  const { srv, key } = await persisted(t);
  assert.equal(await count(srv, 'fcdb', 'fc'), 300); // fetched, checked, cached
  await deleteObject(srv, key);
  assert.equal(await count(srv, 'fcdb', 'fc'), 300);
  assert.deepEqual(await srv.query('fcdb', "SELECT max(v) AS m FROM fc WHERE h = 'h1'"), [{ m: 298 }]);
  await srv.restart(); // the cache is memory only
  const r = await srv.queryRaw('fcdb', 'SELECT count(*) FROM fc');
  assert.ok(r.status >= 400, `HTTP ${r.status}: ${r.text}`);
  assert.match(r.text, /not in the object store/);
});

for (const size of ['0', '1KiB']) {
  test(`--file-cache-size ${size}: every scan fetches and checks the object again`, async (t) => {
    const { srv, key } = await persisted(t, ['--file-cache-size', size]);
    assert.equal(await count(srv, 'fcdb', 'fc'), 300);
    await deleteObject(srv, key);
    const r = await srv.queryRaw('fcdb', 'SELECT count(*) FROM fc');
    assert.ok(r.status >= 400, `HTTP ${r.status}: ${r.text}`);
    assert.match(r.text, /not in the object store/);
  });
}
