// SPDX-License-Identifier: MIT
//
// Restarts: a graceful stop (SIGTERM, exit 0; it persists the buffer to Parquet and empties
// the WAL, or keeps the WAL with --persist-on-shutdown false) and a kill -9 right after the
// acks both keep every acknowledged write, with types, merges and rejected lines exactly as
// before; the WAL replay is logged; segments roll at --wal-segment-size and are all
// replayed; a restarted server writes into a new segment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, dumpDb, walSegments, request } from '../lib/server.mjs';
import path from 'node:path';

/* A mixed workload: 3 databases, every field type, merges, partial writes. Returns the
 * number of requests that wrote something (= WAL records). */
async function mixedWorkload(srv) {
  let records = 0;
  const w = async (db, body, opts) => {
    const r = await srv.writeLp(db, body, opts);
    // every request writes something: 204, or a partial write
    assert.ok(r.status === 204 || (r.status === 400 && /partial write/.test(r.text)), `HTTP ${r.status}: ${r.text}`);
    records++;
    return r;
  };
  await w('d1', 'cpu,host=a usage=1.5,n=1i,u=1u,s="one",b=t 1700000000000000000\ncpu,host=b usage=2.5 1700000000000000000');
  await w('d1', 'cpu,host=a usage=9.5 1700000000000000000'); // merge
  await w('d1', 'mem,host=a free=100i 1700000001000000000\nmem,host=a bad=', {}); // partial
  await w('d2', 'weird\\ name,t\\=k=v\\,1 f\\ k="str with \\"quotes\\"" 1');
  await w('d2', 'température,城市=東京 値=21.5 1700000000');
  await w('d3', Array.from({ length: 500 }, (_, i) => `bulk,s=s${i % 10} v=${i}i ${1700000000000000000n + BigInt(i)}`).join('\n'));
  await w('d3', 'bulk,s=s0 v=-1i 1700000000000000000', { api: 'v1' }); // merge via v1
  await w('d3', 'v2t f=1 5', { api: 'v2', params: { precision: 's' } });
  return records;
}

const DBS = ['d1', 'd2', 'd3'];
async function dumpAll(srv) {
  const out = {};
  for (const db of DBS) out[db] = await dumpDb(srv, db);
  return out;
}

test('a graceful restart (SIGTERM) keeps every table, column, row and merge', async (t) => {
  const srv = await startServer({ t });
  await mixedWorkload(srv);
  const before = await dumpAll(srv);
  assert.equal(before.d3.bulk.rows.length, 500);

  const off = srv.logOffset();
  const ex = await srv.stop();
  assert.deepEqual(ex, { code: 0, signal: null });
  assert.ok(srv.logContains(/received SIGTERM/, off));
  assert.ok(srv.logContains(/ stopped$/m, off));

  // the graceful stop persisted everything to Parquet and left the WAL empty: the restart
  // replays nothing and serves the same answers from the files
  assert.ok(srv.logContains(/serve: shutdown: persisted \d+ rows to \d+ Parquet file\(s\) .*, 0 segment\(s\) left/, off), srv.log(off));
  assert.deepEqual(walSegments(path.join(srv.dataDir, 'wal')), []);
  const off2 = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(/WAL replay: 0 records /, off2), srv.log(off2));
  assert.deepEqual(await dumpAll(srv), before);
});

test('a graceful restart with --persist-on-shutdown false replays every record from the WAL', async (t) => {
  const srv = await startServer({ t, args: ['--persist-on-shutdown', 'false'] });
  const records = await mixedWorkload(srv);
  const before = await dumpAll(srv);
  const off = srv.logOffset();
  await srv.stop();
  assert.ok(srv.logContains(/rows in memory stay in the WAL \(--persist-on-shutdown false\)/, off), srv.log(off));
  assert.ok(!srv.logContains(/store: persisted|shutdown: persisted/, off), srv.log(off));
  const off2 = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(`WAL replay: ${records} records `), off2), srv.log(off2));
  assert.deepEqual(await dumpAll(srv), before);
});

test('kill -9 right after the acknowledgements keeps every acknowledged write', async (t) => {
  const srv = await startServer({ t });
  const agents = Array.from({ length: 4 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  t.after(() => agents.forEach((a) => a.destroy()));
  const acked = [];
  await Promise.all(
    agents.map(async (agent, w) => {
      for (let b = 0; b < 40; b++) {
        const body = Array.from({ length: 25 }, (_, i) => `k,w=${w} v=${b * 25 + i}i ${1700000000000000000n + BigInt(b * 25 + i)}`).join('\n');
        const r = await request(srv.port, { method: 'POST', path: '/api/v3/write_lp?db=k9', body, agent });
        assert.equal(r.status, 204, r.text);
        acked.push([w, b]);
      }
    }),
  );
  await srv.kill('SIGKILL'); // no chance to flush anything after the last answer
  assert.equal(acked.length, 160);
  await srv.restart();
  assert.deepEqual(await srv.query('k9', 'SELECT count(*) FROM k'), [{ 'count(*)': 4000 }]);
  for (let w = 0; w < 4; w++) {
    const rows = await srv.query('k9', `SELECT v FROM k WHERE w = '${w}' ORDER BY time`);
    assert.deepEqual(
      rows.map((r) => r.v),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  }
});

test('kill -9 keeps the mixed workload exactly as a graceful stop does', async (t) => {
  const srv = await startServer({ t });
  const records = await mixedWorkload(srv);
  const before = await dumpAll(srv);
  await srv.kill('SIGKILL');
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(`WAL replay: ${records} records `), off), srv.log(off));
  assert.deepEqual(await dumpAll(srv), before);
});

test('repeated restarts: replayed data plus new writes, each restart in a new segment', async (t) => {
  const srv = await startServer({ t });
  const walDir = path.join(srv.dataDir, 'wal');
  const expected = [];
  for (let round = 0; round < 4; round++) {
    const body = Array.from({ length: 10 }, (_, i) => `r,round=${round} v=${i}i ${round * 100 + i}`).join('\n');
    await srv.write('rep', body, { params: { precision: 's' } });
    for (let i = 0; i < 10; i++) expected.push(round * 10 + i);
    const segsBefore = walSegments(walDir).length;
    if (round % 2) await srv.kill('SIGKILL');
    else {
      // a graceful stop persists the buffer and removes every segment
      await srv.stop();
      assert.deepEqual(walSegments(walDir), [], `round ${round}: segments left after a graceful stop`);
    }
    const segsAfterStop = walSegments(walDir).length;
    await srv.restart();
    const rows = await srv.query('rep', 'SELECT round, v FROM r ORDER BY time');
    assert.deepEqual(
      rows.map((r) => Number(r.round) * 10 + r.v),
      expected,
      `round ${round}`,
    );
    // writing after a restart goes to a new segment (README invariant 4)
    await srv.write('rep', `marker,round=${round} v=1i ${1000 + round}`, { params: { precision: 's' } });
    assert.equal(walSegments(walDir).length, segsAfterStop + 1, `round ${round}: no new segment after restart`);
    if (round % 2) assert.equal(segsAfterStop, segsBefore);
  }
  assert.deepEqual(await srv.query('rep', 'SELECT count(*) FROM marker'), [{ 'count(*)': 4 }]);
});

test('--wal-segment-size rolls segments and a restart replays all of them', async (t) => {
  const srv = await startServer({ t, args: ['--wal-segment-size', '65536'] });
  const walDir = path.join(srv.dataDir, 'wal');
  let n = 0;
  for (let b = 0; b < 40; b++) {
    const body = Array.from({ length: 100 }, (_, i) => `seg,b=${b} v=${n + i}i,pad="${'x'.repeat(40)}" ${n + i}`).join('\n');
    await srv.write('segs', body, { params: { precision: 'ns' } });
    n += 100;
  }
  const segs = walSegments(walDir);
  assert.ok(segs.length >= 3, `only ${segs.length} segment(s) for ~300 kB with 64 KiB segments`);
  await srv.kill('SIGKILL');
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(new RegExp(`WAL replay: 40 records .* from ${segs.length} segments`), off), srv.log(off));
  assert.deepEqual(await srv.query('segs', 'SELECT count(*) FROM seg'), [{ 'count(*)': n }]);
  const last = await srv.query('segs', 'SELECT v FROM seg ORDER BY time DESC LIMIT 1');
  assert.deepEqual(last, [{ v: n - 1 }]);
});

test('no_sync writes survive a graceful restart', async (t) => {
  const srv = await startServer({ t });
  for (let i = 0; i < 20; i++) await srv.write('nsr', `n v=${i}i ${i + 1}`, { params: { no_sync: 'true', precision: 's' } });
  await srv.stop();
  await srv.restart();
  assert.deepEqual(await srv.query('nsr', 'SELECT count(*) FROM n'), [{ 'count(*)': 20 }]);
});

test('no_sync writes survive kill -9 (they are written to the WAL before the answer)', async (t) => {
  const srv = await startServer({ t });
  for (let i = 0; i < 20; i++) await srv.write('nsk', `n v=${i}i ${i + 1}`, { params: { no_sync: 'true', precision: 's' } });
  await srv.kill('SIGKILL');
  await srv.restart();
  assert.deepEqual(await srv.query('nsk', 'SELECT count(*) FROM n'), [{ 'count(*)': 20 }]);
});

test('a restart with an empty WAL serves an empty server; unknown databases stay unknown', async (t) => {
  const srv = await startServer({ t });
  await srv.stop();
  const off = srv.logOffset();
  await srv.restart();
  assert.ok(srv.logContains(/WAL replay: 0 records /, off));
  assert.equal((await srv.queryRaw('none', 'SHOW TABLES')).status, 404);
});
