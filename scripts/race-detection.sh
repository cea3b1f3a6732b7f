#!/usr/bin/env bash
# How often the shipped race scenario catches a check-then-write race the way a user runs it:
# `contend run` against a server in a process of its own (the reference server with a planted
# check-then-write fault, on loopback), once with one round and once with the budget it ships
# with (200 rounds or 2 s). Bounded: RUNS runs each (default 100).
#
#   scripts/race-detection.sh                       # the 100 µs gap
#   FAULT=check-then-write RUNS=50 scripts/race-detection.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fault=${FAULT:-check-then-write-100us}
runs=${RUNS:-100}
cargo build --release --locked --quiet
contend=$PWD/target/release/contend
work=$(mktemp -d /tmp/contend-race-detection.XXXXXX)
"$contend" serve --addr 127.0.0.1:0 --fault "$fault" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  url=$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the reference server did not start" >&2; exit 1; }
echo "fault $fault, $runs runs each, against $url"
# One round (--race-budget 1), then as shipped: the default budget, 200 rounds or 2 s.
for budget in 1 default; do
  caught=0
  flags=()
  [ "$budget" = 1 ] && flags=(--race-budget 1)
  for _ in $(seq 1 "$runs"); do
    # A failed scenario (exit 1) is a caught race.
    if ! "$contend" run --quiet --target "$url" "${flags[@]}" specs/race-if-match.yaml > /dev/null 2>&1; then
      caught=$((caught + 1))
    fi
  done
  case $budget in
    1) echo "one round:                        caught $caught of $runs" ;;
    *) echo "as shipped (200 rounds or 2 s):   caught $caught of $runs" ;;
  esac
done
