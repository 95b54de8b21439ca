// SPDX-License-Identifier: MIT
//
// The end-to-end harness: start the real `silt serve` binary on a temporary data directory
// and a free port, talk HTTP to it, kill / stop / restart it, and read its log
// (Redis `start_server`, PostgreSQL `Test::Cluster`).
//
//   const srv = await startServer({ t });           // t: the node:test context (cleanup)
//   await srv.writeLp('db', 'cpu,host=a v=1 1');   // -> { status, headers, text, json() }
//   const rows = await srv.query('db', 'SELECT * FROM cpu');
//   await srv.kill('SIGKILL'); await srv.restart();
//   srv.logContains(/WAL replay: 1 records/, offset)
//
// Every server started here is stopped when its test ends (t.after) and, as a last resort,
// killed when the test process exits. A server that exits on its own with an error, or
// whose log holds a sanitizer report, fails the test in its cleanup. The binary is
// $SILT_BIN, by default build/asan/silt of this work tree (../../build/asan/silt relative
// to tests/e2e). SILT_E2E_KEEP=1 keeps the temporary directories for inspection.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO_ROOT = process.env.SILT_ROOT
  ? path.resolve(process.env.SILT_ROOT)
  : path.resolve(E2E_DIR, '../..');
export const SILT_BIN = process.env.SILT_BIN
  ? path.resolve(process.env.SILT_BIN)
  : path.resolve(E2E_DIR, '../../build/asan/silt');

const HEALTH_TIMEOUT_MS = 20000;

/* Storage configuration of every server the suite starts (make test runs the suite in both):
 *   embedded     (default) object store `file` in the data dir, SQLite catalog
 *   distributed  a real S3 server (Ceph RGW: S3_ENDPOINT, S3_ACCESS_KEY_ID, ...) and a real
 *                PostgreSQL (PG_ADMIN_URL), each server getting its own bucket and database */
export const E2E_CONFIG = process.env.SILT_E2E_CONFIG || 'embedded';
let provisionSeq = 0;

/* A fresh bucket and a fresh PostgreSQL database: the args that point silt at them. */
export async function provisionDistributed() {
  for (const k of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'PG_ADMIN_URL'])
    if (!process.env[k]) throw new Error(`SILT_E2E_CONFIG=distributed needs ${k} (run through mk/with-servers.sh)`);
  const name = `silt-e2e-${process.pid}-${Date.now().toString(36)}-${provisionSeq++}`;
  const region = process.env.S3_REGION || 'us-east-1';
  const key = process.env.S3_ACCESS_KEY_ID, secret = process.env.S3_SECRET_ACCESS_KEY;
  const r = await curl([
    '-X', 'PUT', '--aws-sigv4', `aws:amz:${region}:s3`, '--user', `${key}:${secret}`,
    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-H', 'Content-Length: 0',
    `${process.env.S3_ENDPOINT}/${name}`,
  ]);
  if (r.status !== 200) throw new Error(`cannot create bucket ${name}: HTTP ${r.status} ${r.body}`);
  const db = name.replace(/-/g, '_');
  await new Promise((resolve, reject) =>
    execFile('psql', [process.env.PG_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${db} OWNER silt`],
      (err, _o, stderr) => (err ? reject(new Error(`create database ${db}: ${stderr}`)) : resolve())));
  const pg = new URL(process.env.PG_ADMIN_URL);
  const catalog = `postgresql://silt:silt@${pg.hostname}:${pg.port}/${db}`;
  return {
    bucket: name,
    catalog,
    args: ['--catalog', catalog, '--object-store', 's3', '--bucket', name,
      '--aws-endpoint', process.env.S3_ENDPOINT, '--aws-default-region', region,
      '--aws-access-key-id', key, '--aws-secret-access-key', secret, '--aws-allow-http'],
  };
}
const STOP_TIMEOUT_MS = 20000;
const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer/;

const live = new Set();
process.on('exit', () => {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A port that was free a moment ago (bind port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/* The environment for a silt process: ours without any SILT_* setting (so a developer's
 * shell cannot change what a test runs), plus `extra`. */
export function siltEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SILT_')) env[k] = v;
  env.ASAN_OPTIONS = env.ASAN_OPTIONS || 'detect_leaks=1';
  env.UBSAN_OPTIONS = env.UBSAN_OPTIONS || 'print_stacktrace=1';
  return { ...env, ...extra };
}

/* Run the silt binary to completion: { code, signal, stdout, stderr }. `input` is fed to
 * stdin. Never rejects on a non-zero exit (tests assert the code). */
export function runSilt(args, { input, env = {}, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      SILT_BIN,
      args,
      { env: siltEnv(env), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number' && !err.signal) return reject(err);
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          signal: err ? err.signal ?? null : null,
          stdout,
          stderr,
        });
      },
    );
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/* Run the real curl binary: { status, body, headers } (headers lower-cased). */
export function curl(args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'curl',
      ['-sS', '-D', '-', '-o', '-', ...args],
      { encoding: 'buffer', timeout: 30000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`curl ${args.join(' ')}: ${err.message} ${stderr}`));
        // -D - then -o -: the header blocks (maybe a 100 Continue first), then the body
        let rest = stdout;
        let status = 0;
        const headers = {};
        for (;;) {
          const end = rest.indexOf('\r\n\r\n');
          if (end < 0) break;
          const block = rest.subarray(0, end).toString('latin1').split('\r\n');
          rest = rest.subarray(end + 4);
          status = Number(block[0].split(' ')[1]);
          if (status === 100) continue;
          for (const l of block.slice(1)) {
            const i = l.indexOf(':');
            headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
          }
          break;
        }
        resolve({ status, headers, body: rest.toString('utf8') });
      },
    );
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/* One HTTP request to 127.0.0.1:port. body: string | Buffer | undefined. agent: an
 * http.Agent (keep-alive) or nothing (a fresh connection, closed after the answer).
 * Resolves { status, headers, body (Buffer), text, json() }; rejects on a transport error
 * (refused, reset), with err.code set. `chunked: true` sends the body with
 * Transfer-Encoding: chunked instead of Content-Length. */
export function request(port, { method = 'GET', path: p = '/', headers = {}, body, agent, chunked = false, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined && !chunked && h['Content-Length'] === undefined)
      h['Content-Length'] = Buffer.byteLength(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path: p, headers: h, agent: agent ?? false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: buf,
            text,
            json() {
              try {
                return JSON.parse(text);
              } catch (e) {
                throw new Error(`not JSON (HTTP ${res.statusCode}): ${text.slice(0, 500)}`);
              }
            },
          });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (chunked) {
      const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
      for (let i = 0; i < b.length; i += 65536) req.write(b.subarray(i, i + 65536));
      req.end();
    } else req.end(body);
  });
}

/* The path and query string of a write for one API ('v3', 'v2', 'v1'). */
export function writePath(api, db, params = {}) {
  const q = new URLSearchParams();
  let p;
  if (api === 'v3') {
    p = '/api/v3/write_lp';
    if (db !== undefined) q.set('db', db);
  } else if (api === 'v2') {
    p = '/api/v2/write';
    if (db !== undefined) q.set('bucket', db);
    q.set('org', 'silt');
  } else if (api === 'v1') {
    p = '/write';
    if (db !== undefined) q.set('db', db);
  } else throw new Error(`unknown api ${api}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${p}?${qs}` : p;
}

export class SiltServer {
  constructor(opts) {
    this.opts = opts;
    this.bin = opts.bin ?? SILT_BIN;
    this.args = opts.args ?? [];
    this.env = opts.env ?? {};
    this.root = opts.root; // temp directory we own (removed on cleanup), or null
    this.dataDir = opts.dataDir;
    this.walDirs = opts.walDirs ?? [];
    this.logPath = opts.logPath ?? path.join(this.dataDir, 'silt.log');
    this.port = opts.port;
    this.proc = null;
    this.exit = null; // { code, signal } of the last process
    this.expectedExit = false;
    this.unexpected = []; // descriptions of processes that died on their own
    this.agent = null;
    this.startOffset = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.proc ? this.proc.pid : undefined;
  }

  get running() {
    return this.proc !== null && this.exit === null;
  }

  logOffset() {
    try {
      return fs.statSync(this.logPath).size;
    } catch {
      return 0;
    }
  }

  log(fromOffset = 0) {
    try {
      return fs.readFileSync(this.logPath).subarray(fromOffset).toString('utf8');
    } catch {
      return '';
    }
  }

  logContains(re, fromOffset = 0) {
    const s = this.log(fromOffset);
    return typeof re === 'string' ? s.includes(re) : re.test(s);
  }

  /* Poll the log until re appears (after fromOffset) or the deadline passes. */
  async waitForLog(re, fromOffset = 0, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.logContains(re, fromOffset)) return true;
      await sleep(20);
    }
    throw new Error(`log never matched ${re} within ${timeoutMs} ms; log since offset:\n${this.log(fromOffset).slice(-4000)}`);
  }

  logTail(n = 3000) {
    const s = this.log(this.startOffset);
    return s.length > n ? '...' + s.slice(-n) : s;
  }

  commandLine() {
    const a = ['serve', '--data-dir', this.dataDir, '--http-bind', `127.0.0.1:${this.port}`];
    for (const d of this.walDirs) a.push('--wal-dir', d);
    if (this.storage) a.push(...this.storage.args);
    return a.concat(this.args);
  }

  /* The storage options the server runs with (also what `silt verify` needs). */
  storageArgs() {
    return ['--data-dir', this.dataDir, ...(this.storage ? this.storage.args : [])];
  }

  async start() {
    if (this.running) throw new Error('server already running');
    if (E2E_CONFIG === 'distributed' && !this.storage && !this.opts.noProvision)
      this.storage = this.opts.storage ?? (await provisionDistributed());
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.startOffset = this.logOffset();
    const fd = fs.openSync(this.logPath, 'a');
    const proc = spawn(this.bin, this.commandLine(), {
      stdio: ['ignore', fd, fd],
      env: siltEnv(this.env),
    });
    fs.closeSync(fd);
    this.proc = proc;
    this.exit = null;
    this.expectedExit = false;
    live.add(this);
    this.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        live.delete(this);
        if (this.proc === proc) this.exit = { code, signal };
        if (!this.expectedExit && !this.starting)
          this.unexpected.push(`silt (pid ${proc.pid}) exited on its own: code ${code}, signal ${signal}\n${this.logTail()}`);
        resolve({ code, signal });
      });
    });
    proc.on('error', (e) => this.unexpected.push(`cannot run ${this.bin}: ${e.message}`));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.starting = true; // an exit now is reported by start() itself
    try {
      await this.waitHealthy();
      this.starting = false;
    } catch (e) {
      this.starting = false;
      if (this.running) {
        this.expectedExit = true;
        this.proc.kill('SIGKILL');
        await this.waitExit();
      }
      this.dropAgent();
      throw e;
    }
    return this;
  }

  async waitHealthy(timeoutMs = HEALTH_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(`silt exited during start-up (code ${this.exit.code}, signal ${this.exit.signal}); log:\n${this.logTail()}`);
      }
      try {
        const r = await request(this.port, { path: '/health', timeoutMs: 2000 });
        if (r.status === 200) return;
        last = `HTTP ${r.status} ${r.text}`;
      } catch (e) {
        last = e.code || e.message;
      }
      await sleep(25);
    }
    throw new Error(`silt did not become healthy within ${timeoutMs} ms (last: ${last}); log:\n${this.logTail()}`);
  }

  /* The exit of the current process: { code, signal }. */
  waitExit() {
    if (!this.proc) return Promise.resolve(this.exit);
    return this.exitPromise;
  }

  dropAgent() {
    if (this.agent) this.agent.destroy();
    this.agent = null;
  }

  /* Send a signal; resolves with { code, signal } once the process has exited. */
  async kill(signal = 'SIGKILL') {
    if (!this.running) throw new Error('kill: server is not running');
    this.expectedExit = true;
    this.proc.kill(signal);
    const ex = await this.waitExit();
    this.dropAgent();
    return ex;
  }

  /* The process is going to die on purpose (an injected crash): not an error. */
  expectExit() {
    this.expectedExit = true;
  }

  /* Send a signal without waiting (graceful-shutdown tests). */
  signal(sig) {
    this.expectedExit = true;
    this.proc.kill(sig);
  }

  /* Graceful stop: SIGTERM, wait (20 s, then SIGKILL and fail). Returns { code, signal }
   * and throws if the exit was not clean (code 0, no sanitizer report). */
  async stop() {
    if (!this.running) return this.exit;
    this.expectedExit = true;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const ex = await this.waitExit();
    clearTimeout(timer);
    this.dropAgent();
    this.checkCleanExit(ex);
    return ex;
  }

  checkCleanExit(ex) {
    const log = this.log(this.startOffset);
    if (SANITIZER_RE.test(log)) throw new Error(`sanitizer report in the silt log:\n${this.logTail(6000)}`);
    if (ex.code !== 0) throw new Error(`silt did not exit cleanly after SIGTERM (code ${ex.code}, signal ${ex.signal}); log:\n${this.logTail()}`);
  }

  /* Start again on the same data directory: same port when it is free, else a new one. A
   * running server is stopped gracefully first. */
  async restart() {
    if (this.running) await this.stop();
    if (!(await portIsFree(this.port))) this.port = await freePort();
    return this.start();
  }

  /* Stop (gracefully if running), then check the whole life of this server: no process died
   * on its own, no sanitizer report. Removes the temp directory. */
  async cleanup() {
    let err = null;
    try {
      if (this.running) await this.stop();
    } catch (e) {
      err = e;
    }
    this.dropAgent();
    if (!err && this.unexpected.length) err = new Error(this.unexpected.join('\n'));
    if (!err && SANITIZER_RE.test(this.log(0))) err = new Error(`sanitizer report in the silt log:\n${this.log(0).slice(-6000)}`);
    if (this.root && !process.env.SILT_E2E_KEEP) fs.rmSync(this.root, { recursive: true, force: true });
    else if (this.root) console.error(`# kept ${this.root}`);
    if (err) throw err;
  }

  describeDeath(e) {
    if (this.exit && !this.expectedExit) return new Error(`${e.message}: silt is gone (code ${this.exit.code}, signal ${this.exit.signal}); log:\n${this.logTail()}`);
    return e;
  }

  /* A request to this server, on its keep-alive agent. */
  async request(method, p, opts = {}) {
    try {
      return await request(this.port, { method, path: p, agent: this.agent ?? false, ...opts });
    } catch (e) {
      throw this.describeDeath(e);
    }
  }

  /* POST line protocol. opts: api ('v3' default, 'v2', 'v1'), params (precision,
   * accept_partial, no_sync, ...), headers, chunked. */
  writeLp(db, body, { api = 'v3', params = {}, headers = {}, chunked } = {}) {
    return this.request('POST', writePath(api, db, params), {
      body,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
      chunked,
    });
  }

  /* Write and insist on 204. */
  async write(db, body, opts = {}) {
    const r = await this.writeLp(db, body, opts);
    if (r.status !== 204) throw new Error(`write to ${db} answered HTTP ${r.status}: ${r.text}`);
    return r;
  }

  /* Run SQL, return the raw response. method GET (query string) or POST (JSON body). */
  queryRaw(db, sql, { format, method = 'GET' } = {}) {
    if (method === 'POST') {
      const body = JSON.stringify({ db, q: sql, ...(format ? { format } : {}) });
      return this.request('POST', '/api/v3/query_sql', { body, headers: { 'Content-Type': 'application/json' } });
    }
    const q = new URLSearchParams();
    if (db !== undefined) q.set('db', db);
    if (sql !== undefined) q.set('q', sql);
    if (format) q.set('format', format);
    return this.request('GET', `/api/v3/query_sql?${q}`);
  }

  /* Run SQL and insist on 200: json -> array of rows, jsonl -> array of rows, csv -> text. */
  async query(db, sql, format = 'json') {
    const r = await this.queryRaw(db, sql, { format });
    if (r.status !== 200) throw new Error(`query ${JSON.stringify(sql)} on ${db} answered HTTP ${r.status}: ${r.text}`);
    if (format === 'json') return r.json();
    if (format === 'jsonl') return r.text.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
    return r.text;
  }
}

/* Start silt. opts:
 *   t         node:test context: the server is cleaned up (and checked) when the test ends
 *   args      extra `silt serve` arguments
 *   env       extra environment variables
 *   dataDir   an existing data directory (not removed on cleanup); default: a new temp dir
 *   walDirs   a number N (N directories made in the temp dir) or an array of paths
 *   start     false: build the object without starting the process
 *   bin       another silt binary than SILT_BIN
 */
export async function startServer(opts = {}) {
  let root = null;
  let dataDir = opts.dataDir;
  if (!dataDir) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'silt-e2e-'));
    dataDir = path.join(root, 'data');
    fs.mkdirSync(dataDir);
  }
  let walDirs = opts.walDirs ?? [];
  if (typeof walDirs === 'number') {
    const base = root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'silt-e2e-wal-'));
    if (!root) root = base;
    walDirs = Array.from({ length: walDirs }, (_, i) => path.join(base, `wal-${String.fromCharCode(97 + i)}`));
  }
  const port = opts.port ?? (await freePort());
  const srv = new SiltServer({ ...opts, root, dataDir, walDirs, port });
  if (opts.t) opts.t.after(() => srv.cleanup());
  if (opts.start !== false) {
    try {
      await srv.start();
    } catch (e) {
      if (!opts.t) await srv.cleanup().catch(() => {});
      throw e;
    }
  }
  return srv;
}

/* A silt binary built with SILT_INJECTION (named injection points, SILT_INJECT=...): SILT_BIN
 * when it is one (the asan and debug variants are), else build/asan/silt or build/debug/silt
 * of this tree. Throws, saying how to get one, when there is none. */
export function injectionBin() {
  const has = (p) => {
    try {
      return fs.readFileSync(p).includes('injection point %s');
    } catch {
      return false;
    }
  };
  for (const p of [SILT_BIN, path.join(REPO_ROOT, 'build/asan/silt'), path.join(REPO_ROOT, 'build/debug/silt')]) if (has(p)) return p;
  throw new Error(`no silt binary with injection points (${SILT_BIN} has none): build one with make VARIANT=asan`);
}

/* ------------------------------------------------------------------ WAL files */

/* Segment files (*.wal) of a WAL directory, sorted by name (= by first sequence number). */
export function walSegments(dir) {
  return fs
    .readdirSync(dir)
    .filter((n) => /^\d{20}\.wal$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/* Parse a segment (format in src/wal/README.md): { segId, firstSeq, records: [{ offset, len,
 * seq, bytes }], validBytes }. Stops at the first record that does not fit. */
export const WAL_HEADER_BYTES = 40;
export function parseSegment(buf) {
  if (buf.length < WAL_HEADER_BYTES || buf.subarray(0, 8).toString('latin1') !== 'SILTWAL1') throw new Error('not a WAL segment');
  const segId = buf.readBigUInt64LE(12);
  const firstSeq = buf.readBigUInt64LE(20);
  const records = [];
  let off = WAL_HEADER_BYTES;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    const seq = buf.readBigUInt64LE(off + 8);
    if (len === 0 || off + 16 + len > buf.length) break;
    records.push({ offset: off, len, seq, bytes: 16 + len });
    off += 16 + len;
  }
  return { segId, firstSeq, records, validBytes: off };
}

/* Everything a database answers: its tables, each table's columns and all its rows (as
 * sorted JSON texts, so the order of rows sharing a time does not matter). For comparing a
 * database before and after a restart. */
export async function dumpDb(srv, db) {
  const out = {};
  const tables = (await srv.query(db, 'SHOW TABLES')).filter((t) => t.table_schema === 'iox').map((t) => t.table_name);
  for (const t of tables) {
    const q = `"${t.replace(/"/g, '""')}"`;
    const cols = (await srv.query(db, `SHOW COLUMNS FROM ${q}`)).map((c) => `${c.column_name}:${c.data_type}`);
    const r = await srv.queryRaw(db, `SELECT * FROM ${q}`, { format: 'jsonl' });
    if (r.status !== 200) throw new Error(`SELECT * FROM ${q}: HTTP ${r.status} ${r.text}`);
    const rows = r.text.split('\n').filter((l) => l.length).sort();
    out[t] = { cols, rows };
  }
  return out;
}
