"""The index page: the latest entries with their authors."""

from flask import Blueprint, render_template

from .auth import login_required
from .db import get_db

bp = Blueprint("entries", __name__)


@bp.route("/")
@login_required
def index():
    entries = get_db().execute(
        "SELECT e.id, e.title, e.body, e.written, r.name AS author"
        " FROM entry e JOIN reader r ON e.author_id = r.id"
        " ORDER BY e.written DESC LIMIT 20"
    ).fetchall()
    return render_template("entries/index.html", entries=entries)
