"""One SQLite connection per request (kept on `g`), and `init-db`, which
makes the tables and fills them with a reader and 40 entries."""

import sqlite3
from datetime import datetime, timedelta

import click
from flask import current_app, g
from werkzeug.security import generate_password_hash


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES)
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(error=None):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@click.command("init-db")
def init_db_command():
    """Make the tables anew and add the benchmark's reader and entries."""
    db = get_db()
    with current_app.open_resource("schema.sql") as schema:
        db.executescript(schema.read().decode("utf8"))
    db.execute(
        "INSERT INTO reader (name, password) VALUES (?, ?)",
        ("reader", generate_password_hash("reader-password")),
    )
    start = datetime(2026, 1, 1, 9, 0)
    for number in range(1, 41):
        db.execute(
            "INSERT INTO entry (author_id, written, title, body) VALUES (1, ?, ?, ?)",
            (start + timedelta(hours=number), f"Entry number {number}", f"What happened on day {number}. " * 8),
        )
    db.commit()
    click.echo("Initialized the journal.")


sqlite3.register_converter("timestamp", lambda value: datetime.fromisoformat(value.decode()))


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
