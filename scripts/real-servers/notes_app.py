# A JSON API as a team writes it on Flask over SQLite, for scripts/real-servers.sh: notes with a
# version column, and optimistic concurrency done the way an ordinary view does it: read the row,
# compare If-Match with its version, then UPDATE. Each step is right on its own; the check and
# the write are two statements in autocommit, so two requests can both pass the check. POST
# /notes creates (201, Location), GET answers the version as a strong ETag (and 304 to a
# matching If-None-Match), PUT and DELETE honour If-Match (412 when it does not match).
#
#   python notes_app.py PORT        (Flask's threaded server on 127.0.0.1)
import os
import sqlite3
import sys
import tempfile

from flask import Flask, jsonify, request

DB = os.path.join(tempfile.mkdtemp(prefix="contend-notes-"), "notes.db")
app = Flask(__name__)


def db():
    # One connection per request, as a request-scoped session would have it.
    conn = sqlite3.connect(DB, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


with db() as conn:
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, version INTEGER)")


def etag(version):
    return f'"v{version}"'


def matches(header, version):
    if header is None:
        return True
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag(version) in tags


@app.post("/notes")
def create():
    conn = db()
    cur = conn.execute("INSERT INTO notes (body, version) VALUES (?, 1)", (request.get_data(as_text=True),))
    note_id = cur.lastrowid
    resp = jsonify(id=note_id, version=1)
    resp.status_code = 201
    resp.headers["Location"] = f"/notes/{note_id}"
    return resp


@app.get("/notes/<int:note_id>")
def read(note_id):
    row = db().execute("SELECT body, version FROM notes WHERE id = ?", (note_id,)).fetchone()
    if row is None:
        return jsonify(error="not found"), 404
    tag = etag(row["version"])
    inm = request.headers.get("If-None-Match")
    if inm is not None and (inm.strip() == "*" or tag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return "", 304, {"ETag": tag}
    return row["body"], 200, {"ETag": tag, "Content-Type": "text/plain"}


@app.put("/notes/<int:note_id>")
def update(note_id):
    conn = db()
    row = conn.execute("SELECT version FROM notes WHERE id = ?", (note_id,)).fetchone()
    if row is None:
        return jsonify(error="not found"), 404
    if not matches(request.headers.get("If-Match"), row["version"]):
        return jsonify(error="the note changed; read it again"), 412
    # The race: another request may have updated the row since the SELECT above.
    conn.execute(
        "UPDATE notes SET body = ?, version = version + 1 WHERE id = ?",
        (request.get_data(as_text=True), note_id),
    )
    version = conn.execute("SELECT version FROM notes WHERE id = ?", (note_id,)).fetchone()["version"]
    return "", 204, {"ETag": etag(version)}


@app.delete("/notes/<int:note_id>")
def delete(note_id):
    conn = db()
    row = conn.execute("SELECT version FROM notes WHERE id = ?", (note_id,)).fetchone()
    if row is None:
        return jsonify(error="not found"), 404
    if not matches(request.headers.get("If-Match"), row["version"]):
        return jsonify(error="the note changed; read it again"), 412
    conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
