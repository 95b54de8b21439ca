#!/usr/bin/env bash
# The query benchmark of the query-engine issue: the TSBS cpu-only day loaded into a fresh
# silt (release build), persisted by a graceful restart, then q1-q4 timed on silt (SQL over
# HTTP) and on DuckDB over the same Parquet files (threads=2): bench/queries.mjs.
#   REPS (5) WARMUP (1)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench-results
mkdir -p "$out"
eval "$(../shared/bench/peers.sh prepare 2>/dev/null)"
[ -d tests/e2e/node_modules/@duckdb/node-api ] || bash mk/deps.sh test
dir=$(mktemp -d /tmp/silt-qbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start() {
  build/silt serve --data-dir "$dir" --http-bind "127.0.0.1:$port" --log-level warn &
  pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
  echo "bench-queries: silt did not start" >&2; exit 1
}
cleanup() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
start
trap cleanup EXIT
echo "== query benchmark: TSBS day loaded into silt (lpload -b 5000 -c 4), persisted by a graceful restart"
"$LPLOAD" -b 5000 -c 4 "http://127.0.0.1:$port/write?db=benchmark&precision=ns" "$DATA_FILE" | grep -E '^lpload: acked' || true
kill -TERM "$pid"; wait "$pid" || true
start
echo "Parquet files: $(find "$dir/objects" -name '*.parquet' | wc -l), $(du -sb "$dir/objects" | cut -f1) bytes"
echo "== node bench/queries.mjs (median of ${REPS:-5} after ${WARMUP:-1} warm-up; silt over HTTP, DuckDB in process, threads=2)"
node bench/queries.mjs --url "http://127.0.0.1:$port" --db benchmark --files "$dir/objects/**/*.parquet" \
  --reps "${REPS:-5}" --warmup "${WARMUP:-1}" | tee "$out/queries.txt"
