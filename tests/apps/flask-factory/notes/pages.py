"""The notes themselves, and a few pages that read files at run time."""

import importlib
import importlib.resources

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

bp = Blueprint("pages", __name__)

NOTES = []


@bp.route("/")
def index():
    return render_template("index.html", notes=NOTES, user=session.get("user"))


@bp.route("/notes", methods=("POST",))
def add_note():
    if "user" not in session:
        abort(403)
    NOTES.append({"author": session["user"], "text": request.form["text"]})
    return redirect(url_for("pages.index"))


@bp.route("/report")
def report():
    # Imported only here, long after the build snapshotted the app.
    module = importlib.import_module("notes.report")
    return module.summary(NOTES)


@bp.route("/package-data")
def package_data():
    # A data file of an installed package (werkzeug's debugger stylesheet).
    text = importlib.resources.files("werkzeug.debug").joinpath("shared/style.css").read_text()
    return {"bytes": len(text), "starts": text[:20]}


@bp.route("/write")
def write():
    try:
        with open(bp.root_path + "/scribble.txt", "w") as file:
            file.write("x")
    except OSError as error:
        return {"error": type(error).__name__, "errno": error.errno}, 500
    return {"error": None}
