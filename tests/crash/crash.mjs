// SPDX-License-Identifier: MIT
//
// The crash test loop (STYLE.md "Crash"): concurrent writers record every acknowledged
// batch on the client side; the server is killed with SIGKILL at a random moment of each
// round and restarted on the same data directory; at the end every acknowledged point must
// be queryable with its exact values, no point may appear twice, nothing that was never sent
// may appear, and every batch (one request = one WAL record) is all there or not at all.
//
// A kill -9 keeps the page cache, so this tests the acknowledgement protocol (ack only after
// the WAL write, replay of everything acknowledged), not fsync placement (that is the crash
// VFS's job in the unit tests).
//
// Points: writer w sends points n = 0, 1, 2, ... of series s = n % 5:
//   crash,w=w<w>,s=s<s> v=<n + 0.25>,i=<7n - 3>i,str="p<w>-<n>" <BASE + n * 1000>
// (plus, optionally, pad="xxx...") so (writer, n) determines the series, the time and every
// value, and (series, time) is unique per point. The seed is printed; SILT_CRASH_SEED=<seed> replays the same schedule
// of batch sizes, retries and kill delays.

import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, request, sleep } from '../e2e/lib/server.mjs';
import { timeToNs } from '../e2e/lib/util.mjs';

const BASE = 1700000000000000000n;
const DB = 'crashdb';
const N_SERIES = 5;

/* mulberry32: a small seeded PRNG, so a failing schedule can be replayed */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const line = (w, n, pad = '') => `crash,w=w${w},s=s${n % N_SERIES} v=${n + 0.25},i=${7 * n - 3}i,str="p${w}-${n}"${pad} ${BASE + BigInt(n) * 1000n}`;

class Writer {
  constructor(w, rng, srv, opts) {
    this.w = w;
    this.rng = rng;
    this.srv = srv;
    this.opts = opts;
    this.next = 0; // next point number
    this.acked = []; // [start, end) ranges
    this.maybe = []; // ranges sent without a 2xx answer
    this.pending = null; // a failed batch to retry
    this.unexpected = []; // HTTP statuses other than 204
    this.attempts = 0;
    this.failures = 0;
  }

  batch() {
    if (this.pending && this.rng() < 0.5) {
      const b = this.pending;
      this.pending = null;
      return b;
    }
    this.pending = null;
    const size = this.opts.minBatch + Math.floor(this.rng() * (this.opts.maxBatch - this.opts.minBatch + 1));
    const b = { start: this.next, end: this.next + size };
    this.next += size;
    return b;
  }

  /* Write batches until a request fails (the server was killed) or the round is over. */
  async round(state) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // this writer's connection
    try {
      while (!state.over) {
        const b = this.batch();
        const lines = [];
        const pad = this.opts.padBytes ? `,pad="${'x'.repeat(this.opts.padBytes)}"` : '';
        for (let n = b.start; n < b.end; n++) lines.push(line(this.w, n, pad));
        this.attempts++;
        let status;
        try {
          const r = await request(this.srv.port, {
            method: 'POST',
            path: `/api/v3/write_lp?db=${DB}&precision=ns`,
            body: lines.join('\n'),
            agent,
            timeoutMs: 30000,
          });
          status = r.status;
          if (status !== 204) this.unexpected.push(`writer ${this.w} batch [${b.start}, ${b.end}): HTTP ${status} ${r.text.slice(0, 300)}`);
        } catch (e) {
          status = e.code || e.message;
        }
        if (status === 204) {
          this.acked.push(b);
          if (this.opts.pauseMs) await sleep(this.opts.pauseMs);
        } else {
          this.failures++;
          this.maybe.push(b);
          this.pending = b;
          return; // the server is gone: wait for the next round
        }
      }
    } finally {
      agent.destroy();
    }
  }
}

/* sent[n]: 0 never sent, 1 sent without an answer, 2 acknowledged */
function sentMap(wr) {
  const m = new Uint8Array(wr.next);
  for (const r of wr.maybe) m.fill(1, r.start, r.end);
  for (const r of wr.acked) m.fill(2, r.start, r.end);
  return m;
}

/* Run the crash loop. opts: kills (>= 20), writers (4), walDirs (0: the default one
 * directory, 2: replication), minBatch, maxBatch, minDelayMs, maxDelayMs, pauseMs (between
 * a writer's requests: bounds the data on a fast machine), padBytes (a string field `pad` of
 * that many bytes in every point, not checked: more bytes per point), args (more `silt
 * serve` arguments), persisting (the args make the server persist to Parquet while it
 * runs: the WAL then holds only what is not persisted, and kills also hit persists). */
export async function crashTest(t, opts = {}) {
  const o = { kills: 20, writers: 4, walDirs: 0, minBatch: 50, maxBatch: 500, minDelayMs: 50, maxDelayMs: 400, pauseMs: 0, args: [], persisting: false, ...opts };
  const seed = process.env.SILT_CRASH_SEED ? Number(process.env.SILT_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`seed ${seed} (SILT_CRASH_SEED=${seed} replays this schedule)`);
  const rng = prng(seed);
  const srv = await startServer({ t, walDirs: o.walDirs || undefined, args: o.args });
  let watermark = 0;
  let commits = 0; // rounds after which the catalog's watermark had moved: persists committed
  const writers = Array.from({ length: o.writers }, (_, w) => new Writer(w, prng(seed + 1 + w), srv, o));
  const ctx = `(seed ${seed})`;
  let replays = 0;

  for (let round = 0; round < o.kills; round++) {
    if (round > 0) {
      const off = srv.logOffset();
      await srv.restart();
      // every acknowledged batch is one replayed record; unacknowledged ones may be too
      const m = /WAL replay: (\d+) records .*; (\d+) record\(s\) already persisted \(catalog watermark (\d+)\)/.exec(srv.log(off));
      assert.ok(m, `no replay line in the log ${ctx}`);
      const n = Number(m[1]);
      const acked = writers.reduce((a, w) => a + w.acked.length, 0);
      const tried = writers.reduce((a, w) => a + w.attempts, 0);
      if (!o.persisting) assert.ok(n >= acked && n <= tried, `round ${round}: replayed ${n} records, but ${acked} were acknowledged and ${tried} sent ${ctx}`);
      else {
        // what is persisted left the WAL: the records left are at most those sent, and the
        // watermark (the catalog's, committed with the files) never goes back
        assert.ok(n <= tried, `round ${round}: ${n} records in the WAL, but only ${tried} sent ${ctx}`);
        const wm = Number(m[3]);
        assert.ok(wm >= watermark && wm <= tried, `round ${round}: watermark ${wm} after ${watermark}, ${tried} records sent ${ctx}`);
        if (wm > watermark) commits++;
        watermark = wm;
      }
      replays++;
    }
    const state = { over: false };
    const tasks = writers.map((w) => w.round(state));
    await sleep(o.minDelayMs + rng() * (o.maxDelayMs - o.minDelayMs));
    await srv.kill('SIGKILL');
    state.over = true;
    await Promise.all(tasks);
  }
  await srv.restart();
  assert.equal(replays, o.kills - 1);

  const unexpected = writers.flatMap((w) => w.unexpected);
  assert.deepEqual(unexpected, [], `a live server answered a write with something else than 204 ${ctx}`);
  const totalAcked = writers.reduce((a, w) => a + w.acked.reduce((x, r) => x + r.end - r.start, 0), 0);
  assert.ok(totalAcked > 0, 'nothing was acknowledged: the test proved nothing');
  t.diagnostic(
    `${o.kills} kills; acknowledged ${writers.reduce((a, w) => a + w.acked.length, 0)} batches (${totalAcked} points), ` +
      `${writers.reduce((a, w) => a + w.failures, 0)} batches without an answer`,
  );

  // every point of every writer, checked against the client-side record
  let totalPresent = 0;
  for (const wr of writers) {
    const r = await srv.queryRaw(DB, `SELECT s, v, i, str, time FROM crash WHERE w = 'w${wr.w}'`, { format: 'jsonl' });
    assert.equal(r.status, 200, r.text.slice(0, 500));
    const rows = r.text.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
    const sent = sentMap(wr);
    const seen = new Map(); // n -> count
    const perSeries = new Map();
    for (const row of rows) {
      const n = Number((timeToNs(row.time) - BASE) / 1000n);
      seen.set(n, (seen.get(n) ?? 0) + 1);
      assert.deepEqual(
        row,
        { s: `s${n % N_SERIES}`, v: n + 0.25, i: 7 * n - 3, str: `p${wr.w}-${n}`, time: row.time },
        `writer ${wr.w} point ${n} has wrong values ${ctx}`,
      );
      assert.ok(n >= 0 && n < sent.length && sent[n] > 0, `writer ${wr.w} point ${n} was never sent ${ctx}`);
      perSeries.set(row.s, (perSeries.get(row.s) ?? 0) + 1);
    }
    const dups = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
    assert.deepEqual(dups.slice(0, 20), [], `writer ${wr.w}: points returned more than once ${ctx}`);
    for (const b of wr.acked) {
      for (let n = b.start; n < b.end; n++) {
        if (!seen.has(n)) assert.fail(`writer ${wr.w}: acknowledged point ${n} (batch [${b.start}, ${b.end})) is missing ${ctx}`);
      }
    }
    // one request is one WAL record: each unacknowledged batch is all there or not at all
    for (const b of wr.maybe) {
      let k = 0;
      for (let n = b.start; n < b.end; n++) k += seen.has(n) ? 1 : 0;
      assert.ok(k === 0 || k === b.end - b.start, `writer ${wr.w}: batch [${b.start}, ${b.end}) is partly present (${k} points) ${ctx}`);
    }
    // count(*) agrees with the distinct points, per writer and per series
    const cnt = await srv.query(DB, `SELECT count(*) FROM crash WHERE w = 'w${wr.w}'`);
    assert.deepEqual(cnt, [{ 'count(*)': seen.size }], `writer ${wr.w}: count(*) differs from the distinct points ${ctx}`);
    // (with persisting, each query reads every file: the per-series counts of one writer)
    for (let s = 0; s < N_SERIES && (!o.persisting || wr.w === 0); s++) {
      const c = await srv.query(DB, `SELECT count(*) FROM crash WHERE w = 'w${wr.w}' AND s = 's${s}'`);
      let distinct = 0;
      for (const n of seen.keys()) if (n % N_SERIES === s) distinct++;
      assert.deepEqual(c, [{ 'count(*)': distinct }], `writer ${wr.w} series s${s}: count(*) ${ctx}`);
    }
    totalPresent += seen.size;
  }
  assert.deepEqual(await srv.query(DB, 'SELECT count(*) FROM crash'), [{ 'count(*)': totalPresent }]);

  // with replication, the two copies agree after the last restart
  return { srv, writers, seed, commits };
}
