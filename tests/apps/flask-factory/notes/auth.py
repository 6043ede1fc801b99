"""Register, log in and out; users live in memory, as long as the process."""

import hashlib
import os

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

bp = Blueprint("auth", __name__, url_prefix="/auth")

USERS = {}


def _digest(salt, password):
    return hashlib.sha256(salt + password.encode()).hexdigest()


@bp.route("/register", methods=("GET", "POST"))
def register():
    if request.method == "POST":
        name, password = request.form["username"], request.form["password"]
        if name in USERS:
            flash(f"User {name} is already registered.")
        else:
            salt = os.urandom(8)
            USERS[name] = (salt, _digest(salt, password))
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        name, password = request.form["username"], request.form["password"]
        known = USERS.get(name)
        if known and known[1] == _digest(known[0], password):
            session.clear()
            session["user"] = name
            return redirect(url_for("pages.index"))
        flash("Incorrect username or password.")
    return render_template("auth/login.html")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.index"))
