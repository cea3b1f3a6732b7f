#!/usr/bin/env bash
# How often the shipped race scenario catches a check-then-write race the way a user runs it:
# `contend run` against a server in a process of its own (the reference server with a planted
# check-then-write fault, on loopback), once with one round and once with the three it ships
# with. Bounded: RUNS runs each (default 100).
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
sed 's/^rounds: 3/rounds: 1/' specs/race-if-match.yaml > "$work/one-round.yaml"
echo "fault $fault, $runs runs each, against $url"
for spec in "$work/one-round.yaml" specs/race-if-match.yaml; do
  caught=0
  for _ in $(seq 1 "$runs"); do
    # A failed scenario (exit 1) is a caught race.
    if ! "$contend" run --quiet --target "$url" "$spec" > /dev/null 2>&1; then
      caught=$((caught + 1))
    fi
  done
  case $spec in
    *one-round.yaml) echo "one round:              caught $caught of $runs" ;;
    *) echo "as shipped (3 rounds):  caught $caught of $runs" ;;
  esac
done
