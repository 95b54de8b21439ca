#!/usr/bin/env bash
# mk/run-fuzz.sh replay BIN...  run each fuzz target once over every file of its corpus
#                               (tests/fuzz/corpus/<target>/): the regression mode of make test
# mk/run-fuzz.sh run BIN...     fuzz each target for FUZZ_SECONDS (default 60), growing a
#                               scratch corpus seeded from the checked-in one
set -euo pipefail
mode=$1; shift
for bin in "$@"; do
  t=$(basename "$bin" _fuzz)
  corpus=tests/fuzz/corpus/$t
  dict=tests/fuzz/$t.dict
  dictarg=(); [ -f "$dict" ] && dictarg=(-dict="$dict")
  [ -d "$corpus" ] || { echo "fuzz: no corpus for $t ($corpus)"; exit 1; }
  if [ "$mode" = replay ]; then
    n=$(find "$corpus" -type f | wc -l)
    "$bin" -runs=0 "${dictarg[@]}" "$corpus" > "build/fuzz/$t.replay.log" 2>&1 \
      || { echo "FAIL fuzz replay $t"; tail -30 "build/fuzz/$t.replay.log"; exit 1; }
    echo "ok   fuzz corpus $t ($n inputs)"
  else
    work=build/fuzz/corpus-$t; mkdir -p "$work"
    "$bin" -max_total_time="${FUZZ_SECONDS:-60}" "${dictarg[@]}" "$work" "$corpus"
  fi
done
