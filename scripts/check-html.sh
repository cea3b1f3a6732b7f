#!/usr/bin/env bash
# Checks an HTML matrix from `contend report --compare ... --html` in a real headless browser
# (Debian's chromium, installed when missing): the page renders, the matrix has a row per rule
# and the expected number of server columns, and opening a failing cell shows its exchange.
# Then writes a screenshot of the page.
#
#   scripts/check-html.sh MATRIX.html SCREENSHOT.png COLUMNS
set -euo pipefail
page=$1 shot=$2 columns=$3
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing; run as root to install it with apt-get" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
work=$(mktemp -d /tmp/contend-html.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A copy with a script that opens the first failing cell and records what the browser shows.
python3 - "$page" "$work/probe.html" <<'PY'
import sys
page = open(sys.argv[1]).read()
script = """<script>
window.addEventListener('load', () => {
  const rows = document.querySelectorAll('#matrix tbody tr').length;
  const cols = document.querySelector('#matrix thead tr').querySelectorAll('th').length - 1;
  // Summary first, the failures next and open, and words a person reads.
  const first = document.querySelector('h2').textContent;
  const failure = document.querySelector('#failures h3');
  const words = !/\b(NotApplicable|NotRun|AcceptedByProfile|Failed|Passed)\b/.test(document.body.innerText);
  const cell = document.querySelector('td.fail details');
  const pre = cell && cell.querySelector('pre.exchange');
  // Seen by the user: rendered, and not hidden in a closed <details>.
  const seen = (e) => e.checkVisibility() && e.getBoundingClientRect().height > 0;
  const closed = pre ? seen(pre) : null;
  if (cell) cell.open = true;
  const open = pre ? seen(pre) : null;
  // Every failing cell opens onto the scenario (and finding) behind it.
  const failing = [...document.querySelectorAll('td.fail details')];
  failing.forEach((d) => { d.open = true; });
  const empty = failing.filter((d) => ![...d.querySelectorAll('.scenario')].some(seen)).length;
  // A failing cell opens onto a finding under its rule, not onto an unrelated scenario.
  const unrelated = failing.filter((d) => !d.querySelector('.finding')).length;
  document.title = JSON.stringify({rows, cols, closed, open, failing: failing.length, empty,
    unrelated, first, failureSeen: failure ? seen(failure) : null, words,
    shown: pre ? pre.textContent.slice(0, 60) : ''});
});
</script>"""
open(sys.argv[2], "w").write(page.replace("</body>", script + "</body>"))
PY
chrome=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars)
"${chrome[@]}" --dump-dom "file://$work/probe.html" > "$work/dom.html" 2>/dev/null
python3 - "$work/dom.html" "$columns" <<'PY'
import html, json, re, sys
dom = open(sys.argv[1]).read()
seen = json.loads(html.unescape(re.search(r"<title>(.*?)</title>", dom, re.S).group(1)))
print(f"rendered: {seen['rows']} rule rows, {seen['cols']} server columns; a failing cell's "
      f"exchange visible closed: {seen['closed']}, open: {seen['open']}, showing {seen['shown']!r}")
assert seen["cols"] == int(sys.argv[2]), "wrong number of server columns"
assert seen["rows"] > 0, "no rule rows"
assert seen["closed"] is False and seen["open"] is True, "a failing cell does not expand"
assert seen["shown"].startswith("> "), "the expanded cell shows no exchange"
print(f"{seen['failing']} failing cells, {seen['empty']} of them empty when opened, "
      f"{seen['unrelated']} without a finding; first section {seen['first']!r}; a failing rule "
      f"visible without a click: {seen['failureSeen']}; no enum names: {seen['words']}")
assert seen["empty"] == 0, "a failing cell opens onto nothing"
assert seen["unrelated"] == 0, "a failing cell opens onto no finding of its rule"
assert seen["first"] == "Summary", "the page does not open on its summary"
assert seen["failing"] == 0 or seen["failureSeen"] is True, "the failures are not in view"
assert seen["words"], "the page shows an enum name"
PY
"${chrome[@]}" --window-size=1400,1600 --screenshot="$shot" "file://$(realpath "$page")" 2>/dev/null
echo "screenshot: $shot"
