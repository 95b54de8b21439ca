// SPDX-License-Identifier: MIT
//
// CREATE DATABASE, DROP MEASUREMENT and DROP DATABASE (InfluxQL on /query) and InfluxDB 3's
// configure API (POST|GET|DELETE /api/v3/configure/database, DELETE /api/v3/configure/table).
// A drop is a catalog mark (src/server/server_admin.c, src/catalog/README.md): queries and
// listings stop seeing the data at once, whether it was in Parquet files or still in the
// buffer; its files stay in the object store, marked in the catalog for deletion in
// --gc-grace-period (100 days); no restart (graceful or kill -9, i.e. WAL replay) brings it
// back; writing to the same name again makes a fresh, empty measurement or database.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startServer, request, injectionBin } from '../lib/server.mjs';
import { listParquet, assertVerifyClean } from '../lib/storage.mjs';

const DAY_NS = 86400n * 1000000000n;
const GRACE_NS = 100n * DAY_NS;

async function v1(srv, q, db = 'd1') {
  const qs = new URLSearchParams({ q, ...(db ? { db } : {}) });
  const r = await request(srv.port, { path: `/query?${qs}` });
  assert.equal(r.status, 200, `${q}: HTTP ${r.status} ${r.text}`);
  return JSON.parse(r.text);
}

/* The one statement's result object. */
const one = async (srv, q, db) => (await v1(srv, q, db)).results[0];

const names = (res) => (res.series ? res.series[0].values.map((v) => v[0]) : []);

/* Rows of `SELECT * FROM m` as [time, ...values] arrays (none: []). */
async function rows(srv, m, db = 'd1') {
  const res = await one(srv, `SELECT * FROM "${m}"`, db);
  assert.equal(res.error, undefined, `SELECT * FROM ${m}: ${res.error}`);
  return res.series ? res.series[0].values : [];
}

/* Rows of a catalog query, each an array of strings: sqlite3 on the embedded catalog, psql
 * on the PostgreSQL one of the distributed configuration. */
function catalogRows(srv, sql) {
  const pg = srv.storage && srv.storage.catalog;
  const [cmd, args] = pg
    ? ['psql', [srv.storage.catalog, '-At', '-F', '|', '-c', sql]]
    : ['sqlite3', [path.join(srv.dataDir, 'catalog.sqlite'), sql]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, (err, out, stderr) =>
      err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve(out.split('\n').filter((l) => l).map((l) => l.split('|')))));
}

/* Every file row of the catalog for the tables named `table` (live or deleted) of database
 * `db` (live or deleted): [{ id, key, toDeleteAt (BigInt, 0n live), tableDeleted }]. */
async function catalogFiles(srv, db, table) {
  const rs = await catalogRows(srv,
    'SELECT f.id, f.object_key, COALESCE(f.to_delete_at, 0), CASE WHEN t.deleted_at IS NULL THEN 0 ELSE 1 END ' +
    'FROM parquet_files f JOIN tables t ON t.id = f.table_id JOIN databases d ON d.id = t.db_id ' +
    `WHERE d.name = '${db}'${table ? ` AND t.name = '${table}'` : ''} ORDER BY f.id`);
  return rs.map(([id, key, at, del]) => ({ id: Number(id), key, toDeleteAt: BigInt(at), tableDeleted: del === '1' }));
}

function assertMarkedForGrace(files, beforeNs, afterNs, what) {
  assert.ok(files.length > 0, `${what}: files in the catalog`);
  for (const f of files) {
    assert.ok(f.toDeleteAt >= beforeNs + GRACE_NS && f.toDeleteAt <= afterNs + GRACE_NS,
      `${what}: ${f.key} marked for ${f.toDeleteAt}, want now + 100 days`);
  }
}

const nowNs = () => BigInt(Date.now()) * 1000000n;

const T0 = 1700000000000000000n;
const CPU_OLD = [`cpu,host=a v=1 ${T0}`, `cpu,host=b v=2 ${T0 + DAY_NS}`].join('\n'); // two days
const MEM = `mem,host=a free=100i ${T0}`;

for (const crash of [false, true]) {
  const how = crash ? 'kill -9' : 'graceful restart';

  test(`DROP MEASUREMENT hides persisted and buffered rows, keeps the files marked for 100 days, survives a ${how}; the name starts fresh`, { timeout: 120000 }, async (t) => {
    const srv = await startServer({ t });
    await srv.write('d1', `${CPU_OLD}\n${MEM}`, { params: { precision: 'ns' } });
    await srv.restart(); // persists: cpu and mem are in Parquet files
    await srv.write('d1', `cpu,host=c v=3 ${T0 + 2n * DAY_NS}`, { params: { precision: 'ns' } }); // buffer only
    assert.equal((await rows(srv, 'cpu')).length, 3);
    const filesBefore = await listParquet(srv);
    const cpuFiles = await catalogFiles(srv, 'd1', 'cpu');
    assert.equal(cpuFiles.length, 2);
    assert.ok(cpuFiles.every((f) => f.toDeleteAt === 0n));

    const before = nowNs();
    assert.deepEqual(await v1(srv, 'DROP MEASUREMENT cpu'), { results: [{ statement_id: 0 }] });
    const after = nowNs();

    // gone at once, from every view; mem untouched
    assert.deepEqual(await rows(srv, 'cpu'), []);
    assert.deepEqual(names(await one(srv, 'SHOW MEASUREMENTS')), ['mem']);
    assert.deepEqual(await rows(srv, 'mem'), [['2023-11-14T22:13:20Z', 100, 'a']]);
    const sql = await srv.queryRaw('d1', 'SELECT count(*) FROM cpu');
    assert.equal(sql.status, 400, sql.text);
    assert.match(sql.text, /cpu/);
    assert.deepEqual((await srv.query('d1', 'SHOW TABLES')).filter((r) => r.table_schema === 'iox').map((r) => r.table_name), ['mem']);
    // the files are kept: every object is still there (the buffered row was persisted first)
    const filesAfter = await listParquet(srv);
    for (const f of filesBefore) assert.ok(filesAfter.some((g) => g.key === f.key), `${f.key} kept`);
    const marked = await catalogFiles(srv, 'd1', 'cpu');
    assert.equal(marked.length, 3, 'the two old files and the one persisted by the drop');
    assert.ok(marked.every((f) => f.tableDeleted));
    assertMarkedForGrace(marked, before, after, 'cpu');
    for (const f of marked) assert.ok(filesAfter.some((g) => g.key === f.key), `${f.key} is in the object store`);
    assert.ok((await catalogFiles(srv, 'd1', 'mem')).every((f) => f.toDeleteAt === 0n), 'mem files stay live');

    // a missing measurement: InfluxDB 1.x's error; the database must exist
    assert.equal((await one(srv, 'DROP MEASUREMENT cpu')).error, 'measurement not found');
    assert.equal((await one(srv, 'DROP MEASUREMENT cpu', 'nodb')).error, 'database not found: nodb');

    if (crash) await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(await rows(srv, 'cpu'), []);
    assert.deepEqual(names(await one(srv, 'SHOW MEASUREMENTS')), ['mem']);

    // the same name again: a fresh measurement with only the new data (a field may even take
    // another type: the old schema is gone with the old table)
    await srv.write('d1', `cpu,zone=z v="new" ${T0}`, { params: { precision: 'ns' } });
    assert.deepEqual(await rows(srv, 'cpu'), [['2023-11-14T22:13:20Z', 'new', 'z']]);
    assert.deepEqual(names(await one(srv, 'SHOW MEASUREMENTS')), ['cpu', 'mem']);
    if (crash) await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(await rows(srv, 'cpu'), [['2023-11-14T22:13:20Z', 'new', 'z']]);
    const all = await catalogFiles(srv, 'd1', 'cpu');
    assert.equal(all.filter((f) => f.toDeleteAt === 0n && !f.tableDeleted).length, crash ? 0 : 1, 'the new table\'s file (persisted on a graceful stop)');
    assert.equal(all.filter((f) => f.tableDeleted).length, 3);
    // the marked files are still whole: `silt verify` checks them like live ones
    await srv.stop();
    const v = await assertVerifyClean(assert, srv, 'after the drop');
    assert.equal(v.files, (await catalogFiles(srv, 'd1', null)).length);
  });

  test(`DROP DATABASE hides everything, keeps its files marked, survives a ${how}; writing again makes a fresh database`, { timeout: 120000 }, async (t) => {
    const srv = await startServer({ t });
    await srv.write('d1', `${CPU_OLD}\n${MEM}`, { params: { precision: 'ns' } });
    await srv.write('keep', MEM, { params: { precision: 'ns' } });
    await srv.restart();
    await srv.write('d1', `cpu,host=c v=3 ${T0 + 2n * DAY_NS}`, { params: { precision: 'ns' } });

    const before = nowNs();
    assert.deepEqual(await v1(srv, 'DROP DATABASE d1', null), { results: [{ statement_id: 0 }] });
    const after = nowNs();
    assert.deepEqual(names(await one(srv, 'SHOW DATABASES', null)), ['keep']);
    assert.equal((await one(srv, 'SELECT * FROM cpu')).error, 'database not found: d1');
    const sql = await srv.queryRaw('d1', 'SELECT count(*) FROM cpu');
    assert.equal(sql.status, 404, sql.text);
    const marked = await catalogFiles(srv, 'd1', null);
    assert.equal(marked.length, 4, 'cpu: 2 days + the buffered row; mem: 1');
    assertMarkedForGrace(marked, before, after, 'd1');
    const objects = (await listParquet(srv)).map((o) => o.key);
    for (const f of marked) assert.ok(objects.includes(f.key), `${f.key} is in the object store`);
    assert.ok((await catalogFiles(srv, 'keep', null)).every((f) => f.toDeleteAt === 0n));
    assert.deepEqual(await rows(srv, 'mem', 'keep'), [['2023-11-14T22:13:20Z', 100, 'a']]);
    // InfluxDB 1.x: dropping a database that does not exist is not an error
    assert.deepEqual(await v1(srv, 'DROP DATABASE d1', null), { results: [{ statement_id: 0 }] });
    assert.deepEqual(await v1(srv, 'DROP DATABASE never', null), { results: [{ statement_id: 0 }] });

    if (crash) await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(names(await one(srv, 'SHOW DATABASES', null)), ['keep']);

    await srv.write('d1', `cpu,host=n v=9 ${T0}`, { params: { precision: 'ns' } });
    assert.deepEqual(names(await one(srv, 'SHOW MEASUREMENTS')), ['cpu']);
    assert.deepEqual(await rows(srv, 'cpu'), [['2023-11-14T22:13:20Z', 'n', 9]]);
    if (crash) await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(names(await one(srv, 'SHOW DATABASES', null)), ['d1', 'keep']);
    assert.deepEqual(await rows(srv, 'cpu'), [['2023-11-14T22:13:20Z', 'n', 9]]);
    const dbs = await catalogRows(srv, "SELECT count(*), count(deleted_at) FROM databases WHERE name = 'd1'");
    // the deleted d1, and the new one once persisted (a graceful stop persists; after kill -9
    // its write is in the WAL only)
    assert.deepEqual(dbs, [[crash ? '1' : '2', '1']]);
  });

  test(`CREATE DATABASE is listed at once and after a ${how}; idempotent; a finite retention is refused`, async (t) => {
    const srv = await startServer({ t });
    assert.deepEqual(await v1(srv, 'CREATE DATABASE made', null), { results: [{ statement_id: 0 }] });
    assert.deepEqual(await v1(srv, 'CREATE DATABASE made', null), { results: [{ statement_id: 0 }] });
    assert.deepEqual(await v1(srv, 'CREATE DATABASE forever WITH DURATION INF REPLICATION 1', null), { results: [{ statement_id: 0 }] });
    assert.deepEqual(names(await one(srv, 'SHOW DATABASES', null)), ['forever', 'made']);
    assert.deepEqual(names(await one(srv, 'SHOW MEASUREMENTS', 'made')), []);
    assert.match((await one(srv, 'CREATE DATABASE ret WITH DURATION 7d', null)).error, /retention policies are not supported yet/);
    assert.match((await one(srv, 'CREATE DATABASE "bad name"', null)).error, /invalid database name/);
    assert.deepEqual(await catalogRows(srv, "SELECT name FROM databases WHERE deleted_at IS NULL ORDER BY name"), [['forever'], ['made']]);
    if (crash) await srv.kill('SIGKILL');
    await srv.restart();
    assert.deepEqual(names(await one(srv, 'SHOW DATABASES', null)), ['forever', 'made']);
    await srv.write('made', `m v=1 ${T0}`, { params: { precision: 'ns' } });
    assert.deepEqual(await rows(srv, 'm', 'made'), [['2023-11-14T22:13:20Z', 1]]);
  });
}

test('the InfluxDB 3 configure API creates, lists and deletes databases and tables', { timeout: 60000 }, async (t) => {
  const srv = await startServer({ t });
  const post = (body) => srv.request('POST', '/api/v3/configure/database', { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  let r = await post({ db: 'api' });
  assert.equal(r.status, 200, r.text);
  r = await post({ db: 'api' });
  assert.equal(r.status, 409, r.text);
  assert.match(r.text, /already exists/);
  assert.equal((await post({})).status, 400);
  assert.equal((await post({ db: 'bad name' })).status, 400);
  assert.equal((await post({ db: 'r', retention_period: '30d' })).status, 400);
  r = await srv.request('GET', '/api/v3/configure/database?format=json');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.text), [{ 'iox::database': 'api' }]);

  await srv.write('api', `cpu v=1 ${T0}\nmem v=2 ${T0}`, { params: { precision: 'ns' } });
  await srv.restart();
  r = await srv.request('DELETE', '/api/v3/configure/table?db=api&table=cpu');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((await srv.query('api', 'SHOW TABLES')).filter((x) => x.table_schema === 'iox').map((x) => x.table_name), ['mem']);
  assert.ok((await catalogFiles(srv, 'api', 'cpu')).every((f) => f.toDeleteAt > 0n && f.tableDeleted));
  r = await srv.request('DELETE', '/api/v3/configure/table?db=api&table=cpu');
  assert.equal(r.status, 404);
  assert.match(r.text, /table not found/);
  r = await srv.request('DELETE', '/api/v3/configure/table?db=nope&table=cpu');
  assert.equal(r.status, 404);
  assert.match(r.text, /database not found/);
  assert.equal((await srv.request('DELETE', '/api/v3/configure/table?db=api')).status, 400);

  r = await srv.request('DELETE', '/api/v3/configure/database?db=api');
  assert.equal(r.status, 200, r.text);
  r = await srv.request('GET', '/api/v3/configure/database');
  assert.deepEqual(JSON.parse(r.text), []);
  assert.equal((await srv.request('DELETE', '/api/v3/configure/database?db=api')).status, 404);
  assert.equal((await srv.request('DELETE', '/api/v3/configure/database')).status, 400);
  assert.equal((await srv.queryRaw('api', 'SELECT * FROM mem')).status, 404);
  assert.ok((await catalogFiles(srv, 'api', null)).every((f) => f.toDeleteAt > 0n));
  await srv.restart();
  r = await srv.request('GET', '/api/v3/configure/database');
  assert.deepEqual(JSON.parse(r.text), []);
});

test('writes racing a DROP MEASUREMENT: every acknowledged write after the drop is kept, nothing from before it comes back', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t });
  await srv.write('d1', `cpu,w=old v=0 ${T0}`, { params: { precision: 'ns' } });
  let stop = false;
  const acked = []; // [seq, acknowledged before the drop answered?]
  let dropped = false;
  const writer = (async () => {
    for (let i = 1; !stop; i++) {
      await srv.write('d1', `cpu,w=w${i} v=${i} ${T0 + BigInt(i)}`, { params: { precision: 'ns' } });
      acked.push([i, dropped]);
    }
  })();
  await new Promise((res) => setTimeout(res, 100));
  const dropStart = acked.length;
  assert.deepEqual(await v1(srv, 'DROP MEASUREMENT cpu'), { results: [{ statement_id: 0 }] });
  dropped = true;
  await new Promise((res) => setTimeout(res, 100));
  stop = true;
  await writer;
  assert.ok(dropStart > 0, 'writes before the drop');
  const seen = new Set((await rows(srv, "cpu")).map((r) => r[1]));
  // a write acknowledged after the drop answered was made after it: it must be there; one
  // acknowledged before the drop started must not (those in between may be either)
  for (const [i, after] of acked) if (after) assert.ok(seen.has(i), `write ${i} after the drop is kept`);
  for (const [i] of acked.slice(0, dropStart)) assert.ok(!seen.has(i), `write ${i} before the drop is gone`);
  assert.ok(!seen.has(0));
  const live = [...seen].sort((a, b) => a - b);
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual([...new Set((await rows(srv, "cpu")).map((r) => r[1]))].sort((a, b) => a - b), live);
});

test('a crash between the persist and the catalog marks of a DROP leaves the measurement intact; the drop can be repeated', { timeout: 120000 }, async (t) => {
  const srv = await startServer({ t, bin: injectionBin(), env: { SILT_INJECT: 'drop.before_mark:abort' } });
  await srv.write('d1', `${CPU_OLD}\n${MEM}`, { params: { precision: 'ns' } });
  srv.expectExit();
  await assert.rejects(request(srv.port, { path: `/query?${new URLSearchParams({ db: 'd1', q: 'DROP MEASUREMENT cpu' })}` }));
  await srv.waitExit();
  srv.env = {};
  await srv.restart();
  // the persist happened (the buffer is in files), the marks did not: nothing is lost
  assert.equal((await rows(srv, 'cpu')).length, 2);
  const files = await catalogFiles(srv, 'd1', 'cpu');
  assert.equal(files.length, 2, 'one file per day, persisted by the drop before it crashed');
  assert.ok(files.every((f) => f.toDeleteAt === 0n && !f.tableDeleted));
  assert.deepEqual(await v1(srv, 'DROP MEASUREMENT cpu'), { results: [{ statement_id: 0 }] });
  assert.deepEqual(await rows(srv, 'cpu'), []);
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual(await rows(srv, 'cpu'), []);
  assert.equal((await rows(srv, 'mem')).length, 1);
});
