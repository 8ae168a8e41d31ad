#!/usr/bin/env bash
# The dashboard over 1,000,000 responses: wall time and peak memory of `happydesk dashboard` beside the
# sqlite3 CLI running equivalent aggregate queries on the same file, in the same run.
#
#   Benchmarks/dashboard/run.sh                 # 1,000,000 responses over 365 days (seeded once, cached)
#   RESPONSES=100000 Benchmarks/dashboard/run.sh
#   SEED=sql Benchmarks/dashboard/run.sh       # seed with seed.sql (set-wise SQL, minutes) instead of happydesk demo
#   BIN=.build/debug/happydesk Benchmarks/dashboard/run.sh
#
# The demo database is cached under .build/bench-dashboard/ (seeding 1M responses takes a few minutes).
# Two sqlite3 baselines are timed:
#   raw     — the aggregates the dashboard shows, computed from the base tables (responses ⋈ invitations ⋈
#             closures, response_factors): what any tool without roll-ups has to do.
#   rollup  — the very queries the dashboard issues against the roll-up tables of migration 0005.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${RESPONSES:-1000000}
DAYS=${DAYS:-365}
RUNS=${RUNS:-5}
BIN=${BIN:-.build/release/happydesk}
WORK=.build/bench-dashboard
DB=$WORK/demo-$N-$DAYS.sqlite
OPTS=(--surveys Surveys --migrations Migrations)
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: scripts/deps.sh installs it" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [ "$BIN" = .build/release/happydesk ] && { [ ! -x "$BIN" ] || [ -n "$(find Sources Package.swift -newer "$BIN" -print -quit)" ]; }; then
  swift build -c release --product happydesk >&2
fi
mkdir -p "$WORK"
if [ ! -f "$DB.done" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  start=$(date +%s)
  if [ "${SEED:-demo}" = sql ]; then
    # Set-wise SQL seed (seed.sql): minutes instead of the demo generator's row-by-row inserts and triggers.
    echo "seeding about $N responses over $DAYS days with seed.sql into $DB (once)…" >&2
    sqlite3 "$DB" "PRAGMA journal_mode = WAL; CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);" >/dev/null
    for f in Migrations/*.sql; do
      id=$(basename "$f" .sql)
      [[ "$id" < "0005" ]] && sqlite3 "$DB" ".read $f" "INSERT INTO grdb_migrations VALUES ('$id')"
    done
    sed -e "s/:INVITATIONS/$(( N * 5 / 2 ))/g" -e "s/:DAYS/$DAYS/g" Benchmarks/dashboard/seed.sql > "$WORK/seed-run.sql"
    sqlite3 "$DB" ".read $WORK/seed-run.sql"
    for f in Migrations/*.sql; do
      id=$(basename "$f" .sql)
      [[ "$id" < "0005" ]] || sqlite3 "$DB" ".read $f" "INSERT INTO grdb_migrations VALUES ('$id')"
    done
  else
    echo "seeding $N responses over $DAYS days with happydesk demo into $DB (once)…" >&2
    "$BIN" demo --database "$DB" "${OPTS[@]}" --responses "$N" --days "$DAYS" --seed 7 >&2
  fi
  sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;" >/dev/null
  echo "seeded in $(( $(date +%s) - start )) s" >&2
  touch "$DB.done"
fi
# A database cached by an older checkout gets the newer migrations (0006 records what each response counts).
"$BIN" migrate --database "$DB" "${OPTS[@]}" --log-level error >&2
FROM=$(sqlite3 "$DB" "SELECT min(day) FROM dashboard_daily WHERE dim = 'all'")
TO=$(sqlite3 "$DB" "SELECT max(day) FROM dashboard_daily WHERE dim = 'all'")
TOTAL=$(sqlite3 "$DB" "SELECT count(*) FROM responses")
cat "$DB" > /dev/null  # same warm page cache for every contender

RAW_SQL=$(cat <<SQL
-- per day and kind: responses, 9–10, 0–6, lost time (trend, periods, headline, moving average)
SELECT substr(r.first_answered_at, 1, 10), i.kind, count(*), sum(r.score >= 9), sum(r.score <= 6), count(r.lost_minutes), sum(r.lost_minutes)
FROM responses r JOIN invitations i ON i.id = r.invitation_id
WHERE r.first_answered_at >= '$FROM' AND r.first_answered_at < date('$TO', '+1 day') GROUP BY 1, 2;
-- per service (breakdown, hotspots)
SELECT i.service, count(*), sum(r.score >= 9), sum(r.score <= 6), count(r.lost_minutes), sum(r.lost_minutes)
FROM responses r JOIN invitations i ON i.id = r.invitation_id
WHERE r.first_answered_at >= '$FROM' AND r.first_answered_at < date('$TO', '+1 day') GROUP BY 1;
-- per reassignment count
SELECT min(c.reassignments, 5), count(*), sum(r.score >= 9), sum(r.score <= 6)
FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
WHERE r.first_answered_at >= '$FROM' AND r.first_answered_at < date('$TO', '+1 day') GROUP BY 1;
-- lost-time histogram (Pareto)
SELECT lost_minutes, count(*) FROM responses
WHERE lost_minutes IS NOT NULL AND first_answered_at >= '$FROM' AND first_answered_at < date('$TO', '+1 day') GROUP BY 1;
-- factor picks per month and band
SELECT substr(r.first_answered_at, 1, 7), CASE WHEN r.score >= 9 THEN 'positive' WHEN r.score >= 7 THEN 'neutral' ELSE 'negative' END, f.factor_id, count(*)
FROM response_factors f JOIN responses r ON r.id = f.response_id
WHERE r.first_answered_at >= '$FROM' AND r.first_answered_at < date('$TO', '+1 day') GROUP BY 1, 2, 3;
-- invitations sent per day
SELECT substr(COALESCE(sent_at, created_at), 1, 10), count(*) FROM invitations
WHERE sent_at IS NOT NULL OR status IN ('sent', 'answered', 'expired') GROUP BY 1;
SQL
)
ROLLUP_SQL=$(cat <<SQL
SELECT day, kind, sum(responses), sum(positive), sum(negative), sum(lost_answered), sum(lost_minutes) FROM dashboard_daily WHERE dim = 'all' AND day BETWEEN '$FROM' AND '$TO' GROUP BY 1, 2;
SELECT day, value, sum(responses), sum(positive), sum(negative), sum(lost_answered), sum(lost_minutes) FROM dashboard_daily WHERE dim = 'service' AND day BETWEEN '$FROM' AND '$TO' GROUP BY 1, 2;
SELECT value, sum(responses), sum(positive), sum(negative) FROM dashboard_daily WHERE dim = 'reassignments' AND day BETWEEN '$FROM' AND '$TO' GROUP BY 1;
SELECT value, sum(responses) FROM dashboard_daily WHERE dim = 'lost' AND day BETWEEN '$FROM' AND '$TO' GROUP BY 1;
SELECT day, kind, band, factor_id, sum(picks) FROM dashboard_factor_daily WHERE dim = 'all' AND value = '' AND day BETWEEN '$FROM' AND '$TO' GROUP BY 1, 2, 3, 4;
SELECT day, sum(sent) FROM dashboard_sent_daily WHERE day BETWEEN '$FROM' AND '$TO' GROUP BY 1;
SELECT r.id, r.comment FROM responses r INDEXED BY responses_commented WHERE r.comment IS NOT NULL AND r.comment <> '' AND r.first_answered_at < date('$TO', '+1 day') ORDER BY r.first_answered_at DESC LIMIT 20;
SQL
)

printf '%s\n' "$RAW_SQL" > "$WORK/raw.sql"
printf '%s\n' "$ROLLUP_SQL" > "$WORK/rollup.sql"

# Runs a command RUNS times; prints "median_ms peak_kb".
measure() {
  local times=() peak=0 out="$WORK/time.out" start end kb
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$out" "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    kb=$(tail -1 "$out")
    times+=("$(( (end - start) / 1000000 ))")
    if (( kb > peak )); then peak=$kb; fi
  done
  echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p") $peak"
}
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f s", ms / 1000 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.0f MB", kb / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'; }

read -r html_ms html_kb < <(measure "$BIN" dashboard --database "$DB" "${OPTS[@]}" --from "$FROM" --to "$TO" --out "$WORK/dashboard.html")
read -r json_ms json_kb < <(measure "$BIN" dashboard --database "$DB" "${OPTS[@]}" --from "$FROM" --to "$TO" --period week --by assignee --format json --out "$WORK/dashboard.json")
read -r raw_ms raw_kb < <(measure sqlite3 "$DB" ".read $WORK/raw.sql")
read -r roll_ms roll_kb < <(measure sqlite3 "$DB" ".read $WORK/rollup.sql")

{
  echo "dashboard benchmark: $TOTAL responses ($BIN, seed ${SEED:-demo}), $FROM to $TO, median of $RUNS warm runs, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
  printf '  %-46s %10s  peak %s\n' "happydesk dashboard --out dashboard.html" "$(secs "$html_ms")" "$(mb "$html_kb")"
  printf '  %-46s %10s  peak %s\n' "happydesk dashboard --period week --by assignee --format json" "$(secs "$json_ms")" "$(mb "$json_kb")"
  printf '  %-46s %10s  peak %s\n' "sqlite3: equivalent aggregates on base tables" "$(secs "$raw_ms")" "$(mb "$raw_kb")"
  printf '  %-46s %10s  peak %s\n' "sqlite3: the dashboard's own roll-up queries" "$(secs "$roll_ms")" "$(mb "$roll_kb")"
  echo "  ratio html / sqlite3 base-table aggregates: $(ratio "$html_ms" "$raw_ms")   (target ≤ 1.50×)"
  echo "  ratio html / sqlite3 roll-up queries:       $(ratio "$html_ms" "$roll_ms")   (process start, YAML and migration check included)"
  echo "  targets: < 2 s and < 200 MB peak: $( (( html_ms < 2000 && html_kb < 204800 )) && echo met || echo MISSED)"
} | tee "$WORK/results.txt"
