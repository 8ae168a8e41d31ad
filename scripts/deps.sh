#!/usr/bin/env bash
# Installs what happydesk needs on a Debian machine, only when missing.
#   scripts/deps.sh            build and run: libsqlite3-dev, libcurl4-openssl-dev
#   scripts/deps.sh test       also the real peers the tests use: chromium, aiosmtpd, postgresql, …
#   scripts/deps.sh bench      also wrk, hyperfine and postgresql
set -euo pipefail
want=(libsqlite3-dev libcurl4-openssl-dev pkg-config sqlite3)
py=()
case "${1:-}" in
  test) want+=(chromium chromium-driver openssl postgresql); py+=(aiosmtpd websockets selenium schemathesis authlib flask prometheus_client) ;;
  bench) want+=(wrk hyperfine time postgresql); py+=(aiosmtpd websockets) ;;
esac
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for mod in "${py[@]}"; do
  python3 -c "import $mod" 2>/dev/null || { echo "installing python $mod" >&2; python3 -m pip install -q "$mod"; }
done
