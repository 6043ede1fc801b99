"""Logging in and out; the reader of each request, from the session."""

import functools

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_reader():
    reader_id = session.get("reader_id")
    g.reader = None if reader_id is None else get_db().execute("SELECT id, name FROM reader WHERE id = ?", (reader_id,)).fetchone()


def login_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.reader is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        reader = get_db().execute("SELECT * FROM reader WHERE name = ?", (request.form["name"],)).fetchone()
        if reader is None or not check_password_hash(reader["password"], request.form["password"]):
            flash("Wrong name or password.")
        else:
            session.clear()
            session["reader_id"] = reader["id"]
            return redirect(url_for("index"))
    return render_template("auth/login.html")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("index"))
