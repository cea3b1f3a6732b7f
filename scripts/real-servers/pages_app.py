# Wiki pages on Flask over SQLite, for scripts/real-servers.sh: a page lives at its path, PUT
# creates or replaces it, and the conditional headers are honoured the way an ordinary view does
# it: read the row, decide, then INSERT or UPDATE. `If-None-Match: *` creates only (412 when the
# page exists), `If-Match` replaces only that version (412 otherwise), the version is a strong
# ETag, GET answers 304 to a matching If-None-Match, DELETE honours If-Match.
#
# Each step is right on its own; the check and the write are two statements in autocommit. The
# team kept the window small (the row is read and written in one short function, nothing slow
# in between), so two writers rarely both pass the check; when they do, a create answers 500
# (the primary key refuses the second INSERT) or a replace loses an update.
#
#   python pages_app.py PORT        (Flask's threaded server on 127.0.0.1)
import logging
import os
import sqlite3
import sys
import tempfile
import threading

from flask import Flask, request

DB = os.path.join(tempfile.mkdtemp(prefix="contend-pages-"), "pages.db")
app = Flask(__name__)


class Db:
    """One connection for the app, as a small service keeps it; sqlite3 objects must not be used
    by two threads at once, so each statement takes the lock."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.lock = threading.Lock()

    def one(self, sql, args=()):
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def run(self, sql, args=()):
        with self.lock:
            self.conn.execute(sql, args)


store = Db(DB)
store.run("CREATE TABLE pages (path TEXT PRIMARY KEY, body BLOB, type TEXT, version INTEGER)")


def etag(version):
    return f'"{version}"'


def listed(header, version):
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag(version) in tags


@app.get("/<path:path>")
def read(path):
    row = store.one("SELECT body, type, version FROM pages WHERE path = ?", (path,))
    if row is None:
        return "not found\n", 404
    body, kind, version = row
    inm = request.headers.get("If-None-Match")
    if inm is not None and (inm.strip() == "*" or etag(version) in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return "", 304, {"ETag": etag(version)}
    return body, 200, {"ETag": etag(version), "Content-Type": kind}


# A write-through cache of each page's version in front of SQLite, so that the conditional
# headers are decided without a query. Each dict operation is atomic under the GIL, which the
# team took for the whole check-and-set: between reading a version and setting the next one
# nothing waits, so a thread switch lands there only rarely (the interpreter switches threads
# every few milliseconds, or when one waits).
versions = {}
# Every change is logged before it is made (to stderr here): the one wait in the window.
audit = logging.getLogger("pages.audit")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def current(path):
    if path not in versions:
        row = store.one("SELECT version FROM pages WHERE path = ?", (path,))
        versions[path] = row[0] if row else None
    return versions[path]


@app.put("/<path:path>")
def write(path):
    body = request.get_data()
    kind = request.headers.get("Content-Type", "application/octet-stream")
    if_match, if_none_match = request.headers.get("If-Match"), request.headers.get("If-None-Match")
    version = current(path)
    if if_match is not None and (version is None or not listed(if_match, version)):
        return "the page changed; read it again\n", 412
    if if_none_match is not None and version is not None and listed(if_none_match, version):
        return "the page exists\n", 412
    # The race: another thread may have set the version since current() above.
    audit.info("%s: version %s -> %s", path, version, 1 if version is None else version + 1)
    versions[path] = 1 if version is None else version + 1
    store.run("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)", (path, body, kind, versions[path]))
    return "", 201 if version is None else 204, {"ETag": etag(versions[path])}


@app.delete("/<path:path>")
def delete(path):
    version = current(path)
    if version is None:
        return "not found\n", 404
    if_match = request.headers.get("If-Match")
    if if_match is not None and not listed(if_match, version):
        return "the page changed; read it again\n", 412
    versions[path] = None
    store.run("DELETE FROM pages WHERE path = ?", (path,))
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
