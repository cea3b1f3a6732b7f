#!/usr/bin/env bash
# How often contend catches a race the way a user runs it: `contend run` against a reference
# server in a process of its own (on loopback) with a planted race. Three parts, each bounded by
# RUNS runs (default 100):
#
#   one     the shipped race scenario against FAULT (default check-then-write-100us): one round
#           (--race-budget 1), then as shipped (no flag: the default budget)
#   suite   the whole built-in suite, no flag, against --fault rare-lost-update at RATE of writes
#           (default 3 %): runs that failed, and the slowest run; then the same against the
#           correct server, which must never fail
#   bound   the power a pass states, tested: against rare-lost-update at BOUND_RATE of writes
#           (default 1.6 %, where race-if-match's per-round rate is about the 1.5 % that 200
#           held rounds state), the per-round rate measured (hunts to their first broken round:
#           broken rounds over rounds), the rate passing runs stated, and how many of RUNS runs
#           caught it; a true statement catches at least 95 % of runs at the stated rate
#
#   scripts/race-detection.sh                      # all three parts
#   PARTS=bound RUNS=200 scripts/race-detection.sh
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${PARTS:-one suite bound}
runs=${RUNS:-100}
cargo build --release --locked --quiet
contend=$PWD/target/release/contend
work=$(mktemp -d /tmp/contend-race-detection.XXXXXX)
servers=()
trap 'kill "${servers[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# Starts `contend serve` with the given flags; sets $url.
serve() {
  local log="$work/serve-${#servers[@]}.log"
  "$contend" serve --addr 127.0.0.1:0 "$@" > "$log" 2>&1 &
  servers+=("$!")
  url=
  for _ in $(seq 1 50); do
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$url" ] && return
    sleep 0.1
  done
  echo "the reference server did not start: $(cat "$log")" >&2
  exit 1
}

# Runs `contend run --target $url ARGS...` $runs times; prints "caught N of RUNS, slowest S s".
# A run that exits 1 failed (a race caught, or on the correct server, an accusation).
count_failures() {
  local caught=0 slowest=0 start end took code
  for i in $(seq 1 "$runs"); do
    start=$(date +%s.%N)
    code=0
    "$contend" run --quiet --target "$url" --report "json=$work/run-$i.json" "$@" > /dev/null 2>&1 || code=$?
    end=$(date +%s.%N)
    [ "$code" -eq 1 ] && caught=$((caught + 1))
    [ "$code" -gt 1 ] && { echo "run $i stopped with exit $code" >&2; exit 1; }
    took=$(echo "$end - $start" | bc)
    slowest=$(echo "if ($took > $slowest) $took else $slowest" | bc)
  done
  printf 'caught %d of %d, slowest run %.1f s\n' "$caught" "$runs" "$slowest"
}

for part in $parts; do
  case $part in
    one)
      fault=${FAULT:-check-then-write-100us}
      serve --fault "$fault"
      echo "== one: specs/race-if-match.yaml against --fault $fault, $runs runs each"
      printf '  one round (--race-budget 1):        '
      count_failures --race-budget 1 specs/race-if-match.yaml
      printf '  as shipped (no flag):               '
      count_failures specs/race-if-match.yaml
      ;;
    suite)
      rate=${RATE:-3%}
      serve --fault rare-lost-update --fault-rate "$rate"
      echo "== suite: the built-in suite, no flag, $runs runs each"
      printf '  rare-lost-update at %s of writes: ' "$rate"
      count_failures
      serve
      printf '  the correct server:                 '
      count_failures
      ;;
    bound)
      rate=${BOUND_RATE:-1.6%}
      serve --fault rare-lost-update --fault-rate "$rate"
      echo "== bound: specs/race-if-match.yaml against rare-lost-update at $rate of writes"
      # The per-round rate: hunts with a budget far above the rate's reciprocal.
      hunts=$((runs / 2))
      for i in $(seq 1 "$hunts"); do
        "$contend" run --quiet --target "$url" --race-budget 100000,60s \
          --report "json=$work/hunt-$i.json" specs/race-if-match.yaml > /dev/null 2>&1 || true
      done
      jq -rs '[.[].scenarios[0].rounds] | (map(.failed) | add) as $b | (map(.total) | add) as $n
        | "  per-round rate measured:            \($b) broken in \($n) rounds = \($b * 10000 / $n | round / 100) %"' \
        "$work"/hunt-*.json
      printf '  as shipped (no flag):               '
      count_failures specs/race-if-match.yaml
      jq -rs '[.[].scenarios[0].rounds | select(.failed == 0)] as $held
        | if ($held | length) == 0 then "  no run held: none stated a rate"
          else ($held | map(.total) | sort) as $t
          | "  runs that held stated a rate from:  \(($t | last) as $n | 1 - pow(0.05; 1 / $n) | . * 10000 | round / 100) % (\($t | last) rounds) to \(($t | first) as $n | 1 - pow(0.05; 1 / $n) | . * 10000 | round / 100) % (\($t | first) rounds)"
          end' "$work"/run-*.json
      ;;
    *) echo "unknown part $part (one, suite, bound)" >&2; exit 2 ;;
  esac
done
