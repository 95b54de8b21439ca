#!/usr/bin/env bash
# Install what silt needs on Debian 12, as root (or via sudo). Idempotent and quiet when
# everything is already there.
#   mk/deps.sh build   libraries and tools to build and run silt
#   mk/deps.sh test    + what the tests need: cmocka, clang (libFuzzer), Node.js and the npm
#                      packages of tests/e2e
set -euo pipefail
what=${1:-build}
cd "$(dirname "$0")/.."

pkgs=(gcc make pkg-config libmicrohttpd-dev libnghttp2-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev
      libxxhash-dev libjansson-dev libsqlite3-dev libpq-dev libsnappy-dev curl)
if [ "$what" = test ]; then
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev nodejs npm influxdb-client)
  # the servers the tests start with ../shared/tools/pg-up.sh and s3-up.sh: installed here,
  # because those scripts stop (set -e + pipefail on dpkg-query) when a package is missing
  pkgs+=(postgresql ceph-mon ceph-osd ceph-common radosgw uuid-runtime iproute2 bc)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere than Debian (a newer Node is fine)
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do case $p in nodejs|npm) ;; *) tmp+=("$p");; esac; done
  missing=("${tmp[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$what" = test ] && [ -f tests/e2e/package.json ]; then
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package.json -nt tests/e2e/node_modules ]; then
    echo "deps: npm install in tests/e2e" >&2
    (cd tests/e2e && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    touch tests/e2e/node_modules
  fi
fi
