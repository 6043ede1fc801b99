"""Reads and writes: a counter row, entries, authors with a unique name."""

from flask import Blueprint, request

from .db import get_db

bp = Blueprint("views", __name__)


@bp.post("/counter")
def increment():
    db = get_db()
    db.execute("UPDATE counter SET n = n + 1 WHERE id = ?", (1,))
    db.commit()
    return "ok"


@bp.get("/counter")
def counter():
    return str(get_db().execute("SELECT n FROM counter WHERE id = 1").fetchone()["n"])


@bp.post("/entries")
def add_entry():
    db = get_db()
    cursor = db.execute("INSERT INTO entry (title) VALUES (:title)", {"title": request.form["title"]})
    db.commit()
    return {"id": cursor.lastrowid, "rowcount": cursor.rowcount}, 201


@bp.get("/entries")
def entries():
    rows = get_db().execute("SELECT id, title, created FROM entry ORDER BY id").fetchall()
    return {"count": len(rows), "first": dict(rows[0]) | {"created": rows[0]["created"].strftime("%Y-%m-%d")} if rows else None}


@bp.post("/authors")
def add_author():
    db = get_db()
    try:
        db.execute("INSERT INTO author (name) VALUES (?)", (request.form["name"],))
        db.commit()
    except db.IntegrityError as error:
        return {"error": f"{type(error).__name__}: {error}"}, 409
    return "added", 201


@bp.get("/transaction")
def transaction():
    """A write that is rolled back is not there; in_transaction follows."""
    db = get_db()
    before = db.in_transaction
    db.execute("INSERT INTO author (name) VALUES ('ghost')")
    during = db.in_transaction
    db.rollback()
    ghost = db.execute("SELECT count(*) FROM author WHERE name = 'ghost'").fetchone()[0]
    abandoned = db.execute("SELECT count(*) FROM author WHERE name = 'abandoned'").fetchone()[0]
    return {"before": before, "during": during, "after": db.in_transaction, "ghosts": ghost, "abandoned": abandoned}


@bp.post("/abandon")
def abandon():
    """A write never committed: the connection closes at the end of the
    request with its transaction open."""
    get_db().execute("INSERT INTO author (name) VALUES ('abandoned')")
    return "left open"


@bp.get("/entries/<int:entry_id>")
def entry(entry_id):
    """One row by its primary key, as JSON."""
    row = get_db().execute("SELECT id, title, created FROM entry WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        return {"error": "no such entry"}, 404
    return {"id": row["id"], "title": row["title"], "created": row["created"].isoformat()}


@bp.get("/count")
def count():
    """SQLite counts to ?to=N by itself; without N, it never stops."""
    up_to = request.args.get("to", type=int)
    row = get_db().execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE ?1 IS NULL OR x < ?1) SELECT count(*) FROM c",
        (up_to,),
    ).fetchone()
    return str(row[0])
