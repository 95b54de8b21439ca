// SPDX-License-Identifier: MIT
//
// The command line: `silt write` from a file and from stdin (rejected lines reported with
// their line number in the input, exit 1), `silt query` printing the answer, `silt serve
// --help` listing every setting with its SILT_* variable, settings from the environment,
// and bad invocations.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, runSilt, freePort } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(() => srv.cleanup());

const file = (name, content) => {
  const p = path.join(srv.dataDir, name);
  fs.writeFileSync(p, content);
  return p;
};

test('silt write --file: every line written, exit 0', async () => {
  const f = file('good.lp', 'cli,host=a v=1.5 1700000000000000000\ncli,host=b v=2.5 1700000001000000000\n');
  const r = await runSilt(['write', '--db', 'clidb', '--file', f, '--host', srv.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote .* MB of line protocol/);
  assert.deepEqual(await srv.query('clidb', 'SELECT host, v FROM cli ORDER BY time'), [
    { host: 'a', v: 1.5 },
    { host: 'b', v: 2.5 },
  ]);
});

test('silt write --file with a bad line: "line N, column C: reason" for the input line, exit 1, the other lines written', async () => {
  const f = file('bad.lp', 'cb v=1 1\ncb v=2 2\ncb v=oops 3\ncb v=4 4\n');
  const r = await runSilt(['write', '--db', 'clibad', '--file', f, '--host', srv.url, '--precision', 's']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^line 3, column 6: invalid field value for "v"/m);
  assert.match(r.stderr, /1 line\(s\) rejected/);
  assert.deepEqual(await srv.query('clibad', 'SELECT v FROM cb ORDER BY time'), [{ v: 1 }, { v: 2 }, { v: 4 }]);
});

test('silt write from stdin with a bad line, and --precision', async () => {
  const r = await runSilt(['write', '--db', 'clistdin', '--host', srv.url, '--precision', 'ms'], {
    input: 'st v=1i 1000\nst v=2i\nst,t= v=3i 3000\nst v=4i 4000\n',
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^line 3, column 6: empty tag value/m);
  assert.doesNotMatch(r.stderr, /^line [124],/m);
  const rows = await srv.query('clistdin', 'SELECT v, time FROM st WHERE time < 100000000000 ORDER BY time');
  assert.deepEqual(rows, [
    { v: 1, time: '1970-01-01T00:00:01' },
    { v: 4, time: '1970-01-01T00:00:04' },
  ]);
  // the line without a timestamp got the server's time
  assert.deepEqual(await srv.query('clistdin', 'SELECT count(*) FROM st'), [{ 'count(*)': 3 }]);
});

test('silt write reports input line numbers past its first batch (a 5 MB input)', async () => {
  const n = 100000;
  const lines = Array.from({ length: n }, (_, i) => `big,k=${i % 13} v=${i}i,pad="${'x'.repeat(24)}" ${i + 1}`);
  const badLines = [7, 90001, 99999];
  for (const b of badLines) lines[b - 1] = `big,k=0 v=${b}q ${b}`;
  const f = file('big.lp', lines.join('\n') + '\n');
  assert.ok(fs.statSync(f).size > 4.5 * (1 << 20));
  const r = await runSilt(['write', '--db', 'clibig', '--file', f, '--host', srv.url, '--precision', 'ns'], { timeoutMs: 120000 });
  assert.equal(r.code, 1, r.stderr);
  const reported = [...r.stderr.matchAll(/^line (\d+), column (\d+):/gm)].map((m) => Number(m[1]));
  assert.deepEqual(reported, badLines);
  assert.deepEqual(await srv.query('clibig', 'SELECT count(*) FROM big'), [{ 'count(*)': n - badLines.length }]);
  assert.deepEqual(await srv.query('clibig', 'SELECT v FROM big ORDER BY time DESC LIMIT 1'), [{ v: n - 1 }]);
});

test('silt query prints the JSON answer; --format csv and jsonl', async () => {
  await srv.write('cliq', 'q,t=a v=1.5 1\nq,t=b v=2.5 2', { params: { precision: 's' } });
  const sql = 'SELECT t, v FROM q ORDER BY time';
  const j = await runSilt(['query', '--db', 'cliq', '--host', srv.url, sql]);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), [
    { t: 'a', v: 1.5 },
    { t: 'b', v: 2.5 },
  ]);
  const c = await runSilt(['query', '--db', 'cliq', '--host', srv.url, '--format', 'csv', sql]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 't,v\na,1.5\nb,2.5\n');
  const l = await runSilt(['query', '--db', 'cliq', '--host', srv.url, '--format', 'jsonl', sql]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, '{"t":"a","v":1.5}\n{"t":"b","v":2.5}\n');
});

test('silt write then silt query, the host taken from SILT_HOST', async () => {
  const w = await runSilt(['write', '--db', 'clienv'], { input: 'e v=7i 1\n', env: { SILT_HOST: srv.url } });
  assert.equal(w.code, 0, w.stderr);
  const q = await runSilt(['query', '--db', 'clienv', 'SELECT v FROM e'], { env: { SILT_HOST: srv.url } });
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual(JSON.parse(q.stdout), [{ v: 7 }]);
});

test('silt query errors: unknown database (404) and bad SQL (400 with position), exit 1', async () => {
  const a = await runSilt(['query', '--db', 'nosuchclidb', '--host', srv.url, 'SELECT * FROM x']);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /HTTP 404/);
  await srv.write('clierr', 'x v=1 1');
  const b = await runSilt(['query', '--db', 'clierr', '--host', srv.url, 'SELECT * FRM x']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /HTTP 400: .*line 1, column 10/);
  assert.equal(b.stdout, '');
});

test('silt write and silt query against a server that is not there: exit 1 with a message', async () => {
  const port = await freePort();
  const w = await runSilt(['write', '--db', 'x', '--host', `http://127.0.0.1:${port}`], { input: 'm v=1 1\n' });
  assert.equal(w.code, 1);
  assert.match(w.stderr, /silt write: .+/);
  const q = await runSilt(['query', '--db', 'x', '--host', `http://127.0.0.1:${port}`, 'SHOW TABLES']);
  assert.equal(q.code, 1);
  assert.match(q.stderr, /silt query: .+/);
});

test('silt write and silt query usage errors exit 2', async () => {
  assert.equal((await runSilt(['write', '--host', srv.url], { input: 'm v=1 1\n' })).code, 2); // no --db
  assert.equal((await runSilt(['query', '--db', 'x', '--host', srv.url])).code, 2); // no SQL
  assert.equal((await runSilt(['query', '--host', srv.url, 'SHOW TABLES'])).code, 2); // no --db
  assert.equal((await runSilt(['write', '--db', 'x', '--bogus'])).code, 2);
  assert.equal((await runSilt(['frobnicate'])).code, 2);
});

test('silt serve --help lists every flag with its SILT_* variable', async () => {
  const r = await runSilt(['serve', '--help']);
  assert.equal(r.code, 0);
  const lines = r.stdout.split('\n');
  for (const flag of ['http-bind', 'data-dir', 'wal-dir', 'max-http-request-size', 'wal-segment-size', 'log-level']) {
    const env = `SILT_${flag.toUpperCase().replace(/-/g, '_')}`;
    const i = lines.findIndex((l) => l.trimStart().startsWith(`--${flag} `));
    assert.ok(i >= 0, `--${flag} missing from:\n${r.stdout}`);
    assert.ok(lines[i + 1]?.includes(`[env ${env}`), `--${flag} is not followed by its variable ${env}:\n${lines[i]}\n${lines[i + 1]}`);
  }
});

test('silt serve rejects unknown flags and out-of-range values with exit 2', async () => {
  const a = await runSilt(['serve', '--bogus-flag', 'x']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown option '--bogus-flag'/);
  const b = await runSilt(['serve', '--max-http-request-size', '12']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /max-http-request-size/);
  const c = await runSilt(['serve', '--log-level', 'chatty']);
  assert.equal(c.code, 2);
  const d = await runSilt(['serve', '--http-bind', '127.0.0.1:8181', 'extra']);
  assert.equal(d.code, 2);
});

test('settings come from SILT_* variables, and a flag wins over its variable', async (t) => {
  const s = await startServer({ t, env: { SILT_MAX_HTTP_REQUEST_SIZE: '2KiB', SILT_LOG_LEVEL: 'debug' } });
  const body = 'e v=1i 1\n'.repeat(300); // 2700 bytes
  assert.equal((await s.writeLp('envdb', body)).status, 413);
  assert.equal((await s.writeLp('envdb', 'e v=1i 1\n'.repeat(200))).status, 204);
  assert.ok(s.logContains(/ DEBUG /), 'SILT_LOG_LEVEL=debug was not applied');
  await s.stop();
  s.args = ['--max-http-request-size', '1MiB'];
  await s.restart();
  assert.equal((await s.writeLp('envdb', body)).status, 204);
});

test('silt version prints the version', async () => {
  const r = await runSilt(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^silt \d+\.\d+\.\d+/);
});
