// SPDX-License-Identifier: MIT
//
// The crash tests: 4 concurrent writers, 20 kill -9 at random moments, restart on the same
// data directory each time; every acknowledged point must be there exactly once with its
// exact values. Once with the default single WAL directory, once with two (replication),
// after which both copies must be byte-identical, and once while the server persists to
// Parquet (so that kills also hit the put / commit / segment removal steps), after which
// every file in the catalog must be intact.
//
// Run alone:        node --test tests/crash            (SILT_BIN, SILT_CRASH_SEED)
// Run by make:      tests/e2e/90-crash/crash.test.mjs imports this file, so
//                   `make VARIANT=asan test-e2e` runs it with the end-to-end suite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { crashTest } from './crash.mjs';
import { walSegments } from '../e2e/lib/server.mjs';
import { persistLines, siltVerify } from '../e2e/lib/storage.mjs';

test('crash: 4 writers, 20 x kill -9 at random moments, every acknowledged point present exactly once', { timeout: 150000 }, async (t) => {
  await crashTest(t, { kills: 20, writers: 4, minBatch: 10, maxBatch: 100 });
});

test('crash with two WAL directories: 20 x kill -9, every acknowledged point present exactly once, copies identical', { timeout: 150000 }, async (t) => {
  const { srv } = await crashTest(t, { kills: 20, writers: 4, walDirs: 2, minBatch: 10, maxBatch: 100 });
  const [a, b] = srv.walDirs;
  const names = walSegments(a).map((p) => path.basename(p));
  assert.deepEqual(walSegments(b).map((p) => path.basename(p)), names);
  assert.ok(names.length >= 20, `${names.length} segments after 20 restarts`);
  for (const n of names) assert.ok(fs.readFileSync(path.join(a, n)).equals(fs.readFileSync(path.join(b, n))), `${n} differs between the WAL copies`);
});

test('crash while persisting (--buffer-persist-size 1MiB, --buffer-persist-age 1s): 20 x kill -9, every acknowledged point present exactly once, every committed file intact', { timeout: 150000 }, async (t) => {
  // rounds long enough for the persister (it looks twice a second) to start persisting in
  // many of them; fewer, smaller batches keep the number of points to check in bounds, and
  // padding fills the buffer (1 MiB) in about a round
  const { srv, commits } = await crashTest(t, {
    kills: 20,
    writers: 4,
    minBatch: 20,
    maxBatch: 100,
    minDelayMs: 300,
    maxDelayMs: 900,
    pauseMs: 10,
    padBytes: 200,
    args: ['--buffer-persist-size', '1MiB', '--buffer-persist-age', '1s'],
    persisting: true,
  });
  // the watermark moved in several rounds (a persist that a kill cut short after its commit
  // is not in the log, so the log's count is a lower bound)
  const persists = persistLines(srv);
  t.diagnostic(`watermark moved in ${commits} of 19 restarts; ${persists.length} persists logged`);
  assert.ok(commits >= 2, `the watermark moved in only ${commits} rounds: the test did not exercise persisting`);
  // kills between a put and its commit leave orphans; nothing in the catalog may be damaged
  const v = await siltVerify(srv);
  const m = /^(\d+) file\(s\) in the catalog: (\d+) verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; (\d+) orphan object\(s\)$/m.exec(v.stdout);
  assert.ok(m && m[1] === m[2] && Number(m[1]) > 0, `silt verify (exit ${v.code}):\n${v.stdout}\n${v.stderr}`);
  t.diagnostic(`silt verify: ${m[1]} files, ${m[3]} orphans`);
});
