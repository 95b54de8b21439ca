// SPDX-License-Identifier: MIT
//
// DuckDB as the oracle of the differential query tests: the same Parquet files that silt
// persisted, read by an independent engine, answer the equivalent SQL; the test compares the
// rows. One in-process DuckDB (the @duckdb/node-api package, the engine behind
// ../shared/tools/pqsql) runs every query of a test, so hundreds of queries cost milliseconds.
//
//   const o = await openOracle({ m: ['/tmp/x/dbs_1_1_2023-11-14_<id>.parquet', ...] }, { tags: { m: ['host'] } });
//   const rows = await o.query('SELECT host, count(*) AS n FROM m GROUP BY host ORDER BY host');
//   o.close();
//
// Each table is a view over its files that applies silt's merge rule, so the oracle sees what
// silt must answer: rows of one series (table + every tag) and time in several files are one
// row, each field taking the value of the newest file that has it (file ids are UUIDv7: the
// file names sort in creation order). Values come back as silt's JSON renders them: time as
// silt's time text (RFC 3339 without 'Z'), integers as numbers (the tests keep them within
// 2^53), NULL columns left out of the row object.

import { DuckDBInstance, DuckDBTypeId as T } from '@duckdb/node-api';
import { nsToTime } from './util.mjs';

const q = (name) => `"${name.replace(/"/g, '""')}"`;
const lit = (s) => `'${s.replace(/'/g, "''")}'`;

function convert(type, v) {
  if (v === null || v === undefined) return undefined;
  switch (type.typeId) {
    case T.BOOLEAN: return Boolean(v);
    case T.TINYINT: case T.SMALLINT: case T.INTEGER: case T.BIGINT:
    case T.UTINYINT: case T.USMALLINT: case T.UINTEGER: case T.UBIGINT: case T.HUGEINT: {
      const b = BigInt(v);
      if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) return b.toString();
      return Number(b);
    }
    case T.FLOAT: case T.DOUBLE: return Number(v);
    case T.VARCHAR: return String(v);
    case T.TIMESTAMP_NS: return nsToTime(v.nanos);
    case T.TIMESTAMP: case T.TIMESTAMP_TZ: return nsToTime(v.micros * 1000n);
    case T.TIMESTAMP_MS: return nsToTime(v.millis * 1000000n);
    case T.TIMESTAMP_S: return nsToTime(v.seconds * 1000000000n);
    default: return String(v);
  }
}

/* tables: { name: [parquet file paths] }; opts.tags: { name: [tag columns] } (the series key). */
export async function openOracle(tables, { tags = {}, threads = 1 } = {}) {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`SET threads = ${threads}`);
  for (const [name, files] of Object.entries(tables)) {
    const src = `read_parquet([${[...files].sort().map(lit).join(', ')}], filename = true, union_by_name = true)`;
    const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRows().map((r) => String(r[0])).filter((c) => c !== 'filename');
    const key = [...(tags[name] ?? []), 'time'];
    const fields = cols.filter((c) => !key.includes(c));
    const agg = fields.map((f) => `arg_max(${q(f)}, filename) FILTER (WHERE ${q(f)} IS NOT NULL) AS ${q(f)}`);
    await conn.run(`CREATE VIEW ${q(name)} AS SELECT ${[...key.map(q), ...agg].join(', ')} FROM ${src} GROUP BY ALL`);
  }
  return {
    /* Rows of sql as objects in silt's JSON shape. */
    async query(sql) {
      const r = await conn.runAndReadAll(sql);
      const names = r.columnNames();
      const types = r.columnTypes();
      return r.getRows().map((row) => {
        const o = {};
        row.forEach((v, i) => {
          const c = convert(types[i], v);
          if (c !== undefined) o[names[i]] = c;
        });
        return o;
      });
    },
    close() {
      try {
        conn.closeSync();
        inst.closeSync();
      } catch {
        /* already closed */
      }
    },
  };
}

/* silt's JSON rows with NULL (absent or null) values left out, as the oracle gives them. */
export const dropNulls = (rows) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== undefined)));
