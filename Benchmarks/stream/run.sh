#!/usr/bin/env bash
# Stream benchmark: submission-to-delivery latency (p50/p99) with 200 connected analyst sockets while
# responses arrive at 500/s. Builds the release binary, serves a fresh database on a free port, prints one
# JSON line of results. Tunables: SOCKETS, RATE, DURATION (seconds), ANALYSTS, MANAGERS.
set -euo pipefail
cd "$(dirname "$0")/../.."
# No metrics listener unless asked: several servers may run at once, and the default port is one.
export HAPPYDESK_METRICS_ADDRESS="${HAPPYDESK_METRICS_ADDRESS:-off}"
SOCKETS=${SOCKETS:-200} RATE=${RATE:-500} DURATION=${DURATION:-10} ANALYSTS=${ANALYSTS:-100} MANAGERS=${MANAGERS:-10}
python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets
# BIN overrides the binary (e.g. a debug build); REBUILD=0 skips the release build when one exists.
BIN=${BIN:-.build/release/happydesk}
if [ "$BIN" = .build/release/happydesk ]; then
  [ -x "$BIN" ] && [ "${REBUILD:-1}" = 0 ] || swift build -c release --product happydesk >&2
fi
work=$(mktemp -d)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; wait "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
export HAPPYDESK_DATABASE="$work/bench.sqlite" HAPPYDESK_OUTBOX_DIR="$work/outbox" HAPPYDESK_LOG_LEVEL=warning
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$BIN migrate >/dev/null
: >"$work/users"
for i in $(seq 1 "$ANALYSTS"); do
  token=$($BIN users add --name "Analyst $i" --email "analyst$i@example.com" --role analyst --assignee-id "a$i" | sed -n 's/^API token (shown once): //p')
  echo "analyst a$i $token" >>"$work/users"
done
for i in $(seq 1 "$MANAGERS"); do
  token=$($BIN users add --name "Manager $i" --email "manager$i@example.com" --role manager | sed -n 's/^API token (shown once): //p')
  echo "manager - $token" >>"$work/users"
done
# Closures are posted with an integration token: only an authenticated caller gets survey_url back.
integration=$($BIN users add --name "Bench ITSM" --role integration | sed -n 's/^API token (shown once): //p')
echo "integration - $integration" >>"$work/users"
# The limits stay on (their cost is measured) but so high that a benchmark from one address never meets them.
export HAPPYDESK_RATE_LIMIT_CLOSURES=1000000/sec HAPPYDESK_RATE_LIMIT_SURVEY=1000000/sec HAPPYDESK_RATE_LIMIT_SIGNIN=1000000/sec
HAPPYDESK_PORT=$port $BIN serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
python3 Benchmarks/stream/bench.py --url "http://127.0.0.1:$port" --users "$work/users" \
  --sockets "$SOCKETS" --rate "$RATE" --seconds "$DURATION"
