// SPDX-License-Identifier: MIT
//
// Queries through the official InfluxDB 3 JavaScript client (@influxdata/influxdb3-client),
// which asks only over Arrow Flight: gRPC DoGet over HTTP/2 cleartext, on the same port as
// the HTTP API, with InfluxDB 3's JSON ticket. Its answers are compared with the same
// queries' answers over HTTP (/api/v3/query_sql, /api/v3/query_influxql): every field type,
// tags, NULLs, time, the iox::column::type metadata that queryPoints() reads, parameters,
// InfluxQL, a result of many record batches, batches of wide rows under gRPC's 4 MiB message
// limit, gRPC error codes, other Flight methods
// (UNIMPLEMENTED, through Node's own HTTP/2 client), and a graceful stop with a Flight
// connection open.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { InfluxDBClient } from '@influxdata/influxdb3-client';
import { startServer } from '../lib/server.mjs';
import { DB, loadData } from './data.mjs';

let srv, client;
before(async () => {
  srv = await startServer();
  await loadData(srv);
  client = new InfluxDBClient({ host: srv.url, token: 'silt-ignores-tokens', database: DB });
});
after(async () => {
  await client?.close();
  await srv.cleanup();
});

async function all(gen) {
  const out = [];
  for await (const r of gen) out.push(r);
  return out;
}

async function httpQuery(path, q, params) {
  const r = await srv.request('POST', path, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ db: DB, q, format: 'json', params }),
  });
  assert.equal(r.status, 200, r.text);
  return r.json();
}

/* A Flight row (the client's values) in the HTTP JSON shape: time in ms -> RFC 3339 text as
 * silt writes it, NULLs left out, BigInt -> Number. */
function asHttpRow(row) {
  const o = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    if (k === 'time') {
      const iso = new Date(Math.floor(v)).toISOString().replace(/Z$/, '').replace(/\.000$/, '');
      o[k] = iso;
    } else {
      o[k] = typeof v === 'bigint' ? Number(v) : v;
    }
  }
  return o;
}

async function flightError(gen) {
  try {
    await all(gen);
  } catch (e) {
    return e;
  }
  assert.fail('the query succeeded');
}

test('SQL through the JS client: every type, tags, NULLs, time, as over HTTP', async () => {
  const q = 'SELECT * FROM weather ORDER BY time';
  const rows = await all(client.query(q, DB));
  const want = await httpQuery('/api/v3/query_sql', q);
  assert.equal(rows.length, 5);
  assert.deepEqual(rows.map(asHttpRow), want);
  // the column metadata maps integers to numbers; Oslo has neither hum nor ok nor country
  assert.equal(rows[0].hum, 80);
  // UInt64 comes as a BigInt: the client passes it through (warning "not an unsigned
  // integer"), as it does with InfluxDB 3, whose unsigned fields are UInt64 too
  assert.equal(rows[4].pressure, 1013n);
  assert.equal(rows[4].hum, null);
  assert.equal(rows[0].note, 'mild, "dry"');
  assert.equal(rows[1].ok, false);
  assert.equal(rows[0].time, 1700000000000);
});

test('queryPoints: tags, typed fields and the timestamp from the column metadata', async () => {
  const pts = await all(client.queryPoints(
    "SELECT time, city, temp, hum, ok, note, pressure FROM weather WHERE city IN ('Paris', 'Oslo') ORDER BY time", DB));
  assert.equal(pts.length, 3);
  const [p1, p2, oslo] = pts;
  assert.equal(p1.getTag('city'), 'Paris');
  assert.equal(p1.getFieldType('temp'), 'float');
  assert.equal(p1.getFloatField('temp'), 12.5);
  assert.equal(p1.getFieldType('hum'), 'integer');
  assert.equal(p1.getIntegerField('hum'), 80);
  assert.equal(p1.getFieldType('ok'), 'boolean');
  assert.equal(p1.getBooleanField('ok'), true);
  assert.equal(p1.getFieldType('note'), 'string');
  assert.equal(p1.getStringField('note'), 'mild, "dry"');
  assert.equal(Number(p1.getTimestamp()), 1700000000000);
  assert.equal(p2.getFloatField('temp'), 13.5);
  assert.equal(oslo.getFieldType('pressure'), 'uinteger');
  assert.equal(oslo.getUintegerField('pressure'), 1013);
  assert.equal(oslo.getField('hum'), undefined); // NULL: not set
  // the line protocol of a point read back names its measurement once one is set
  oslo.setMeasurement('weather');
  assert.match(oslo.asPoint().toLineProtocol(), /^weather,city=Oslo pressure=1013u,temp=0.5 /);
});

test('aggregates and expressions: computed columns, no metadata needed', async () => {
  const q = 'SELECT city, count(*) AS n, avg(temp) AS t, max(hum) AS h FROM weather GROUP BY city ORDER BY city';
  const rows = await all(client.query(q, DB));
  assert.deepEqual(rows.map(asHttpRow), await httpQuery('/api/v3/query_sql', q));
});

test('parameters ($name) in the ticket', async () => {
  const q = 'SELECT city, temp FROM weather WHERE city = $city AND temp > $min ORDER BY time';
  const rows = await all(client.query(q, DB, { params: { city: 'Paris', min: 13 } }));
  assert.deepEqual(rows.map(asHttpRow), [{ city: 'Paris', temp: 13.5 }]);
});

test('InfluxQL (query type influxql): InfluxDB 3 table shape, as /api/v3/query_influxql', async () => {
  for (const q of ['SELECT mean(temp) FROM weather GROUP BY city', 'SELECT temp, hum FROM weather WHERE city = \'Paris\'']) {
    const rows = await all(client.query(q, DB, { type: 'influxql' }));
    const want = await httpQuery('/api/v3/query_influxql', q);
    assert.ok(want.length > 0);
    assert.deepEqual(rows.map(asHttpRow), want, q);
  }
});

test('an empty result, and a result of many record batches', async () => {
  assert.deepEqual(await all(client.query("SELECT * FROM weather WHERE city = 'Lima'", DB)), []);
  const n = 100000;
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`big,h=h${i % 7} v=${i}i,f=${i / 4},s="row ${i}" ${1600000000000 + i}000000`);
  await srv.write(DB, lines.join('\n'));
  let count = 0, sum = 0n, last = -1;
  for await (const r of client.query('SELECT time, h, v, f, s FROM big ORDER BY time', DB)) {
    const v = r.v;
    assert.equal(r.s, `row ${v}`);
    assert.equal(r.f, v / 4);
    assert.equal(r.h, `h${v % 7}`);
    assert.equal(v, last + 1);
    last = v;
    sum += BigInt(v);
    count++;
  }
  assert.equal(count, n);
  assert.equal(sum, BigInt(n) * BigInt(n - 1) / 2n);
});

test('wide rows: record batches stay under the client\'s 4 MiB message limit', async () => {
  // 6,000 rows of 1 KiB strings: 6 MiB in 8,192 rows would be one message the client refuses
  const pad = 'x'.repeat(1000);
  const lines = [];
  for (let i = 0; i < 6000; i++) lines.push(`wide,h=h${i % 3} s="${pad}${i}" ${1600000000000 + i}000000`);
  await srv.write(DB, lines.join('\n'));
  let n = 0;
  for await (const r of client.query('SELECT s FROM wide ORDER BY time', DB)) {
    assert.equal(r.s, `${pad}${n}`);
    n++;
  }
  assert.equal(n, 6000);
});

test('errors carry gRPC codes and silt\'s messages', async () => {
  let e = await flightError(client.query('SELEC * FROM weather', DB));
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.match(e.message, /expected/);
  e = await flightError(client.query('SELECT * FROM nope', DB));
  assert.equal(e.code, 'INVALID_ARGUMENT');
  e = await flightError(client.query('SELECT * FROM weather', 'no_such_db'));
  assert.equal(e.code, 'NOT_FOUND');
  assert.match(e.message, /database not found: no_such_db/);
  // a placeholder without a value: the client checks this itself; silt checks it too
  const r = await grpcCall('/arrow.flight.protocol.FlightService/DoGet',
    ticketMessage({ database: DB, sql_query: 'SELECT * FROM weather WHERE city = $c', query_type: 'sql' }));
  assert.equal(r.trailers['grpc-status'], '3');
  assert.match(decodeURIComponent(r.trailers['grpc-message']), /no value for parameter \$c/);
  const r2 = await grpcCall('/arrow.flight.protocol.FlightService/DoGet',
    ticketMessage({ database: DB, sql_query: 'SHOW DATABASES', query_type: 'flux' }));
  assert.equal(r2.trailers['grpc-status'], '3');
  assert.match(decodeURIComponent(r2.trailers['grpc-message']), /query_type 'flux'/);
});

test('a result over --max-query-result-size: RESOURCE_EXHAUSTED', async (t) => {
  const small = await startServer({ t, args: ['--max-query-result-size', '2000'] });
  const lines = [];
  for (let i = 0; i < 500; i++) lines.push(`m,h=a v=${i} ${1600000000 + i}000000000`);
  await small.write(DB, lines.join('\n'));
  const c = new InfluxDBClient({ host: small.url, token: 'x', database: DB });
  try {
    const e = await flightError(c.query('SELECT * FROM m', DB));
    assert.equal(e.code, 'RESOURCE_EXHAUSTED');
    assert.match(e.message, /max_result_bytes/);
    assert.equal((await all(c.query('SELECT count(*) AS n FROM m', DB)))[0].n, 500n);
  } finally {
    await c.close();
  }
});

/* ---- raw gRPC through Node's HTTP/2 client */

function varint(n) {
  const b = [];
  while (n >= 0x80) {
    b.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  b.push(n);
  return Buffer.from(b);
}

function ticketMessage(obj) {
  const t = Buffer.from(JSON.stringify(obj));
  return Buffer.concat([Buffer.from([0x0a]), varint(t.length), t]);
}

function grpcCall(path, message, headers = { 'content-type': 'application/grpc' }) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(srv.url);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, te: 'trailers', ...headers });
    let head = null, trailers = {};
    const chunks = [];
    req.on('response', (h) => { head = h; if (h['grpc-status'] !== undefined) trailers = h; });
    req.on('trailers', (h) => { trailers = h; });
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      session.close();
      resolve({ head, trailers, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([frame, message]));
  });
}

test('other Flight methods: UNIMPLEMENTED; a request that is not gRPC: 415', async () => {
  for (const m of ['Handshake', 'ListFlights', 'GetFlightInfo', 'DoPut', 'DoAction']) {
    const r = await grpcCall(`/arrow.flight.protocol.FlightService/${m}`, Buffer.alloc(0));
    assert.equal(r.head[':status'], 200);
    assert.equal(r.trailers['grpc-status'], '12', m);
    assert.match(decodeURIComponent(r.trailers['grpc-message']), /not implemented/);
  }
  const r = await grpcCall('/arrow.flight.protocol.FlightService/DoGet', Buffer.alloc(0), { 'content-type': 'application/json' });
  assert.equal(r.head[':status'], 415);
  // a DoGet whose message is not a Ticket
  const bad = await grpcCall('/arrow.flight.protocol.FlightService/DoGet', Buffer.from([0xff, 0xff]));
  assert.equal(bad.trailers['grpc-status'], '3');
  // a ticket that is not JSON
  const notJson = await grpcCall('/arrow.flight.protocol.FlightService/DoGet', Buffer.from([0x0a, 3, 0x61, 0x62, 0x63]));
  assert.equal(notJson.trailers['grpc-status'], '3');
  assert.match(decodeURIComponent(notJson.trailers['grpc-message']), /not InfluxDB's JSON ticket/);
});

test('HTTP/1.1 and Flight on one port at once; a graceful stop with a Flight connection open', async (t) => {
  const s2 = await startServer({ t });
  await s2.write(DB, 'm,h=a v=1 1600000000000000000');
  const c = new InfluxDBClient({ host: s2.url, token: 'x', database: DB });
  const [viaFlight, viaHttp] = await Promise.all([
    all(c.query('SELECT v FROM m', DB)),
    s2.query(DB, 'SELECT v FROM m'),
  ]);
  assert.deepEqual(viaFlight, [{ v: 1 }]);
  assert.deepEqual(viaHttp, [{ v: 1 }]);
  const metrics = await s2.request('GET', '/metrics');
  assert.match(metrics.text, /silt_flight_calls_total 1\b/);
  // the client keeps its HTTP/2 connection: the server must still stop at once, cleanly
  const t0 = Date.now();
  const ex = await s2.stop();
  assert.equal(ex.code, 0);
  assert.ok(Date.now() - t0 < 10000, `stop took ${Date.now() - t0} ms`);
  await c.close();
});
