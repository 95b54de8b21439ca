// SPDX-License-Identifier: MIT
//
// Queries while 4 writers write (new series and new columns appearing as they go): every
// query answers 200, count(*) never goes down, and at the end count(*) equals the rows
// acknowledged. Under the ASan build this also checks the buffer's scan against concurrent
// appends for memory errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, request } from '../lib/server.mjs';

test('queries during concurrent writes: all answer 200, count(*) is monotonic, the final count is exact', async (t) => {
  const srv = await startServer({ t });
  let stop = false;
  const errors = [];
  const writer = async (w) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    try {
      while (!stop) {
        const lines = [];
        for (let i = 0; i < 100; i++, n++) lines.push(`cw,w=${w},s=${n % 37} f${n % 40}=${n}i,v=${n}.5 ${BigInt(n) * 60000000000n + BigInt(w)}`);
        const r = await request(srv.port, { method: 'POST', path: '/api/v3/write_lp?db=cc&precision=ns', body: lines.join('\n'), agent });
        if (r.status !== 204) errors.push(`write: HTTP ${r.status} ${r.text}`);
      }
    } finally {
      agent.destroy();
    }
    return n;
  };
  const sqls = [
    'SELECT count(*) FROM cw',
    'SELECT * FROM cw ORDER BY time DESC LIMIT 50',
    "SELECT v, time FROM cw WHERE w = '1' AND v > 100 ORDER BY time LIMIT 500",
    'SELECT * FROM cw WHERE f3 > 10 LIMIT 100',
    'SHOW COLUMNS FROM cw',
  ];
  let decreases = 0;
  let counts = 0;
  const reader = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let last = 0;
    try {
      for (let q = 0; !stop; q++) {
        const sql = sqls[q % sqls.length];
        const r = await request(srv.port, { path: `/api/v3/query_sql?db=cc&q=${encodeURIComponent(sql)}`, agent });
        if (r.status === 404 || (r.status === 400 && /not found/.test(r.text) && q < 10)) continue; // before the first write
        if (r.status !== 200) {
          errors.push(`${sql}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
          continue;
        }
        if (q % sqls.length === 0) {
          const c = JSON.parse(r.text)[0]['count(*)'];
          if (c < last) decreases++;
          last = c;
          counts++;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const ws = [0, 1, 2, 3].map(writer);
  const rs = [reader(), reader()];
  await new Promise((r) => setTimeout(r, 3000)); // the length of the run, not a synchronisation
  stop = true;
  const written = (await Promise.all(ws)).reduce((a, b) => a + b, 0);
  await Promise.all(rs);
  assert.deepEqual(errors.slice(0, 10), []);
  assert.equal(decreases, 0, 'count(*) went down while rows were only added');
  assert.ok(counts > 0, 'no count(*) was answered during the writes');
  assert.deepEqual(await srv.query('cc', 'SELECT count(*) FROM cw'), [{ 'count(*)': written }]);
});
