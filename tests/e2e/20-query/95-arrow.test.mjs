// SPDX-License-Identifier: MIT
//
// format=arrow (a silt extension): /api/v3/query_sql and /api/v3/query_influxql answer an
// Arrow IPC stream (application/vnd.apache.arrow.stream), read here by the apache-arrow
// package, an independent reader (the one the InfluxDB 3 JavaScript client reads Flight data
// with). Every cell is compared with the same query's format=json answer: the five field
// types, tags, NULLs, an aggregate with GROUP BY, selector structs (JSON text), an empty
// result, and 150,000 rows (record batches of 8,192 rows, counted). The Arrow types
// (Float64, Int64, Uint64, Bool, Utf8, Timestamp<NANOSECOND> without time zone) and the
// iox::column::type field metadata are checked as InfluxDB 3 sets them; past
// --max-query-result-size the answer is 413, as for the other formats. Where the shared
// Parquet tools have installed parquet-wasm, arrow-rs (the Rust reader, which verifies the
// FlatBuffers metadata, alignment included) reads the same streams too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { tableFromIPC, MessageReader, MessageHeader } from 'apache-arrow';
import { startServer, REPO_ROOT } from '../lib/server.mjs';
import { nsToTime } from '../lib/util.mjs';

const DB = 'arrowdb';
const NS = { params: { precision: 'ns' } };
const DATA = [
  'm,host=a,region=eu f=1.5,i=-7i,u=18446744073709551615u,b=true,s="hello" 1700000000000000000',
  'm,host=b,region=us f=-2.25,i=9007199254740991i,u=0u,b=false,s="quote \\"x\\", comma" 1700000000000000001',
  'm,host=a f=0,s="" 1700000000123456789',
  'm,host=c,region=eu i=42i,b=true 1700000060000000000',
  'm,host=b,region=us u=5u,s="café € 😀\\nline" 1700000120000000000',
].join('\n');
const BIG_ROWS = 150000; // 18 batches of 8,192 and one of 2,544
const BIG_BATCHES = [...Array(18).fill(8192), BIG_ROWS - 18 * 8192];

let srv;
before(async () => {
  srv = await startServer();
  await srv.write(DB, DATA, NS);
  for (let from = 0; from < BIG_ROWS; from += 50000) {
    const lines = [];
    for (let i = from; i < from + 50000 && i < BIG_ROWS; i++)
      lines.push(i % 7 ? `big,t=k${i % 3} v=${i}i,w=${i / 4} ${1600000000000000000n + BigInt(i) * 1000n}`
        : `big,t=k${i % 3} v=${i}i ${1600000000000000000n + BigInt(i) * 1000n}`);
    await srv.write(DB, lines.join('\n'), NS);
  }
});
after(async () => {
  await srv.cleanup();
});

const sqlReq = (q, format) => srv.queryRaw(DB, q, { format });
const iqlReq = (q, format) =>
  srv.request('GET', `/api/v3/query_influxql?${new URLSearchParams({ db: DB, q, format })}`);

/* The messages of a stream, as apache-arrow's MessageReader splits it: a schema first, then
 * the row count of each record batch. */
function batchRows(body) {
  const reader = new MessageReader(body);
  const msgs = [];
  for (let r = reader.next(); !r.done; r = reader.next()) {
    msgs.push(r.value);
    reader.readMessageBody(r.value.bodyLength); // bodies are skipped, not parsed as messages
  }
  assert.equal(msgs[0].headerType, MessageHeader.Schema);
  assert.ok(msgs.slice(1).every((m) => m.headerType === MessageHeader.RecordBatch));
  return msgs.slice(1).map((m) => Number(m.header().length));
}

/* Read an Arrow answer: the table, its batch sizes, and its rows as the json format writes
 * them (NULLs left out, timestamps as RFC 3339 without Z from the exact nanoseconds,
 * 64-bit integers as numbers). */
function readArrow(r) {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['content-type'], 'application/vnd.apache.arrow.stream');
  const batches = batchRows(r.body);
  const table = tableFromIPC(r.body);
  const rows = Array.from({ length: table.numRows }, () => ({}));
  for (const field of table.schema.fields) {
    const vec = table.getChild(field.name);
    const ts = String(field.type) === 'Timestamp<NANOSECOND>';
    let i = 0;
    for (const d of vec.data) {
      for (let j = 0; j < d.length; j++, i++) {
        if (!vec.isValid(i)) continue;
        let v = ts ? nsToTime(d.values[d.offset + j]) : vec.get(i);
        if (typeof v === 'bigint') v = Number(v); // as JSON.parse reads the json answer
        rows[i][field.name] = v;
      }
    }
  }
  return { table, batches, rows };
}

const types = (table) => Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
const ioxTypes = (table) =>
  Object.fromEntries(table.schema.fields.map((f) => [f.name, f.metadata.get('iox::column::type') ?? null]));

test('query_sql: every type, tag and NULL, cell for cell as the json answer', async () => {
  const q = 'SELECT * FROM m ORDER BY time';
  const { table, batches, rows } = readArrow(await sqlReq(q, 'arrow'));
  assert.deepEqual(rows, (await sqlReq(q, 'json')).json());
  assert.equal(rows.length, 5);
  assert.deepEqual(batches, [5]);
  assert.deepEqual(types(table), {
    b: 'Bool', f: 'Float64', host: 'Utf8', i: 'Int64', region: 'Utf8', s: 'Utf8',
    time: 'Timestamp<NANOSECOND>', u: 'Uint64',
  });
  assert.equal(table.schema.fields.find((f) => f.name === 'time').type.timezone, null);
  assert.ok(table.schema.fields.every((f) => f.nullable));
  assert.deepEqual(ioxTypes(table), {
    b: 'iox::column_type::field::boolean',
    f: 'iox::column_type::field::float',
    host: 'iox::column_type::tag',
    i: 'iox::column_type::field::integer',
    region: 'iox::column_type::tag',
    s: 'iox::column_type::field::string',
    time: 'iox::column_type::timestamp',
    u: 'iox::column_type::field::uinteger',
  });
  // exact 64-bit values, beyond what JSON numbers hold
  assert.equal(table.getChild('u').get(0), 18446744073709551615n);
  assert.equal(table.getChild('i').get(1), 9007199254740991n);
  assert.equal(table.getChild('time').data[0].values[2], 1700000000123456789n);
  assert.equal(table.getChild('s').get(4), 'café € 😀\\nline'); // \n is no escape in line protocol
  assert.equal(table.getChild('s').get(2), '');
  assert.equal(table.getChild('b').get(2), null);
  // POST with a JSON body says format the same way
  const post = await srv.queryRaw(DB, q, { format: 'arrow', method: 'POST' });
  assert.deepEqual(readArrow(post).rows, rows);
});

test('query_sql: GROUP BY and aggregates; aliases and expressions; selector structs', async () => {
  const q = 'SELECT host, count(*) AS n, avg(f) AS af, sum(u) AS su, max(time) AS t FROM m GROUP BY host ORDER BY host';
  const { table, rows } = readArrow(await sqlReq(q, 'arrow'));
  assert.deepEqual(rows, (await sqlReq(q, 'json')).json());
  assert.deepEqual(types(table), { host: 'Utf8', n: 'Int64', af: 'Float64', su: 'Uint64', t: 'Timestamp<NANOSECOND>' });
  assert.deepEqual(ioxTypes(table), { host: 'iox::column_type::tag', n: null, af: null, su: null, t: null });

  const q2 = "SELECT f AS value, f * 2 AS twice, host || '!' AS bang, region FROM m WHERE f IS NOT NULL ORDER BY time";
  const r2 = readArrow(await sqlReq(q2, 'arrow'));
  assert.deepEqual(r2.rows, (await sqlReq(q2, 'json')).json());
  assert.deepEqual(ioxTypes(r2.table), {
    value: 'iox::column_type::field::float', twice: null, bang: null, region: 'iox::column_type::tag',
  });

  // a selector's struct travels as JSON text (Utf8), as it does in every text format
  const q3 = 'SELECT host, selector_max(f, time) AS sm FROM m GROUP BY host ORDER BY host';
  const r3 = readArrow(await sqlReq(q3, 'arrow'));
  assert.equal(types(r3.table).sm, 'Utf8');
  const json3 = (await sqlReq(q3, 'json')).json();
  assert.deepEqual(r3.rows.map((r) => (r.sm === undefined ? r : { ...r, sm: JSON.parse(r.sm) })), json3);
  assert.ok(json3.some((r) => r.sm === undefined)); // host c has no f: a NULL struct
});

test('query_sql: an empty result is the schema alone', async () => {
  const q = "SELECT host, f, time FROM m WHERE host = 'nowhere'";
  const r = await sqlReq(q, 'arrow');
  const { table, batches, rows } = readArrow(r);
  assert.deepEqual(rows, []);
  assert.deepEqual(batches, []);
  assert.deepEqual(types(table), { host: 'Utf8', f: 'Float64', time: 'Timestamp<NANOSECOND>' });
  assert.deepEqual((await sqlReq(q, 'json')).json(), []);
  // the stream ends with the end-of-stream marker
  assert.deepEqual([...r.body.subarray(r.body.length - 8)], [255, 255, 255, 255, 0, 0, 0, 0]);
});

test('query_sql: 150,000 rows come in record batches of 8,192, every cell as json', async () => {
  const q = 'SELECT t, v, w, time FROM big ORDER BY time';
  const { table, batches, rows } = readArrow(await sqlReq(q, 'arrow'));
  assert.deepEqual(batches, BIG_BATCHES);
  assert.equal(table.numRows, BIG_ROWS);
  const json = (await sqlReq(q, 'json')).json();
  assert.equal(json.length, BIG_ROWS);
  for (let k = 0; k < BIG_ROWS; k++) if (!(k % 7) || k % 9973 === 0) assert.deepEqual(rows[k], json[k], `row ${k}`);
  assert.deepEqual(rows, json);
});

test('query_influxql: the table shape, cell for cell as the json answer, with its metadata', async () => {
  const q = 'SELECT * FROM m';
  const { table, rows } = readArrow(await iqlReq(q, 'arrow'));
  assert.deepEqual(rows, (await iqlReq(q, 'json')).json());
  assert.equal(rows.length, 5);
  const t = types(table);
  assert.equal(t['iox::measurement'], 'Utf8');
  assert.equal(t.time, 'Timestamp<NANOSECOND>');
  assert.deepEqual([t.b, t.f, t.i, t.s, t.u], ['Bool', 'Float64', 'Int64', 'Utf8', 'Uint64']);
  const md = ioxTypes(table);
  assert.equal(md['iox::measurement'], null);
  assert.equal(md.time, 'iox::column_type::timestamp');
  assert.equal(md.f, 'iox::column_type::field::float');
  assert.equal(md.u, 'iox::column_type::field::uinteger');
  assert.equal(md.b, 'iox::column_type::field::boolean');
  assert.equal(md.host, 'iox::column_type::tag');

  const q2 = 'SELECT mean(f), count(i) FROM m GROUP BY host';
  const r2 = readArrow(await iqlReq(q2, 'arrow'));
  assert.deepEqual(r2.rows, (await iqlReq(q2, 'json')).json());
  const md2 = ioxTypes(r2.table);
  assert.equal(md2.host, 'iox::column_type::tag');
  assert.equal(md2.mean, null);
  assert.equal(md2.count, null);

  const q3 = 'SELECT v FROM big';
  const r3 = readArrow(await iqlReq(q3, 'arrow'));
  assert.deepEqual(r3.batches, BIG_BATCHES);
  assert.deepEqual(r3.rows, (await iqlReq(q3, 'json')).json());
  assert.equal(ioxTypes(r3.table).v, 'iox::column_type::field::integer');
});

test('query_influxql: an empty result is a schema without fields', async () => {
  const { table, batches, rows } = readArrow(await iqlReq('SELECT * FROM nosuch', 'arrow'));
  assert.deepEqual(rows, []);
  assert.deepEqual(batches, []);
  assert.equal(table.schema.fields.length, 0);
  assert.deepEqual((await iqlReq('SELECT * FROM nosuch', 'json')).json(), []);
});

test('--max-query-result-size holds for arrow: 413 past it, on both endpoints', async (t) => {
  const small = await startServer({ t, args: ['--max-query-result-size', '1024'] });
  await small.write('lim', Array.from({ length: 200 }, (_, i) => `big v=${i}i ${i + 10}`).join('\n'));
  const sql = await small.queryRaw('lim', 'SELECT * FROM big', { format: 'arrow' });
  assert.equal(sql.status, 413, sql.text);
  assert.match(sql.json().error, /1024/);
  const iql = await small.request('GET', `/api/v3/query_influxql?${new URLSearchParams({ db: 'lim', q: 'SELECT * FROM big', format: 'arrow' })}`);
  assert.equal(iql.status, 413, iql.text);
  assert.match(iql.json().error, /1024/);
  const ok = await small.queryRaw('lim', 'SELECT v FROM big LIMIT 2', { format: 'arrow' });
  assert.deepEqual(readArrow(ok).rows, [{ v: 0 }, { v: 1 }]);
});

/* parquet-wasm (arrow-rs compiled to wasm) from the shared tools' packages, or null when
 * they are not installed (pqcheck installs them on its first run). */
function arrowRs() {
  const dirs = [path.resolve(REPO_ROOT, '../shared/tools/pqtools'), '/work/shared/tools/pqtools',
    process.env.PQTOOLS_HOME ?? path.join(os.homedir(), '.cache/silt-pqtools')];
  for (const d of dirs) {
    if (!fs.existsSync(path.join(d, 'node_modules/parquet-wasm/node'))) continue;
    return createRequire(path.join(d, 'package.json'))('parquet-wasm/node');
  }
  return null;
}

test('arrow-rs reads the same streams: schema, batches, rows', async (t) => {
  const pw = arrowRs();
  if (!pw) return t.skip('parquet-wasm not installed with the shared tools');
  const answers = [
    await sqlReq('SELECT * FROM m ORDER BY time', 'arrow'),
    await sqlReq('SELECT host, count(*) AS n, avg(f) AS af FROM m GROUP BY host ORDER BY host', 'arrow'),
    await sqlReq("SELECT host, f, time FROM m WHERE host = 'nowhere'", 'arrow'),
    await sqlReq('SELECT t, v, w, time FROM big ORDER BY time', 'arrow'),
    await iqlReq('SELECT * FROM m', 'arrow'),
    await iqlReq('SELECT * FROM nosuch', 'arrow'),
  ];
  for (const r of answers) {
    const mine = readArrow(r);
    const rs = pw.Table.fromIPCStream(new Uint8Array(r.body));
    assert.equal(rs.numBatches, mine.batches.length);
    const back = readArrow({ status: 200, headers: r.headers, body: Buffer.from(rs.intoIPCStream()) });
    assert.deepEqual(types(back.table), types(mine.table));
    assert.deepEqual(ioxTypes(back.table), ioxTypes(mine.table));
    assert.deepEqual(back.rows, mine.rows);
  }
});
