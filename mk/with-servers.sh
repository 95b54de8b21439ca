#!/usr/bin/env bash
# mk/with-servers.sh CMD [ARGS...]
# Run CMD with a throwaway PostgreSQL and a real S3 server (Ceph RADOS Gateway) on
# 127.0.0.1, started by ../shared/tools/pg-up.sh and s3-up.sh and stopped afterwards, whatever
# CMD's outcome. Exports PG_URL, PG_ADMIN_URL and S3_ENDPOINT, S3_ACCESS_KEY_ID,
# S3_SECRET_ACCESS_KEY, S3_REGION, S3_BUCKET for the tests. If PG_URL and S3_ENDPOINT are
# already set (servers provided by the caller), they are used as they are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$(cd "$root/../shared/tools" && pwd)
started_pg=""; started_s3=""; work=""
cleanup() {
  [ -n "$started_pg" ] && "$tools/pg-down.sh" "$started_pg" >/dev/null 2>&1 || true
  [ -n "$started_s3" ] && "$tools/s3-down.sh" "$started_s3" >/dev/null 2>&1 || true
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
if [ -z "${PG_URL:-}" ] || [ -z "${S3_ENDPOINT:-}" ]; then
  work=$(mktemp -d /tmp/silt-servers-XXXXXX)
  chmod 755 "$work" # the postgres user must reach its cluster directory
fi
if [ -z "${PG_URL:-}" ]; then
  echo "with-servers: starting PostgreSQL" >&2
  eval "$("$tools/pg-up.sh" "$work/pg")"
  started_pg=$PG_DIR
  export PG_URL PG_ADMIN_URL
fi
if [ -z "${S3_ENDPOINT:-}" ]; then
  echo "with-servers: starting the S3 server (Ceph RGW)" >&2
  eval "$(S3_MEMSTORE_SIZE=${S3_MEMSTORE_SIZE:-2G} "$tools/s3-up.sh" "$work/s3")"
  started_s3=$S3_DIR
  export S3_ENDPOINT S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_REGION S3_BUCKET
fi
"$@"
