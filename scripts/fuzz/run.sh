#!/usr/bin/env bash
# make fuzz: starts a real happydesk server on a real loopback socket, seeds it with users and answered
# surveys, then runs schemathesis over every operation of docs/openapi.yaml (with valid credentials per
# route) and a raw fuzzer (malformed request lines, headers, bodies, WebSocket frames). It fails on any
# 5xx, any crash, or any response that does not match the description.
#
#   FUZZ_EXAMPLES   schemathesis cases per operation (default 1000; `make test` uses 100)
#   FUZZ_RAW        raw fuzzer cases (default 20000; `make test` uses 2000)
#   BIN             the happydesk binary (default .build/debug/happydesk)
#   FUZZ_SPEC       a description to test instead of the one the server serves (to check the checks)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/debug/happydesk}
EXAMPLES=${FUZZ_EXAMPLES:-1000}
RAW=${FUZZ_RAW:-20000}
[ -x "$BIN" ] || { echo "fuzz: $BIN is not built (swift build)" >&2; exit 1; }
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q schemathesis
python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HAPPYDESK_DATABASE="$work/fuzz.sqlite" HAPPYDESK_SECRET_KEY_FILE="$work/secret.key" HAPPYDESK_OUTBOX_DIR="$work/outbox"
export HAPPYDESK_PORT="$port" HAPPYDESK_HOST=127.0.0.1 HAPPYDESK_PUBLIC_URL="http://127.0.0.1:$port" HAPPYDESK_LOG_LEVEL=warning
# The metrics listener is not what is fuzzed here, and another run may hold its default port.
export HAPPYDESK_METRICS_ADDRESS=off
# Generous limits: the fuzzer should reach the handlers, not only the limiters (429 is still a documented answer).
export HAPPYDESK_RATE_LIMIT_SIGNIN=100000/min HAPPYDESK_RATE_LIMIT_SURVEY=100000/min HAPPYDESK_RATE_LIMIT_CLOSURES=100000/min

"$BIN" migrate >/dev/null
token() { "$BIN" users add "$@" | sed -n 's/^API token (shown once): //p'; }
export FUZZ_MANAGER=$(token --name "Fuzz Manager" --email fuzz-manager@example.test --role manager)
export FUZZ_ANALYST=$(token --name "Fuzz Analyst" --email sam@example.com --role analyst --assignee-id analyst-7)
export FUZZ_INTEGRATION=$(token --name "Fuzz Integration" --role integration)
[ -n "$FUZZ_MANAGER" ] && [ -n "$FUZZ_ANALYST" ] && [ -n "$FUZZ_INTEGRATION" ] || { echo "fuzz: could not create users" >&2; exit 1; }

"$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
export FUZZ_BASE="http://127.0.0.1:$port" FUZZ_PID=$server_pid FUZZ_LOG="$work/server.log"
for _ in $(seq 1 100); do curl -fsS "$FUZZ_BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$FUZZ_BASE/healthz" >/dev/null || { echo "fuzz: server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

export FUZZ_SEED_FILE="$work/seed.json"
python3 scripts/fuzz/seed.py
alive() { kill -0 "$server_pid" 2>/dev/null || { echo "fuzz: the server died" >&2; tail -50 "$work/server.log" >&2; exit 1; }; }

echo "fuzz: schemathesis, $EXAMPLES cases per operation"
status=0
SCHEMATHESIS_HOOKS=scripts.fuzz.hooks PYTHONPATH=. schemathesis run "${FUZZ_SPEC:-$FUZZ_BASE/openapi.yaml}" --url "$FUZZ_BASE" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases coverage,fuzzing --max-examples "$EXAMPLES" --seed 20261201 --workers 2 --no-shrink \
  --request-timeout 10 --suppress-health-check all --warnings off --output-truncate true \
  --exclude-path /api/v1/stream || status=$?
alive
echo "fuzz: raw fuzzer, $RAW cases"
python3 scripts/fuzz/raw.py "$RAW" || status=$?
alive
if grep -q "unhandled error" "$work/server.log"; then
  echo "fuzz: the server logged an unhandled error:" >&2; grep -m5 "unhandled error" "$work/server.log" >&2; status=1
fi
[ "$status" -eq 0 ] && echo "fuzz: 0 server errors, 0 crashes, every response matched docs/openapi.yaml"
exit "$status"
