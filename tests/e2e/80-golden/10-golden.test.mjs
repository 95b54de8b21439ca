// SPDX-License-Identifier: MIT
//
// Golden-file query tests (tests/golden/README.md): every query of tests/golden/*.sql and
// *.influxql runs against the data set tests/golden/data-1.lp + data-2.lp three times --
//   buffer: a fresh server, both writes in the in-memory buffer;
//   mixed:  a second server that persisted the first write (graceful restart) and holds the
//           second, overlapping write in its buffer (files and buffer merged);
//   files:  that server restarted again: two overlapping Parquet files per table and day --
// and each answer (status and body) must equal the expected output exactly. The three runs
// must also agree with each other. SILT_GOLDEN_UPDATE=1 rewrites the expected outputs from
// the buffer run (a human reviews the diff: the files are the specification).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, request, E2E_DIR } from '../lib/server.mjs';

const GOLDEN = path.resolve(E2E_DIR, '..', 'golden');
const UPDATE = process.env.SILT_GOLDEN_UPDATE === '1';
const DB = 'golden';
const WIDTH = 120; // pretty-printed lines longer than this are broken at JSON structure

/* ------------------------------------------------------------------ query files */

/* A query file: header lines, then blocks "-- query [title]" / query text / "-- expect
 * [status]" / expected body. */
function parseFile(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const header = [];
  const blocks = [];
  let cur = null;
  let part = null;
  lines.forEach((line, i) => {
    if (/^-- query\b/.test(line)) {
      cur = { title: line, line: i + 1, query: [], expectLine: null, status: 200, expect: [] };
      blocks.push(cur);
      part = 'query';
    } else if (cur && /^-- expect\b/.test(line)) {
      if (part !== 'query') throw new Error(`${file}:${i + 1}: a second "-- expect"`);
      const m = /^-- expect(?:\s+(\d{3}))?\s*$/.exec(line);
      if (!m) throw new Error(`${file}:${i + 1}: expected "-- expect [status]"`);
      cur.status = m[1] ? Number(m[1]) : 200;
      cur.expectLine = line;
      part = 'expect';
    } else if (!cur) header.push(line);
    else cur[part].push(line);
  });
  const trim = (a) => {
    while (a.length && a[a.length - 1].trim() === '') a.pop();
    while (a.length && a[0].trim() === '') a.shift();
    return a.join('\n');
  };
  for (const b of blocks) {
    if (b.expectLine === null) throw new Error(`${file}:${b.line}: query without "-- expect"`);
    b.query = trim(b.query);
    b.expect = trim(b.expect);
  }
  return { header: trim(header), blocks };
}

function formatFile(f) {
  const out = [f.header, ''];
  for (const b of f.blocks) {
    out.push(b.title, b.query, b.status === 200 ? '-- expect' : `-- expect ${b.status}`, b.expect, '');
  }
  return out.join('\n');
}

/* ------------------------------------------------------------------ exact JSON layout */

/* Parse JSON text into a tree whose leaves keep their exact source text (numbers such as
 * 18446744073709551615 or 1e+30 stay as silt wrote them). */
function parseRaw(s) {
  let i = 0;
  const ws = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i])) i++;
  };
  const str = () => {
    const st = i++;
    while (s[i] !== '"') {
      if (i >= s.length) throw new Error('unterminated string');
      i += s[i] === '\\' ? 2 : 1;
    }
    i++;
    return s.slice(st, i);
  };
  const val = () => {
    ws();
    if (s[i] === '{' || s[i] === '[') {
      const obj = s[i] === '{';
      i++;
      const items = [];
      ws();
      if (s[i] === (obj ? '}' : ']')) {
        i++;
        return { obj, items };
      }
      for (;;) {
        ws();
        let key = null;
        if (obj) {
          key = str();
          ws();
          if (s[i++] !== ':') throw new Error(`expected ':' at ${i - 1}`);
        }
        items.push({ key, v: val() });
        ws();
        const c = s[i++];
        if (c === ',') continue;
        if (c === (obj ? '}' : ']')) return { obj, items };
        throw new Error(`unexpected '${c}' at ${i - 1}`);
      }
    }
    if (s[i] === '"') return str();
    const m = /^[-+0-9.eEa-z]+/.exec(s.slice(i));
    if (!m) throw new Error(`unexpected '${s[i]}' at ${i}`);
    i += m[0].length;
    return m[0];
  };
  const v = val();
  ws();
  if (i !== s.length) throw new Error(`trailing text at ${i}`);
  return v;
}

const compact = (n) =>
  typeof n === 'string'
    ? n
    : (n.obj ? '{' : '[') + n.items.map((x) => (x.key ? x.key + ':' : '') + compact(x.v)).join(',') + (n.obj ? '}' : ']');

/* Compact when the line fits in WIDTH columns (prefix: what precedes the value on its line),
 * else one element per line, indented by two. */
function pretty(n, indent = 0, prefix = 0) {
  const c = compact(n);
  if (typeof n === 'string' || indent + prefix + c.length <= WIDTH) return c;
  const pad = ' '.repeat(indent + 2);
  const items = n.items.map((x) => pad + (x.key ? x.key + ':' : '') + pretty(x.v, indent + 2, x.key ? x.key.length + 1 : 0));
  return (n.obj ? '{' : '[') + '\n' + items.join(',\n') + '\n' + ' '.repeat(indent) + (n.obj ? '}' : ']');
}

/* A body as it is stored: JSON laid out readably (whitespace outside strings only), or, if
 * it is not JSON, the text itself. */
function layout(body) {
  try {
    const t = parseRaw(body.replace(/\n$/, ''));
    if (compact(t) === body.replace(/\n$/, '')) return pretty(t);
  } catch {
    /* not compact JSON: stored as is */
  }
  return body.replace(/\n$/, '');
}

/* The canonical form compared: compact JSON when both sides parse, else the text. */
function canon(text) {
  try {
    return compact(parseRaw(text.replace(/\n$/, '')));
  } catch {
    return text.replace(/\n$/, '');
  }
}

/* ------------------------------------------------------------------ running */

const files = fs
  .readdirSync(GOLDEN)
  .filter((f) => f.endsWith('.sql') || f.endsWith('.influxql'))
  .sort()
  .map((f) => ({ name: f, path: path.join(GOLDEN, f), lang: f.endsWith('.sql') ? 'sql' : 'influxql', ...parseFile(path.join(GOLDEN, f)) }));

async function runQuery(srv, lang, q) {
  const qs = new URLSearchParams({ db: DB, q });
  const p = lang === 'sql' ? `/api/v3/query_sql?${qs}` : `/query?${qs}`;
  const r = await request(srv.port, { path: p });
  // silt writes compact JSON: no whitespace outside strings, at most a final newline
  const bodyNoNl = r.text.replace(/\n$/, '');
  let exactJson = false;
  try {
    exactJson = compact(parseRaw(bodyNoNl)) === bodyNoNl;
  } catch {
    exactJson = false;
  }
  return { status: r.status, body: r.text, exactJson };
}

async function runAll(srv) {
  const out = new Map();
  for (const f of files) {
    const res = [];
    for (const b of f.blocks) res.push(await runQuery(srv, f.lang, b.query));
    out.set(f.name, res);
  }
  return out;
}

async function write(srv, file) {
  const body = fs.readFileSync(path.join(GOLDEN, file), 'utf8');
  const r = await request(srv.port, { method: 'POST', path: `/api/v3/write_lp?db=${DB}&precision=second`, body });
  assert.equal(r.status, 204, `${file}: ${r.text}`);
}

const runs = {};

test('golden data set: buffer, buffer + overlapping file, overlapping files', async (t) => {
  const a = await startServer({ t });
  await write(a, 'data-1.lp');
  await write(a, 'data-2.lp');
  runs.buffer = await runAll(a);

  const b = await startServer({ t });
  await write(b, 'data-1.lp');
  await b.restart(); // graceful: the first write becomes Parquet files
  await write(b, 'data-2.lp');
  runs.mixed = await runAll(b);
  await b.restart(); // and the second: two overlapping files per table and day
  runs.files = await runAll(b);
  const n = files.reduce((s, f) => s + f.blocks.length, 0);
  assert.ok(n >= 60, `only ${n} golden queries`);
});

for (const f of files) {
  test(`golden ${f.name} (${f.blocks.length} queries)`, async () => {
    assert.ok(runs.files, 'the runs failed');
    const problems = [];
    f.blocks.forEach((b, i) => {
      const got = runs.buffer.get(f.name)[i];
      const where = `${f.name}:${b.line} ${b.query.replace(/\s+/g, ' ').slice(0, 120)}`;
      if (!got.exactJson) problems.push(`${where}: the answer is not compact JSON:\n${got.body}`);
      for (const run of ['mixed', 'files']) {
        const o = runs[run].get(f.name)[i];
        if (o.status !== got.status || o.body !== got.body)
          problems.push(`${where}: the ${run} run differs from the buffer run:\n  buffer ${got.status} ${got.body}\n  ${run} ${o.status} ${o.body}`);
      }
      if (UPDATE) {
        b.status = got.status;
        b.expect = layout(got.body);
      } else if (got.status !== b.status || canon(got.body) !== canon(b.expect)) {
        problems.push(`${where}:\n  want ${b.status} ${canon(b.expect)}\n  got  ${got.status} ${got.body.replace(/\n$/, '')}`);
      }
    });
    if (UPDATE) fs.writeFileSync(f.path, formatFile(f));
    assert.equal(problems.length, 0, `${problems.length} golden mismatch(es):\n${problems.join('\n\n')}`);
  });
}
