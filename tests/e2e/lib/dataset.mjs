// SPDX-License-Identifier: MIT
//
// A mixed data set for the persistence tests: several tables, several UTC days (before 1970
// and in 2200 too), all five field types with their extreme values, tags and names with
// Unicode and line-protocol escapes, rows without some tags, and an overwrite (last write
// wins) inside the data. Deterministic, so a test can compute what every query must answer.
//
//   const ds = mixedDataset('pa');
//   for (const b of ds.batches) await srv.write(ds.db, b, NS);
//   ds.rows            // distinct rows (series, time) written
//   ds.tableDays       // Map table -> Set of UTC day numbers: one Parquet file each

const NS_PER_DAY = 86400n * 1000000000n;
/* Write options for nanosecond timestamps (the v3 default, precision=auto, guesses the unit
 * from the magnitude: 1000 would be seconds). */
export const NS = { params: { precision: 'ns' } };
export const BASE = 1700000000000000000n; // 2023-11-14T22:13:20Z

/* The UTC day number of a nanosecond timestamp (floor, so -1 ns is day -1). */
export function dayOf(ns) {
  ns = BigInt(ns);
  let d = ns / NS_PER_DAY;
  if (ns < 0n && d * NS_PER_DAY !== ns) d -= 1n;
  return Number(d);
}

/* "YYYY-MM-DD" of a day number, as in the object keys. */
export function dayText(day) {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

/* Line-protocol escapes. */
export const escMeasurement = (s) => s.replace(/\\/g, '\\\\').replace(/[, ]/g, (c) => `\\${c}`);
export const escKey = (s) => s.replace(/\\/g, '\\\\').replace(/[,= ]/g, (c) => `\\${c}`);
export const escString = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function mixedDataset(db, { perDay = 50 } = {}) {
  const batches = [];
  const tableDays = new Map();
  const keys = new Set();
  let lines = [];
  const add = (table, tags, fields, ns) => {
    const t = [escMeasurement(table)];
    for (const [k, v] of Object.entries(tags)) if (v !== undefined) t.push(`${escKey(k)}=${escKey(v)}`);
    const f = Object.entries(fields).map(([k, v]) => `${escKey(k)}=${v}`);
    lines.push(`${t.join(',')} ${f.join(',')} ${ns}`);
    keys.add(`${table}\u0000${JSON.stringify(Object.entries(tags).filter(([, v]) => v !== undefined).sort())}\u0000${ns}`);
    if (!tableDays.has(table)) tableDays.set(table, new Set());
    tableDays.get(table).add(dayOf(ns));
  };
  const flush = () => {
    if (lines.length) batches.push(lines.join('\n'));
    lines = [];
  };

  // cpu: 4 hosts x 2 days x perDay times, all five field types in every row
  const regions = ['東京', 'Zürich', 'São Paulo', '🚀 mars'];
  for (let day = 0; day < 2; day++) {
    for (let i = 0; i < perDay; i++) {
      for (let h = 0; h < 4; h++) {
        const n = day * perDay + i;
        const ns = BASE + BigInt(day) * NS_PER_DAY + BigInt(i) * 60000000000n + BigInt(h);
        add('cpu', { host: `h${h}`, region: regions[h] }, {
          usage: `${(n * 0.37 + h).toFixed(3)}`,
          n: `${n * 1000 - 7 * h}i`,
          u: `${n * 3 + h}u`,
          msg: escString(`row ${n} of h${h}: ${regions[h]} "q" \\ end`),
          ok: (n + h) % 3 ? 't' : 'false',
        }, ns);
      }
    }
    flush();
  }
  // an overwrite of one field of an existing cpu row (a later request: last write wins)
  lines.push(`cpu,host=h1,region=${escKey(regions[1])} usage=-1.5 ${BASE + 1n}`);
  flush();

  // température: Unicode table, tag and field names
  for (let day = 0; day < 1; day++) {
    for (let i = 0; i < 20; i++) {
      const ns = BASE + BigInt(day) * NS_PER_DAY + BigInt(i) * 1000000000n;
      add('température', { 城市: i % 2 ? '東京' : 'Zürich' }, { 値: `${20 + i / 4}`, état: i % 2 ? 'true' : 'f' }, ns);
    }
  }
  flush();

  // escapes in table, tag and field names and values
  for (let i = 0; i < 5; i++) {
    add('weird name,x', { 't=k': `v,${i}`, 'sp ace': 'a b' }, { 'f k': escString(`str with "quotes" and \\ backslash ${i}`), 'b=1': 't' }, BASE + BigInt(i));
  }
  flush();

  // extreme values; times before 1970 and in 2200; rows without some or all tags. (Times
  // near the int64 limits are in 30-merge: DuckDB, one of pqcheck's readers, cannot read
  // them.)
  const edge = [
    [{ host: 'max' }, BASE],
    [{ host: 'min' }, -1n],
    [{ host: 'pre' }, -86400000000001n],
    [{}, 7258118400000000000n],
    [{ host: 'old', z: '🚀' }, -86400000000002n],
    [{ z: 'only-z' }, BASE + 5n],
  ];
  const vals = [
    { i: '9223372036854775807i', u: '18446744073709551615u', f: '1.7976931348623157e308', s: escString('max'), b: 't' },
    { i: '-9223372036854775808i', u: '0u', f: '-0.0', s: '""', b: 'f' },
    { i: '0i', u: '1u', f: '5e-324', s: escString('tiny'), b: 'TRUE' },
    { i: '-1i', u: '9223372036854775808u', f: '-1.7976931348623157e308', s: escString('far future'), b: 'FALSE' },
    { i: '1i', u: '2u', f: '2.5', s: escString('🚀 old'), b: 'True' },
    { i: '2i', u: '3u', f: '1e-300', s: escString('tags: z only'), b: 'False' },
  ];
  edge.forEach(([tags, ns], k) => add('edge', tags, vals[k], ns));
  flush();

  return {
    db,
    batches,
    tableDays,
    rows: keys.size,
    files: [...tableDays.values()].reduce((a, s) => a + s.size, 0),
    tables: [...tableDays.keys()].sort(),
  };
}

/* A table of n points per series in [start, start + n*step), series s0..s(k-1), with
 * values derived from (series, i): v float, n int, tag s. Returns { lines, points } where
 * points are { s, i, ns, v, n }. */
export function seriesPoints({ table = 'tp', series = 4, n = 100, start = BASE, step = 60000000000n, from = 0 } = {}) {
  const points = [];
  for (let i = from; i < from + n; i++) {
    for (let s = 0; s < series; s++) {
      const ns = BigInt(start) + BigInt(i) * BigInt(step) + BigInt(s);
      points.push({ s: `s${s}`, i, ns, v: i * 10 + s + 0.5, n: i * 7 - s });
    }
  }
  const lines = points.map((p) => `${table},s=${p.s} v=${p.v},n=${p.n}i ${p.ns}`);
  return { lines, points };
}
