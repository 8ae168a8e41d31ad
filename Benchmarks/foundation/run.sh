#!/usr/bin/env bash
# Foundation benchmark: closures/s and survey submissions/s over HTTP, each beside GET /healthz (a route that
# does nothing) on the same server in the same run, then checks that every acknowledged submission is in SQLite.
# Usage: Benchmarks/foundation/run.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
# No metrics listener unless asked: several servers may run at once, and the default port is one.
export HAPPYDESK_METRICS_ADDRESS="${HAPPYDESK_METRICS_ADDRESS:-off}"
SECONDS_PER_RUN="${1:-10}"
BIN="${HAPPYDESK_BIN:-.build/release/happydesk}"
[ -x "$BIN" ] || swift build -c release --product happydesk
WORK="$(mktemp -d)"
PORT="${BENCH_PORT:-18181}"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="$WORK/bench.sqlite"
"$BIN" migrate --database "$DB" >/dev/null
python3 Benchmarks/foundation/seed_invitations.py "$DB" 20000 "$WORK/tokens.txt"
HAPPYDESK_LOG_LEVEL=error HAPPYDESK_OUTBOX_DIR="$WORK/outbox" # Delivery is off so the figures measure the HTTP path alone, not a sender draining the outbox on the same cores.
# The limits stay on (their cost is measured) but so high that a benchmark from one address never meets them.
export HAPPYDESK_RATE_LIMIT_CLOSURES=1000000/sec HAPPYDESK_RATE_LIMIT_SURVEY=1000000/sec HAPPYDESK_RATE_LIMIT_SIGNIN=1000000/sec
"$BIN" serve --no-delivery --database "$DB" --port "$PORT" --public-url "http://localhost:$PORT" &
SERVER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

rps() { grep -E "^Requests/sec" | awk '{print $2}'; }
run() { wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency "$@"; }

echo "warming up…" >&2
wrk -t2 -c32 -d2s "http://127.0.0.1:$PORT/healthz" >/dev/null
HEALTH_OUT="$(run "http://127.0.0.1:$PORT/healthz")"
CLOSURE_OUT="$(run -s Benchmarks/foundation/closures.lua "http://127.0.0.1:$PORT")"
SUBMIT_OUT="$(TOKENS="$WORK/tokens.txt" run -s Benchmarks/foundation/submissions.lua "http://127.0.0.1:$PORT")"
sleep 0.5
kill -TERM $SERVER; wait $SERVER 2>/dev/null || true

H=$(echo "$HEALTH_OUT" | rps); C=$(echo "$CLOSURE_OUT" | rps); S=$(echo "$SUBMIT_OUT" | rps)
ACKED=$(echo "$SUBMIT_OUT" | sed -n 's/^RESULT requests=\([0-9]*\) non2xx=\([0-9]*\)/\1 \2/p' | awk '{print $1 - $2}')
NON2XX=$(echo "$SUBMIT_OUT" | sed -n 's/^RESULT requests=[0-9]* non2xx=\([0-9]*\)/\1/p')
STORED=$(sqlite3 "$DB" "SELECT coalesce(sum(revision), 0) FROM responses")
p99() { grep -E "^ +99%" | awk '{print $2}'; }
printf "\n%-28s %12s %10s %10s\n" "route (wrk 2 threads, 32 conns)" "requests/s" "of ceiling" "p99"
printf "%-28s %12.0f %10s %10s\n" "GET /healthz (ceiling)" "$H" "1.00" "$(echo "$HEALTH_OUT" | p99)"
printf "%-28s %12.0f %10.2f %10s\n" "POST /api/v1/closures" "$C" "$(awk -v a="$C" -v b="$H" 'BEGIN{print a/b}')" "$(echo "$CLOSURE_OUT" | p99)"
printf "%-28s %12.0f %10.2f %10s\n" "POST /s/{token}" "$S" "$(awk -v a="$S" -v b="$H" 'BEGIN{print a/b}')" "$(echo "$SUBMIT_OUT" | p99)"
echo
echo "durability: $ACKED submissions acknowledged with 2xx ($NON2XX non-2xx), $STORED stored revisions in SQLite after the run"
if [ "$STORED" -lt "$ACKED" ]; then echo "FAIL: acknowledged submissions missing from SQLite" >&2; exit 1; fi
