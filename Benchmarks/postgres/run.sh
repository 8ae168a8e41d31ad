#!/usr/bin/env bash
# PostgreSQL beside SQLite: closures/s and survey submissions/s over HTTP on the same machine in the same run,
# on SQLite, on PostgreSQL with one instance, and on PostgreSQL with two instances behind no balancer (one wrk
# per instance, figures summed). PostgreSQL runs with fsync and synchronous_commit on, on loopback
# (scripts/postgres.sh). Every acknowledged submission is checked to be stored afterwards.
# Usage: Benchmarks/postgres/run.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
# No metrics listener unless asked: several servers may run at once, and the default port is one.
export HAPPYDESK_METRICS_ADDRESS="${HAPPYDESK_METRICS_ADDRESS:-off}"
if [ -z "${HAPPYDESK_TEST_DATABASE_URL:-}" ]; then exec scripts/with-postgres.sh "$0" "$@"; fi
SECONDS_PER_RUN="${1:-10}"
BIN="${HAPPYDESK_BIN:-.build/release/happydesk}"
[ -x "$BIN" ] || swift build -c release --product happydesk
WORK="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
export HAPPYDESK_LOG_LEVEL=error HAPPYDESK_OUTBOX_DIR="$WORK/outbox"
export HAPPYDESK_RATE_LIMIT_CLOSURES=1000000/sec HAPPYDESK_RATE_LIMIT_SURVEY=1000000/sec HAPPYDESK_RATE_LIMIT_SIGNIN=1000000/sec
export HAPPYDESK_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
ADMIN="$HAPPYDESK_TEST_DATABASE_URL"
# Pin servers to core 0 and load to core 1 when taskset exists: steadier ratios on a shared machine.
SERVER_CPU=""; LOAD_CPU=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then SERVER_CPU="taskset -c 0"; LOAD_CPU="taskset -c 1"; fi

fresh_pg() { # name → URL of a new, migrated database holding the seeded invitations
  psql -q "$ADMIN" -c "CREATE DATABASE $1" >/dev/null
  local url="${ADMIN%/*}/$1"
  "$BIN" copy --database "$WORK/seed.sqlite" --to "$url" >/dev/null
  echo "$url"
}
start() { # port, then database flags
  local port=$1; shift
  $SERVER_CPU "$BIN" serve --no-delivery --port "$port" --public-url "http://localhost:$port" "$@" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start" >&2; exit 1
}
stop_all() { for p in "${PIDS[@]}"; do kill -TERM $p 2>/dev/null || true; wait $p 2>/dev/null || true; done; PIDS=(); }
rps() { grep -E "^Requests/sec" | awk '{s+=$2} END {printf "%.0f", s}'; }
acked() { sed -n 's/^RESULT requests=\([0-9]*\) non2xx=\([0-9]*\)/\1 \2/p' | awk '{s+=$1-$2} END {print s+0}'; }
# wrk against each port at once (32 connections in all), PREFIX/TOKENS apart per port; prints all outputs.
load() { # lua, token files…, then ports
  local script=$1; shift
  local ports=("$@") n=${#ports[@]} i=0 outs=()
  for port in "${ports[@]}"; do
    PREFIX="P$port-" TOKENS="$WORK/tokens.$i" $LOAD_CPU wrk -t1 -c$((32 / n)) -d"${SECONDS_PER_RUN}s" -s "$script" "http://127.0.0.1:$port" > "$WORK/out.$i" &
    outs+=($!); i=$((i + 1))
  done
  wait "${outs[@]}"
  cat "$WORK"/out.*; rm -f "$WORK"/out.*
}

echo "seeding 20000 invitations…" >&2
"$BIN" migrate --database "$WORK/seed.sqlite" >/dev/null
python3 Benchmarks/foundation/seed_invitations.py "$WORK/seed.sqlite" 20000 "$WORK/tokens.txt"
split -n r/2 -d -a 1 "$WORK/tokens.txt" "$WORK/tokens."   # tokens.0 / tokens.1: each instance answers its own half
cp "$WORK/tokens.txt" "$WORK/tokens.all"

declare -A CLOSURES SUBMITS
measure() { # label, stored-count command, ports…
  local label=$1 count=$2; shift 2
  if [ $# -eq 1 ]; then cp "$WORK/tokens.all" "$WORK/tokens.0"; fi
  wrk -t1 -c8 -d2s "http://127.0.0.1:$1/healthz" >/dev/null
  local c s
  c=$(load Benchmarks/foundation/closures.lua "$@")
  s=$(load Benchmarks/foundation/submissions.lua "$@")
  CLOSURES[$label]=$(echo "$c" | rps); SUBMITS[$label]=$(echo "$s" | rps)
  local ok; ok=$(echo "$s" | acked)
  sleep 0.5; stop_all
  local stored; stored=$(eval "$count")
  echo "$label: $ok submissions acknowledged, $stored stored revisions" >&2
  if [ "$stored" -lt "$ok" ]; then echo "FAIL: acknowledged submissions missing ($label)" >&2; exit 1; fi
}

cp "$WORK/seed.sqlite" "$WORK/bench.sqlite"
start 18201 --database "$WORK/bench.sqlite"
measure sqlite "sqlite3 '$WORK/bench.sqlite' 'SELECT coalesce(sum(revision), 0) FROM responses'" 18201

ONE=$(fresh_pg bench_one)
start 18202 --database-url "$ONE"
measure postgres "psql -tA '$ONE' -c 'SELECT coalesce(sum(revision), 0) FROM responses'" 18202

split -n r/2 -d -a 1 "$WORK/tokens.all" "$WORK/tokens."
TWO=$(fresh_pg bench_two)
start 18203 --database-url "$TWO"
start 18204 --database-url "$TWO"
measure postgres-2 "psql -tA '$TWO' -c 'SELECT coalesce(sum(revision), 0) FROM responses'" 18203 18204

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
printf "\n%-32s %12s %8s %14s %8s\n" "backend (wrk, 32 conns in all)" "closures/s" "ratio" "submissions/s" "ratio"
for label in sqlite postgres postgres-2; do
  printf "%-32s %12s %8s %14s %8s\n" "$label" "${CLOSURES[$label]}" "$(ratio "${CLOSURES[$label]}" "${CLOSURES[sqlite]}")" \
    "${SUBMITS[$label]}" "$(ratio "${SUBMITS[$label]}" "${SUBMITS[sqlite]}")"
done
echo "(ratios against SQLite in this run; postgres-2 is two instances on one PostgreSQL, both on the same two cores)"
