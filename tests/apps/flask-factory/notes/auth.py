"""Register, log in and out; users live in memory, as long as the process.
Passwords are hashed with werkzeug's defaults (scrypt), as Flask's tutorial
does."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

bp = Blueprint("auth", __name__, url_prefix="/auth")

USERS = {}


@bp.route("/register", methods=("GET", "POST"))
def register():
    if request.method == "POST":
        name, password = request.form["username"], request.form["password"]
        if name in USERS:
            flash(f"User {name} is already registered.")
        else:
            USERS[name] = generate_password_hash(password)
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        name, password = request.form["username"], request.form["password"]
        known = USERS.get(name)
        if known and check_password_hash(known, password):
            session.clear()
            session["user"] = name
            return redirect(url_for("pages.index"))
        flash("Incorrect username or password.")
    return render_template("auth/login.html")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.index"))


@bp.route("/methods")
def methods():
    """How each user's password is hashed (the part before the salt)."""
    return {name: stored.split("$")[0] for name, stored in USERS.items()}
