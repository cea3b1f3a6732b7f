#!/usr/bin/env bash
# How reading a file of many YAML documents scales when some hold mistakes: generates files of
# N one-step scenarios (a mistake in the last document; a mistake in every tenth) under a
# temporary directory and times `contend check` on each (median of 3, release build).
#
#   scripts/loader-scale.sh            # 1,000 / 4,000 / 8,000 / 10,000 documents
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release
contend=$PWD/target/release/contend
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
doc = lambda i: f"name: s{i}\nsteps:\n  - name: read\n    request: {{ path: /x{i} }}\n    expect: {{ status: 200 }}\n"
for n in (1000, 4000, 8000, 10000):
    docs = [doc(i) for i in range(n)]
    last = docs[:-1] + [docs[-1].replace("expect:", "expcet:")]
    open(f"{work}/last-{n}.yaml", "w").write("---\n".join(last))
    tenth = [d.replace("expect:", "expcet:") if i % 10 == 9 else d for i, d in enumerate(docs)]
    open(f"{work}/tenth-{n}.yaml", "w").write("---\n".join(tenth))
PY
printf '| documents | mistake | file KiB | median s | peak MiB | errors reported |\n|---|---|---|---|---|---|\n'
for n in 1000 4000 8000 10000; do
  for kind in last tenth; do
    file=$work/$kind-$n.yaml
    times=()
    for _ in 1 2 3; do
      /usr/bin/time -f '%e %M' -o "$work/t" "$contend" check "$file" > "$work/out" 2>&1 || true
      times+=("$(tail -n 1 "$work/t")")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    errors=$(grep -c ': error: ' "$work/out" || true)
    printf '| %s | %s | %s | %s | %.1f | %s |\n' "$n" "$kind" "$(( $(stat -c %s "$file") / 1024 ))" \
      "${median% *}" "$(awk "BEGIN{print ${median#* }/1024}")" "$errors"
  done
done
