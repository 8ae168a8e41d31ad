#!/usr/bin/env bash
# `make bench`: every benchmark, each measured against its baseline in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in foundation delivery stream dashboard postgres; do
  if [ -x "Benchmarks/$bench/run.sh" ]; then
    echo "== $bench"
    "Benchmarks/$bench/run.sh"
    echo
  fi
done
