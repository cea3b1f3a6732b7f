#!/usr/bin/env bash
# Runs contend's built-in suite against five servers nobody here wrote, on loopback in a
# temporary directory: Apache httpd with mod_dav, nginx with its dav module and lighttpd with
# mod_webdav (Debian's packages), WsgiDAV on cheroot and moto's S3 server (PyPI, in
# virtualenvs under ~/.cache/contend), pouchdb-server (npm, under ~/.cache/contend; its first
# install takes minutes), the reference server's /api/items JSON API through a resource profile,
# nginx as a gateway in front of the reference server, and the Idempotency-Key middlewares
# fastapi-idempotency-key (PyPI) and express-idempotency (npm), each behind a small payments app
# in scripts/real-servers/ (only the idempotency scenarios run there), and a JSON API on Express
# (npm) written as a team's staging API would be (real-servers/items_app.js: weak ETags, no
# precondition handling), notes on Flask over SQLite (real-servers/notes_app.py: If-Match
# checked by reading the row, then an UPDATE), and pages on Flask over SQLite
# (real-servers/pages_app.py: a write-through cache of versions checked, then set, with a rare
# race between the two). It then compares the verdicts with
# scripts/real-servers/expected.txt.
#
#   scripts/real-servers.sh            # installs what is missing (apt-get needs root)
#   scripts/real-servers.sh --serve    # only starts the servers and prints their URLs, for
#                                      # checking a verdict by hand with curl; Ctrl-C stops them
#
# Exit 0 when every verdict is the expected one; 1 otherwise (the differences are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts/real-servers

if ! command -v apache2 >/dev/null || ! command -v nginx >/dev/null || ! command -v lighttpd >/dev/null \
   || [ ! -e /usr/lib/lighttpd/mod_webdav.so ] || ! command -v npm >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "apache2, nginx or lighttpd is missing; run as root to install them with apt-get" >&2
    exit 2
  fi
  # Only what is missing: a machine with NodeSource's nodejs has npm in it, and Debian's npm
  # package conflicts with that nodejs.
  missing=()
  command -v apache2 >/dev/null || missing+=(apache2)
  command -v nginx >/dev/null || missing+=(nginx)
  command -v lighttpd >/dev/null || missing+=(lighttpd)
  [ -e /usr/lib/lighttpd/mod_webdav.so ] || missing+=(lighttpd-mod-webdav)
  command -v npm >/dev/null || missing+=(nodejs npm)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
venv=${XDG_CACHE_HOME:-$HOME/.cache}/contend/wsgidav-venv
if [ ! -x "$venv/bin/wsgidav" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'wsgidav==4.4.*' 'cheroot==11.*'
fi
moto_venv=${XDG_CACHE_HOME:-$HOME/.cache}/contend/moto-venv
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install -q 'moto[server]==5.*'
fi
pouch=${XDG_CACHE_HOME:-$HOME/.cache}/contend/pouchdb
if [ ! -x "$pouch/node_modules/.bin/pouchdb-server" ]; then
  mkdir -p "$pouch"
  npm install --prefix "$pouch" --no-audit --no-fund --loglevel=error 'pouchdb-server@4' >/dev/null
fi

# The Idempotency-Key middlewares, each behind a tiny payments app of ours (real-servers/).
idem_venv=${XDG_CACHE_HOME:-$HOME/.cache}/contend/idempotency-venv
if [ ! -x "$idem_venv/bin/uvicorn" ]; then
  python3 -m venv "$idem_venv"
  "$idem_venv/bin/pip" install -q 'fastapi-idempotency-key==0.1.*' 'starlette<1' 'uvicorn==0.*'
fi
flask_venv=${XDG_CACHE_HOME:-$HOME/.cache}/contend/flask-venv
if [ ! -x "$flask_venv/bin/flask" ]; then
  python3 -m venv "$flask_venv"
  "$flask_venv/bin/pip" install -q 'flask==3.*'
fi
express=${XDG_CACHE_HOME:-$HOME/.cache}/contend/express-idempotency
if [ ! -d "$express/node_modules/express-idempotency" ]; then
  mkdir -p "$express"
  npm install --prefix "$express" --no-audit --no-fund --loglevel=error \
    'express@5' 'express-idempotency@1' >/dev/null
fi

cargo build --release --locked --quiet
contend=$PWD/target/release/contend
work=$(mktemp -d /tmp/contend-real-servers.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 5 s) until something answers on the port.
wait_for() {
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2
  return 1
}


# Servers drop root for www-data; as another user they keep that user.
run_as=$(id -un); [ "$(id -u)" = 0 ] && run_as=www-data

apache_port=$(free_port)
mkdir -p "$work/apache/www"
cat > "$work/apache/httpd.conf" <<CONF
ServerRoot $work/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$apache_port
PidFile $work/apache/httpd.pid
ErrorLog $work/apache/error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dav_module /usr/lib/apache2/modules/mod_dav.so
LoadModule dav_fs_module /usr/lib/apache2/modules/mod_dav_fs.so
User $run_as
Group $(id -gn "$run_as")
DavLockDB $work/apache/DavLock
DocumentRoot $work/apache/www
<Directory $work/apache/www>
  Dav On
  Require all granted
</Directory>
CONF

nginx_port=$(free_port)
# nginx as a gateway in front of contend's reference server: plain, compressing (from 1 byte,
# and from nginx's default 20 bytes) and caching.
ref_port=$(free_port)
nginx_proxy_port=$(free_port)
nginx_gzip_port=$(free_port)
nginx_gzip20_port=$(free_port)
nginx_cache_port=$(free_port)
mkdir -p "$work/nginx/www" "$work/nginx/tmp" "$work/nginx/cache"
cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
user $run_as;
events {}
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
    location / {
      dav_methods PUT DELETE MKCOL;
      create_full_put_path on;
    }
  }
  server {
    listen 127.0.0.1:$nginx_proxy_port;
    proxy_temp_path $work/nginx/tmp;
    location / { proxy_pass http://127.0.0.1:$ref_port; }
  }
  server {
    listen 127.0.0.1:$nginx_gzip_port;
    proxy_temp_path $work/nginx/tmp;
    gzip on; gzip_types text/plain; gzip_min_length 1; gzip_proxied any;
    location / { proxy_pass http://127.0.0.1:$ref_port; }
  }
  # nginx's own gzip_min_length (20 bytes): only the profile's sample_size makes it compress.
  server {
    listen 127.0.0.1:$nginx_gzip20_port;
    proxy_temp_path $work/nginx/tmp;
    gzip on; gzip_types text/plain; gzip_proxied any;
    location / { proxy_pass http://127.0.0.1:$ref_port; }
  }
  # A caching proxy: GET and HEAD answers kept 1 minute and revalidated by nginx itself.
  proxy_cache_path $work/nginx/cache keys_zone=contend:1m;
  server {
    listen 127.0.0.1:$nginx_cache_port;
    proxy_temp_path $work/nginx/tmp;
    location / {
      proxy_pass http://127.0.0.1:$ref_port;
      proxy_cache contend;
      proxy_cache_valid 200 1m;
      proxy_cache_revalidate on;
      add_header X-Cache \$upstream_cache_status;
    }
  }
}
CONF
lighttpd_port=$(free_port)
mkdir -p "$work/lighttpd/www" "$work/lighttpd/tmp"
cat > "$work/lighttpd/lighttpd.conf" <<CONF
server.modules = ("mod_webdav")
server.bind = "127.0.0.1"
server.port = $lighttpd_port
server.document-root = "$work/lighttpd/www"
server.upload-dirs = ("$work/lighttpd/tmp")
server.errorlog = "$work/lighttpd/error.log"
server.pid-file = "$work/lighttpd/lighttpd.pid"
# Debian's MIME table, as its default lighttpd.conf includes it: without any mimetype.assign,
# lighttpd sends neither ETag nor Last-Modified.
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
server.username = "$run_as"
server.groupname = "$(id -gn "$run_as")"
webdav.activate = "enable"
webdav.is-readonly = "disable"
CONF

wsgidav_port=$(free_port)
mkdir -p "$work/wsgidav/www"
moto_port=$(free_port)
pouchdb_port=$(free_port)
mkdir -p "$work/pouchdb"
chown -R "$run_as" "$work/apache" "$work/nginx" "$work/lighttpd"

apache2 -f "$work/apache/httpd.conf" -k start
wait_for "$apache_port"
pids+=("$(cat "$work/apache/httpd.pid")")
"$contend" serve --addr "127.0.0.1:$ref_port" > "$work/ref.log" 2>&1 &
pids+=("$!")
wait_for "$ref_port"
nginx -c "$work/nginx/nginx.conf"
wait_for "$nginx_port"
pids+=("$(cat "$work/nginx/nginx.pid")")
lighttpd -f "$work/lighttpd/lighttpd.conf"
wait_for "$lighttpd_port"
pids+=("$(cat "$work/lighttpd/lighttpd.pid")")
"$venv/bin/wsgidav" --host 127.0.0.1 --port "$wsgidav_port" --root "$work/wsgidav/www" \
  --auth anonymous --server cheroot --no-config -q > "$work/wsgidav/log" 2>&1 &
pids+=("$!")
wait_for "$wsgidav_port"
"$moto_venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
pids+=("$!")
wait_for "$moto_port"
# The bucket the profile's scratch path lives in (S3 has no MKCOL).
curl -s -o /dev/null -X PUT -H 'Authorization: AWS any' "http://127.0.0.1:$moto_port/contend"
# pouchdb-server writes its config and log into the working directory.
(cd "$work/pouchdb" && exec "$pouch/node_modules/.bin/pouchdb-server" --in-memory \
  --host 127.0.0.1 --port "$pouchdb_port" > "$work/pouchdb/out.log" 2>&1) &
pids+=("$!")
wait_for "$pouchdb_port"
# The database the profile's documents live in.
curl -s -o /dev/null -X PUT "http://127.0.0.1:$pouchdb_port/contend"
fastapi_idem_port=$(free_port)
"$idem_venv/bin/uvicorn" --app-dir "$here" idempotency_app:app --host 127.0.0.1 \
  --port "$fastapi_idem_port" --log-level warning > "$work/fastapi_idem.log" 2>&1 &
pids+=("$!")
wait_for "$fastapi_idem_port"
express_idem_port=$(free_port)
NODE_PATH="$express/node_modules" node "$here/idempotency_app.js" "$express_idem_port" \
  > "$work/express_idem.log" 2>&1 &
pids+=("$!")
wait_for "$express_idem_port"
express_items_port=$(free_port)
NODE_PATH="$express/node_modules" node "$here/items_app.js" "$express_items_port" \
  > "$work/express_items.log" 2>&1 &
pids+=("$!")
wait_for "$express_items_port"
flask_notes_port=$(free_port)
"$flask_venv/bin/python" "$here/notes_app.py" "$flask_notes_port" > "$work/flask_notes.log" 2>&1 &
pids+=("$!")
wait_for "$flask_notes_port"
flask_pages_port=$(free_port)
"$flask_venv/bin/python" "$here/pages_app.py" "$flask_pages_port" > "$work/flask_pages.log" 2>&1 &
pids+=("$!")
wait_for "$flask_pages_port"
# The reference server's JSON API, driven by the built-in suite through a resource profile.
api_port=$ref_port
# Apache and WsgiDAV again, every sample an iCalendar event (a text body format).
apache_ics_port=$apache_port
wsgidav_ics_port=$wsgidav_port

if [ "${1:-}" = "--serve" ]; then
  for server in apache nginx lighttpd wsgidav moto pouchdb api nginx_proxy nginx_gzip nginx_gzip20 nginx_cache fastapi_idem express_idem express_items flask_notes flask_pages; do
    port_var=${server}_port
    echo "$server http://127.0.0.1:${!port_var}"
  done
  echo "serving until interrupted"
  while sleep 3600; do :; done
fi

status=0
verdicts="$work/verdicts.txt"
: > "$verdicts"
# CONTEND_REAL_SERVERS="lighttpd wsgidav" runs some of them (the comparison then covers those).
servers=${CONTEND_REAL_SERVERS:-apache nginx lighttpd wsgidav moto pouchdb api nginx_proxy nginx_gzip nginx_gzip20 nginx_cache fastapi_idem express_idem express_items flask_notes flask_pages apache_ics wsgidav_ics}
for server in $servers; do
  port_var=${server}_port
  url="http://127.0.0.1:${!port_var}"
  echo "== $server ($url)"
  # The gateways run every scenario at their origin too and report what differs.
  origin=()
  case $server in nginx_*) origin=(--origin "http://127.0.0.1:$ref_port") ;; esac
  config=$here/$server.yaml
  # The middlewares' apps have a keyed endpoint and nothing else: only its scenarios run.
  paths=()
  case $server in *_idem) paths=(specs/idempotency) ;; esac
  # The API's profile is the one the conformance test uses too.
  [ "$server" = api ] && config=fixtures/profiles/api-items.yaml
  "$contend" probe --config "$config" --target "$url" | sed -n '1,12p'
  # contend exits 1 when a scenario fails: expected here, the comparison below decides. One run
  # prints and writes its JSON report, so what is shown is what is compared.
  mkdir -p target/real-servers
  "$contend" run --config "$config" --target "$url" "${origin[@]}" "${paths[@]}" \
    --report "json=target/real-servers/$server.json" | grep -v '^        ' || true
  python3 - "$server" "target/real-servers/$server.json" >> "$verdicts" <<'PY'
import json, sys
server, path = sys.argv[1], sys.argv[2]
report = json.load(open(path))
for s in report["scenarios"]:
    print(server, s["id"].split("::")[0], s["status"])
if report.get("gateway") is not None:
    print(server, "(differences-from-origin)", len(report["gateway"]["differences"]))
PY
done

# The matrix across every server, when all of them ran: docs/matrix.html and its screenshot,
# checked in a real headless browser.
if [ -z "${CONTEND_REAL_SERVERS:-}" ]; then
  reports=()
  for server in $servers; do reports+=("target/real-servers/$server.json"); done
  "$contend" report --compare "${reports[@]}" --html docs/matrix.html > target/real-servers/matrix.txt
  scripts/check-html.sh docs/matrix.html docs/matrix.png "${#reports[@]}"
fi

echo "== verdicts compared with $here/expected.txt"
python3 - "$here/expected.txt" "$verdicts" "$servers" <<'PY' || status=1
import sys
servers = sys.argv[3].split()
expected = {}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        server, scenario, verdict = line.split()
        if server in servers:
            expected[(server, scenario)] = verdict
got = {}
for line in open(sys.argv[2]):
    server, scenario, verdict = line.split()
    got[(server, scenario)] = verdict
bad = 0
for key in sorted(set(expected) | set(got)):
    want, have = expected.get(key, "absent"), got.get(key, "absent")
    allowed = ("passed", "failed") if want == "either" else want.split("|")
    ok = have in allowed
    mark = "ok  " if ok else "DIFF"
    bad += not ok
    print(f"{mark} {key[0]:<8} {key[1]:<24} expected {want:<15} got {have}")
print(f"\n{len(got)} verdicts, {bad} unexpected")
sys.exit(1 if bad else 0)
PY
exit $status
