#!/usr/bin/env bash
# Micro-benchmarks on the TSBS cpu-only day (../shared/bench data set, generated and cached by
# peers.sh prepare): the line protocol parser alone (one core) and WAL replay.
#   mk/bench-micro.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
cd "$(dirname "$0")/.."
eval "$(../shared/bench/peers.sh prepare 2>/dev/null)"
out=build/bench-results
mkdir -p "$out"
echo "== line protocol parser, one core: $build/bench/lp_bench $DATA_FILE --repeat 5"
"$build/bench/lp_bench" "$DATA_FILE" --repeat 5 | tee "$out/lp_bench.txt"
echo
echo "== WAL replay: $build/bench/wal_bench $DATA_FILE --repeat 5"
"$build/bench/wal_bench" "$DATA_FILE" --repeat 5 | tee "$out/wal_bench.txt"
echo
# --tail-rows 512: the page layout the persister writes (series-aligned pages, a tail page
# per series; --parquet-tail-rows' default)
echo "== Parquet write/read of the whole day (sorted by tags, time): $build/bench/pq_bench $DATA_FILE --tail-rows 512"
"$build/bench/pq_bench" "$DATA_FILE" --tail-rows 512 | grep -vE '^\s+(stats|")|^  [0-9]+ "' | tee "$out/pq_bench.txt"
