#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server (scripts/postgres.sh) and HAPPYDESK_TEST_DATABASE_URL set,
# and stops the server afterwards, whatever the command's outcome. Used by `make test` and the benchmarks.
#   scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/happydesk-pg.XXXXXX)
chmod 755 "$dir"
stop() { scripts/postgres.sh stop "$dir" || true; rm -rf "$dir"; }
trap stop EXIT
eval "$(scripts/postgres.sh start "$dir")"
export HAPPYDESK_TEST_DATABASE_URL
"$@"
