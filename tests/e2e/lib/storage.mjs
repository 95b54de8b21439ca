// SPDX-License-Identifier: MIT
//
// Helpers for the persistence tests (40-persist/): what a server has put into its object
// store (the `file` store under <data-dir>/objects, or the S3 bucket startServer
// provisioned), its WAL segments, `silt verify`, `silt inspect`, pqcheck, and the log lines
// of persisting and replay. Everything here works in both storage configurations
// (E2E_CONFIG embedded / distributed) from the same call.
//
//   const objs = await listObjects(srv);            // [{ key, size }], keys under dbs/
//   const file = await objectToFile(srv, objs[0].key, dir);
//   assert.equal((await pqcheck(file)).code, 0);
//   assert.equal((await siltVerify(srv)).code, 0);
//   walFiles(srv)                                     // every *.wal in every WAL directory

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { E2E_CONFIG, REPO_ROOT, runSilt, sleep, walSegments } from './server.mjs';

export { E2E_CONFIG };
export const DISTRIBUTED = E2E_CONFIG === 'distributed';

/* ------------------------------------------------------------------ polling */

/* Poll fn() until it returns a truthy value (returned) or the deadline passes (throws,
 * with describe() in the message). The only way these tests wait for the server. */
export async function waitFor(fn, { timeoutMs = 20000, intervalMs = 50, what = 'condition', describe } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      const extra = describe ? `\n${await describe()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`);
    }
    await sleep(intervalMs);
  }
}

/* ------------------------------------------------------------------ S3 through curl */

function s3Conf() {
  for (const k of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'])
    if (!process.env[k]) throw new Error(`the distributed configuration needs ${k} (run through mk/with-servers.sh)`);
  return {
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION || 'us-east-1',
    key: process.env.S3_ACCESS_KEY_ID,
    secret: process.env.S3_SECRET_ACCESS_KEY,
  };
}

const encKey = (key) => key.split('/').map(encodeURIComponent).join('/');

/* One signed S3 request with the real curl: { status, body (Buffer) }. `query` is an
 * already canonical query string (sorted, encoded). `inFile` uploads a file, `outFile`
 * writes the body there. */
function s3Request(method, bucket, key, { query = '', inFile, outFile } = {}) {
  const c = s3Conf();
  const url = `${c.endpoint}/${bucket}${key ? `/${encKey(key)}` : ''}${query ? `?${query}` : ''}`;
  const args = ['-sS', '-X', method, '--aws-sigv4', `aws:amz:${c.region}:s3`, '--user', `${c.key}:${c.secret}`,
    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-w', '\n%{http_code}'];
  if (inFile) args.push('--data-binary', `@${inFile}`);
  else if (method === 'PUT') args.push('-H', 'Content-Length: 0');
  if (outFile) args.push('-o', outFile);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'buffer', timeout: 60000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${method} ${url}: ${err.message} ${stderr}`));
      const nl = stdout.lastIndexOf(0x0a);
      resolve({ status: Number(stdout.subarray(nl + 1).toString()), body: stdout.subarray(0, nl) });
    });
  });
}

/* Every object of a bucket under prefix, paged: [{ key, size }] in key order. */
export async function s3List(bucket, prefix = '') {
  const out = [];
  let token = null;
  for (;;) {
    const params = [['list-type', '2'], ['prefix', prefix]];
    if (token) params.push(['continuation-token', token]);
    params.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
    const q = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    const r = await s3Request('GET', bucket, '', { query: q });
    const xml = r.body.toString('utf8');
    if (r.status !== 200) throw new Error(`list ${bucket}/${prefix}: HTTP ${r.status} ${xml.slice(0, 500)}`);
    for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1])[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
      out.push({ key, size: Number(/<Size>(\d+)<\/Size>/.exec(m[1])[1]) });
    }
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const next = /<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/.exec(xml);
    if (!truncated || !next) break;
    token = next[1];
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/* ------------------------------------------------------------------ a server's objects */

/* Where a server's objects are: { kind: 'file', root } or { kind: 's3', bucket }. */
export function objectStoreOf(srv) {
  if (srv.storage && srv.storage.bucket) return { kind: 's3', bucket: srv.storage.bucket };
  return { kind: 'file', root: path.join(srv.dataDir, 'objects') };
}

function walkFiles(dir, rel, out) {
  let ents;
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw e;
  }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walkFiles(p, r, out);
    else out.push({ key: r, size: fs.statSync(p).size });
  }
}

/* The objects a server's store holds under dbs/ (temp files of the file store excluded):
 * [{ key, size }] sorted by key. */
export async function listObjects(srv) {
  const os = objectStoreOf(srv);
  if (os.kind === 's3') return s3List(os.bucket, 'dbs/');
  const out = [];
  walkFiles(path.join(os.root, 'dbs'), 'dbs', out);
  return out.filter((o) => !o.key.endsWith('~')).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/* Only the Parquet objects. */
export async function listParquet(srv) {
  return (await listObjects(srv)).filter((o) => o.key.endsWith('.parquet'));
}

/* A copy of one object as a local file in dir (same base name); returns its path. */
export async function objectToFile(srv, key, dir) {
  const os = objectStoreOf(srv);
  fs.mkdirSync(dir, { recursive: true });
  const dst = path.join(dir, key.replace(/\//g, '_'));
  if (os.kind === 'file') {
    fs.copyFileSync(path.join(os.root, key), dst);
    return dst;
  }
  const r = await s3Request('GET', os.bucket, key, { outFile: dst });
  if (r.status !== 200) throw new Error(`GET ${os.bucket}/${key}: HTTP ${r.status} ${fs.existsSync(dst) ? fs.readFileSync(dst, 'utf8').slice(0, 300) : ''}`);
  return dst;
}

/* Replace an object's bytes behind silt's back (damage tests). */
export async function overwriteObject(srv, key, bytes, tmpDir) {
  const os = objectStoreOf(srv);
  if (os.kind === 'file') {
    fs.writeFileSync(path.join(os.root, key), bytes);
    return;
  }
  fs.mkdirSync(tmpDir, { recursive: true });
  const f = path.join(tmpDir, `put-${process.pid}-${Date.now()}`);
  fs.writeFileSync(f, bytes);
  const r = await s3Request('PUT', os.bucket, key, { inFile: f });
  fs.unlinkSync(f);
  if (r.status !== 200) throw new Error(`PUT ${os.bucket}/${key}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
}

/* Remove an object behind silt's back. */
export async function deleteObject(srv, key) {
  const os = objectStoreOf(srv);
  if (os.kind === 'file') {
    fs.unlinkSync(path.join(os.root, key));
    return;
  }
  const r = await s3Request('DELETE', os.bucket, key);
  if (r.status !== 204 && r.status !== 200) throw new Error(`DELETE ${os.bucket}/${key}: HTTP ${r.status}`);
}

/* ------------------------------------------------------------------ tools */

/* The pqcheck tool: $SILT_PQCHECK, then ../shared/tools/pqcheck (which may be a text file
 * holding a path relative to its folder), ../shared/tools/pqtools/pqcheck, and the same
 * under /work/shared (as tests/unit/parquet/pq_test_util.h looks it up). */
export function pqcheckPath() {
  const shared = path.resolve(REPO_ROOT, '../shared/tools');
  const cands = [process.env.SILT_PQCHECK, path.join(shared, 'pqcheck'), path.join(shared, 'pqtools/pqcheck'),
    '/work/shared/tools/pqcheck', '/work/shared/tools/pqtools/pqcheck'];
  for (let c of cands) {
    if (!c) continue;
    try {
      let st = fs.statSync(c);
      if (!st.isFile()) continue;
      if (st.size < 256) {
        // a pointer file: "pqtools/pqcheck"
        const txt = fs.readFileSync(c, 'utf8').trim();
        if (!txt.startsWith('#!') && !/\s/.test(txt)) {
          c = path.resolve(path.dirname(c), txt);
          st = fs.statSync(c);
          if (!st.isFile()) continue;
        }
      }
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next candidate */
    }
  }
  throw new Error('pqcheck not found (../shared/tools/pqcheck, ../shared/tools/pqtools/pqcheck or $SILT_PQCHECK)');
}

/* The pqsql tool (DuckDB over Parquet files), found like pqcheck. */
export function pqsqlPath() {
  return path.join(path.dirname(pqcheckPath()), 'pqsql');
}

/* Rows of SQL over one Parquet file (view t), read by DuckDB with one thread, so that
 * `SELECT ... FROM t` without ORDER BY gives the rows in file order. Timestamps as integer
 * nanoseconds. */
export function pqsql(file, sql) {
  return new Promise((resolve, reject) => {
    execFile(pqsqlPath(), [file, sql, '--ns', '--threads', '1'], { timeout: 120000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`pqsql ${file} ${sql}: ${err.message}\n${stderr}`));
      resolve(stdout.split('\n').filter((l) => l.length).map((l) => JSON.parse(l)));
    });
  });
}

/* Is the order of rows by keys (NULL tags first or NULL tags last, consistently)? Returns
 * null when sorted, else a description of the first pair out of order. */
export function unsortedAt(rows, keys) {
  for (const nullsFirst of [true, false]) {
    const cmp = (a, b) => {
      for (const k of keys) {
        const x = a[k] ?? null;
        const y = b[k] ?? null;
        if (x === y) continue;
        if (x === null) return nullsFirst ? -1 : 1;
        if (y === null) return nullsFirst ? 1 : -1;
        if (typeof x === 'string') return Buffer.compare(Buffer.from(x), Buffer.from(y));
        return x < y ? -1 : 1;
      }
      return 0;
    };
    let bad = -1;
    for (let i = 1; i < rows.length && bad < 0; i++) if (cmp(rows[i - 1], rows[i]) > 0) bad = i;
    if (bad < 0) return null;
    if (!nullsFirst) return `rows ${bad - 1} and ${bad} out of order by (${keys}): ${JSON.stringify(rows[bad - 1])} > ${JSON.stringify(rows[bad])}`;
  }
  return null;
}

/* Run pqcheck on a file: { code, out } (stdout and stderr together). */
export function pqcheck(file, extra = []) {
  const tool = pqcheckPath();
  return new Promise((resolve) => {
    execFile(tool, [...extra, file], { timeout: 120000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/* `silt verify` with a server's storage settings (plus extra args): { code, stdout, stderr }. */
export function siltVerify(srv, extra = []) {
  return runSilt(['verify', ...srv.storageArgs(), ...extra], { timeoutMs: 120000 });
}

/* `silt verify` must say: everything fine (exit 0, N files verified, no orphan). */
export async function assertVerifyClean(assert, srv, what = '') {
  const v = await siltVerify(srv);
  assert.equal(v.code, 0, `silt verify ${what} exit ${v.code} (signal ${v.signal}):\n${v.stdout}\n${v.stderr}`);
  const m = /(\d+) file\(s\) in the catalog: (\d+) verified, 0 missing, 0 with a wrong size, 0 with a wrong checksum; 0 orphan object\(s\)/.exec(v.stdout);
  assert.ok(m, `silt verify ${what}: no clean summary line:\n${v.stdout}\n${v.stderr}`);
  assert.equal(m[1], m[2]);
  return { files: Number(m[1]), out: v.stdout };
}

/* ------------------------------------------------------------------ WAL */

/* The WAL directories of a server (the default <data-dir>/wal when none was given). */
export function walDirsOf(srv) {
  return srv.walDirs.length ? srv.walDirs : [path.join(srv.dataDir, 'wal')];
}

/* Every *.wal segment in every WAL directory of the server (full paths). */
export function walFiles(srv) {
  const out = [];
  for (const d of walDirsOf(srv)) {
    if (!fs.existsSync(d)) continue;
    for (const n of fs.readdirSync(d)) if (n.endsWith('.wal')) out.push(path.join(d, n));
  }
  return out.sort();
}

export { walSegments };

/* ------------------------------------------------------------------ log lines */

/* Every "store: persisted N file(s), R rows, ... WAL persisted through seq S" line after
 * offset: [{ files, rows, seq }]. */
export function persistLines(srv, fromOffset = 0) {
  return [...srv.log(fromOffset).matchAll(/store: persisted (\d+) file\(s\), (\d+) rows, .*WAL persisted through seq (\d+)/g)].map((m) => ({
    files: Number(m[1]),
    rows: Number(m[2]),
    seq: Number(m[3]),
  }));
}

/* The shutdown line "serve: shutdown: persisted R rows to F Parquet file(s) ...; WAL
 * persisted through seq S, K segment(s) left": { rows, files, seq, left } or null. */
export function shutdownLine(srv, fromOffset = 0) {
  const m = /serve: shutdown: persisted (\d+) rows to (\d+) Parquet file\(s\) .*; WAL persisted through seq (\d+), (\d+) segment\(s\) left/.exec(srv.log(fromOffset));
  return m ? { rows: Number(m[1]), files: Number(m[2]), seq: Number(m[3]), left: Number(m[4]) } : null;
}

/* The replay line: { records, segments, rows, skipped, watermark, removed, applied } or
 * null. `records` counts every valid record read, the already persisted (`skipped`) ones
 * included; `applied` = records - skipped went into the buffer. `segments` counts the
 * segments kept (not those removed because everything in them is persisted). */
export function replayLine(srv, fromOffset = 0) {
  const m = /WAL replay: (\d+) records .* from (\d+) segments .*; (\d+) rows in memory, .*; (\d+) record\(s\) already persisted \(catalog watermark (\d+)\), (\d+) segment\(s\) removed/.exec(srv.log(fromOffset));
  if (!m) return null;
  const r = { records: Number(m[1]), segments: Number(m[2]), rows: Number(m[3]), skipped: Number(m[4]), watermark: Number(m[5]), removed: Number(m[6]) };
  r.applied = r.records - r.skipped;
  return r;
}

/* A value of the Prometheus text of /metrics. */
export async function metric(srv, name) {
  const r = await srv.request('GET', '/metrics');
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.text);
  return m ? Number(m[1]) : undefined;
}

/* count(*) of a table. */
export async function count(srv, db, table, where = '') {
  const r = await srv.query(db, `SELECT count(*) FROM "${table}"${where ? ` WHERE ${where}` : ''}`);
  return r[0]['count(*)'];
}
