#!/usr/bin/env bash
# silt side by side with InfluxDB 1.6.7 and VictoriaMetrics (../shared/bench/peers.sh): the
# TSBS cpu-only day over 4 connections in 5,000-line batches, every silt write fsynced before
# its ack; then the acknowledgement latency of single-line writes from one sequential client.
# Then (mode all, the default) q1-q4 through InfluxQL /query on every peer, answers checked
# against the reference computed from the data file. The durability probes are skipped
# unless SKIP_DURABILITY=0.
#   BENCH_MODE=ingest|query|all (default all)  BENCH_FULL=1 for full mode (3 runs per peer)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${BENCH_MODE:-all}
if [ "${SKIP_DURABILITY:-1}" = 0 ]; then unset SKIP_DURABILITY; else export SKIP_DURABILITY=1; fi
quick=--quick; [ "${BENCH_FULL:-0}" = 1 ] && quick=
out=build/bench-results
mkdir -p "$out"

echo "== peers: ../shared/bench/peers.sh $mode $quick --peers \"influxdb vm custom\" (custom = silt)"
rc=0
CUSTOM_NAME=silt CUSTOM_PING=/health \
CUSTOM_START='build/silt serve --data-dir $DATA --http-bind 127.0.0.1:$PORT' \
  ../shared/bench/peers.sh "$mode" $quick --peers "influxdb vm custom" | tee "$out/peers.md" || rc=$?
[ -f /tmp/silt-bench/results/results.json ] && cp /tmp/silt-bench/results/results.json "$out/peers.json"
echo
echo "== silt persist (graceful restart after the load, from its log):"
grep -hE "store: persisted|serve: shutdown: persisted" /tmp/silt-bench/run/logs/custom.log 2>/dev/null \
  | tail -4 | tee "$out/persist.txt" || true

echo
echo "== single-line acknowledgement latency: lpload -b 1 -c 1 -n 2000 against a fresh silt"
eval "$(../shared/bench/peers.sh prepare 2>/dev/null)"
dir=$(mktemp -d /tmp/silt-lat-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/silt serve --data-dir "$dir" --http-bind "127.0.0.1:$port" --log-level warn &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
"$LPLOAD" -b 1 -c 1 -n 2000 "http://127.0.0.1:$port/write?db=latency&precision=ns" "$DATA_FILE" \
  | tee "$out/latency.txt" | grep -v '^RESULT' || true
grep '^RESULT' "$out/latency.txt" | cut -c8- | python3 -c '
import json,sys; o=json.load(sys.stdin)
print("silt single-line ack latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d writes" % (o["lat_p50_ms"], o["lat_p99_ms"], o["lat_max_ms"], o["batches"]))'
kill -TERM "$pid"; wait "$pid" || true
rm -rf "$dir"
exit $rc
