#!/usr/bin/env bash
# Run the unit test binaries of build dir $1 (optionally only module $2). Each binary runs
# in its own process with a timeout (libuv style), so one crash cannot hide other results.
set -uo pipefail
build=$1; mod=${2:-}
fail=0; n=0
for t in "$build"/tests/unit/*/test_*; do
  [ -x "$t" ] || continue
  m=$(basename "$(dirname "$t")")
  [ -n "$mod" ] && [ "$m" != "$mod" ] && continue
  n=$((n + 1))
  if ! timeout 600 "$t" > "$t.log" 2>&1; then
    echo "FAIL $m/$(basename "$t") (log: $t.log)"; tail -40 "$t.log"; fail=1
  else
    echo "ok   $m/$(basename "$t") ($(grep -c '^\[       OK \]' "$t.log") tests)"
  fi
done
[ $n -gt 0 ] || { echo "no unit tests found in $build"; exit 1; }
exit $fail
