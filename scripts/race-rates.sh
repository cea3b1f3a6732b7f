#!/usr/bin/env bash
# How often a race shows per round on a target, per release: HUNTS hunts of one race scenario,
# each round after round until its first broken round (or BUDGET), each round released the way
# the rotation says (last-byte or barrier, the same 50 µs apart, HTTP/2 where the target speaks
# it). A hunt that stops at its first broken round is a geometric trial, so broken rounds over
# rounds run is the per-round rate (its maximum-likelihood estimate), per release and in all.
#
#   scripts/race-rates.sh URL SCENARIO [HUNTS]      # e.g. URL of scripts/real-servers.sh --serve
#   PROFILE=scripts/real-servers/wsgidav.yaml scripts/race-rates.sh http://127.0.0.1:8080/ specs/race-if-match.yaml 20
#
# Bounded: HUNTS hunts (default 20) of at most BUDGET (default 2000 rounds or 60 s) each.
# CONTEND=path/to/contend compares another build (default: target/release/contend, built).
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: scripts/race-rates.sh URL SCENARIO [HUNTS]}
scenario=${2:?usage: scripts/race-rates.sh URL SCENARIO [HUNTS]}
hunts=${3:-20}
budget=${BUDGET:-2000,60s}
contend=${CONTEND:-target/release/contend}
[ -x "$contend" ] || cargo build --release --locked --quiet
work=$(mktemp -d /tmp/contend-race-rates.XXXXXX)
trap 'rm -rf "$work"' EXIT
profile=()
[ -n "${PROFILE:-}" ] && profile=(--config "$PROFILE")
for i in $(seq 1 "$hunts"); do
  "$contend" run --quiet --target "$url" "${profile[@]}" --race-budget "$budget" \
    --report "json=$work/hunt-$i.json" "$scenario" > /dev/null 2>&1 || true
done
# Sum the rounds and broken rounds of every hunt, per release.
jq -rs --arg scenario "$scenario" --arg url "$url" '
  [ .[].scenarios[] | select(.rounds != null) | .rounds
    | if (.releases // []) == [] then {release: "(no group: a workload)", rounds: .total, broke: .failed}
      else .releases[] end ] as $tallies
  | ($tallies | group_by(.release)
     | map({release: .[0].release, rounds: (map(.rounds) | add), broke: (map(.broke) | add)})) as $per
  | ($per | map(.rounds) | add // 0) as $rounds | ($per | map(.broke) | add // 0) as $broke
  | "\($scenario) against \($url): \(length) hunts",
    ($per[] | "  \(.release): \(.broke) broken in \(.rounds) rounds (\(if .rounds > 0 then (.broke * 10000 / .rounds | round / 100) else 0 end) % per round)"),
    "  all: \($broke) broken in \($rounds) rounds (\(if $rounds > 0 then ($broke * 10000 / $rounds | round / 100) else 0 end) % per round)"
' "$work"/hunt-*.json
