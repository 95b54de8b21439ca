// SPDX-License-Identifier: MIT
//
// Small helpers shared by the end-to-end tests: time conversions in silt's query format,
// gzip, and row sorting.

import zlib from 'node:zlib';

const NS = 1000000000n;

/* silt's JSON/CSV time text for a nanosecond timestamp: RFC 3339 without 'Z', the fraction
 * trimmed to 3, 6 or 9 digits (none when zero). */
export function nsToTime(ns) {
  ns = BigInt(ns);
  let s = ns / NS;
  let f = ns % NS;
  if (f < 0n) {
    f += NS;
    s -= 1n;
  }
  const base = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  if (f === 0n) return base;
  const nine = f.toString().padStart(9, '0');
  if (f % 1000000n === 0n) return `${base}.${nine.slice(0, 3)}`;
  if (f % 1000n === 0n) return `${base}.${nine.slice(0, 6)}`;
  return `${base}.${nine}`;
}

/* The nanosecond timestamp of silt's time text ("2023-11-14T22:13:20.123456789"). */
export function timeToNs(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z?$/.exec(text);
  if (!m) throw new Error(`not a silt time: ${text}`);
  const ms = Date.parse(`${m[1]}Z`);
  return BigInt(ms) * 1000000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

export const nowNs = () => BigInt(Date.now()) * 1000000n;

export const gzip = (s) => zlib.gzipSync(Buffer.isBuffer(s) ? s : Buffer.from(s));

/* Rows sorted by the given keys (strings compare as strings, others as numbers). */
export function sortRows(rows, ...keys) {
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const x = a[k];
      const y = b[k];
      if (x === y) continue;
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      return x < y ? -1 : 1;
    }
    return 0;
  });
}
