#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, CI and benchmarks. Nothing here is fit for production.
#   scripts/postgres.sh start DIR   initdb into DIR/data (first time), start on 127.0.0.1:<free port>, create the
#                                   role happydesk (password happydesk-test, CREATEDB) and its database happydesk,
#                                   write DIR/env and print its line:
#                                     export HAPPYDESK_TEST_DATABASE_URL=postgres://happydesk:happydesk-test@127.0.0.1:PORT/happydesk
#                                   Already running: only prints the line again.
#   scripts/postgres.sh stop DIR    fast shutdown; quiet when it is not running.
# Usage in a shell: eval "$(scripts/postgres.sh start /tmp/pg)"; …; scripts/postgres.sh stop /tmp/pg
#
# The server runs as an unprivileged user: the caller, or when the caller is root the `postgres` system user
# (created as system user `happydesk-pg` when there is none); DIR is chowned to it and must be reachable by it.
# TCP connections (127.0.0.1 only) need a SCRAM-SHA-256 password. The superuser is the server's OS user, over
# the unix socket in DIR only (peer authentication): runuser -u postgres -- psql -h DIR -p PORT -d postgres.
# The cluster has no locale (C, UTF8): text sorts in byte order like SQLite's BINARY collation, and lower()
# folds ASCII only, like SQLite's NOCASE.
# Installs Debian's `postgresql` with apt-get when no initdb/pg_ctl is found.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ $# -eq 2 ] || usage
cmd=$1
case "$cmd" in start | stop) ;; *) usage ;; esac
[ "$cmd" = stop ] && [ ! -d "$2" ] && exit 0
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
data="$dir/data"

# The newest directory holding initdb, pg_ctl and postgres, from PATH and /usr/lib/postgresql/*/bin.
find_bindir() {
  local candidates=() d best="" best_version="" version p
  for p in initdb pg_ctl; do
    if command -v "$p" >/dev/null 2>&1; then candidates+=("$(dirname "$(readlink -f "$(command -v "$p")")")"); fi
  done
  for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && candidates+=("$d"); done
  for d in ${candidates[@]+"${candidates[@]}"}; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] || continue
    version=$("$d/initdb" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)*' | head -n 1) || continue
    [ -n "$version" ] || continue
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best_version" "$version" | sort -V | tail -n 1)" = "$version" ]; then
      best=$d best_version=$version
    fi
  done
  [ -n "$best" ] && echo "$best"
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  [ "$cmd" = stop ] && exit 0 # nothing installed, so nothing runs
  log "no initdb/pg_ctl found: installing Debian's postgresql"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed and there is no sudo to install it: apt-get install postgresql"
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bindir=$(find_bindir || true)
  [ -n "$bindir" ] || die "postgresql installed but no initdb/pg_ctl found in PATH or /usr/lib/postgresql/*/bin"
fi
psql="$bindir/psql"
[ -x "$psql" ] || psql=$(command -v psql) || die "psql not found"

# Who runs the server: the owner of an existing cluster, else the caller, else (root) postgres / happydesk-pg.
if [ -d "$data" ]; then
  runas=$(stat -c %U "$data")
elif [ "$(id -u)" -ne 0 ]; then
  runas=$(id -un)
elif id -u postgres >/dev/null 2>&1; then
  runas=postgres
else
  id -u happydesk-pg >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin happydesk-pg
  runas=happydesk-pg
fi

# Runs a command as $runas, from DIR (a cwd it may not be able to read, like /root, makes initdb complain).
as_server() {
  if [ "$(id -un)" = "$runas" ]; then
    (cd "$dir" && "$@")
  elif [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd "$dir" && runuser -u "$runas" -- "$@")
    else
      local quoted
      quoted=$(printf '%q ' "$@")
      (cd "$dir" && su "$runas" -s /bin/sh -c "$quoted")
    fi
  else
    die "the cluster in $data belongs to $runas; run this as $runas or root"
  fi
}

running() { [ -f "$data/PG_VERSION" ] && as_server "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# The port of the running server: line 4 of postmaster.pid.
running_port() { sed -n 4p "$data/postmaster.pid"; }

url_line() { echo "export HAPPYDESK_TEST_DATABASE_URL=postgres://happydesk:happydesk-test@127.0.0.1:$1/happydesk"; }

if [ "$cmd" = stop ]; then
  if running; then
    as_server "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  exit 0
fi

# start
if running; then
  port=$(running_port)
  url_line "$port" >"$dir/env"
  cat "$dir/env"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && [ "$runas" != root ]; then
  chown -R "$runas:" "$dir"
fi
as_server test -w "$dir" ||
  die "$runas cannot write $dir (is a parent folder closed to it?): use a folder it can reach, e.g. under /tmp"

if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"
  log "initdb $data ($("$bindir/initdb" --version))"
  as_server "$bindir/initdb" -D "$data" --no-locale --encoding=UTF8 \
    --auth-local=peer --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: see $dir/initdb.log"
  echo "include_if_exists = 'happydesk.conf'" | as_server tee -a "$data/postgresql.conf" >/dev/null
fi

# A free port, bound and released; another process may take it before the server does, so retry.
started=""
for _ in 1 2 3; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  socket="$dir/.s.PGSQL.$port"
  [ "${#socket}" -lt 108 ] || die "unix socket path $socket is too long (max 107 bytes): use a shorter DIR"
  # Later settings win over postgresql.conf's; quotes doubled for the config syntax.
  as_server tee "$data/happydesk.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '${dir//\'/\'\'}'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
password_encryption = 'scram-sha-256'
logging_collector = off
EOF
  if as_server "$bindir/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 start >/dev/null; then
    started=1
    break
  fi
  log "start on port $port failed (see $dir/log); trying another port"
done
[ -n "$started" ] || die "PostgreSQL did not start: see $dir/log"

as_server "$psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$runas" -d postgres >/dev/null <<'EOF'
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'happydesk') THEN
        ALTER ROLE happydesk LOGIN CREATEDB PASSWORD 'happydesk-test';
    ELSE
        CREATE ROLE happydesk LOGIN CREATEDB PASSWORD 'happydesk-test';
    END IF;
END
$$;
SELECT 'CREATE DATABASE happydesk OWNER happydesk' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'happydesk')
\gexec
EOF

url_line "$port" >"$dir/env"
cat "$dir/env"
