// SPDX-License-Identifier: MIT
//
// The crash tests: 4 concurrent writers, 20 kill -9 at random moments, restart on the same
// data directory each time; every acknowledged point must be there exactly once with its
// exact values. Once with the default single WAL directory, once with two (replication),
// after which both copies must be byte-identical.
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

test('crash: 4 writers, 20 x kill -9 at random moments, every acknowledged point present exactly once', { timeout: 150000 }, async (t) => {
  await crashTest(t, { kills: 20, writers: 4 });
});

test('crash with two WAL directories: 20 x kill -9, every acknowledged point present exactly once, copies identical', { timeout: 150000 }, async (t) => {
  const { srv } = await crashTest(t, { kills: 20, writers: 4, walDirs: 2 });
  const [a, b] = srv.walDirs;
  const names = walSegments(a).map((p) => path.basename(p));
  assert.deepEqual(walSegments(b).map((p) => path.basename(p)), names);
  assert.ok(names.length >= 20, `${names.length} segments after 20 restarts`);
  for (const n of names) assert.ok(fs.readFileSync(path.join(a, n)).equals(fs.readFileSync(path.join(b, n))), `${n} differs between the WAL copies`);
});
