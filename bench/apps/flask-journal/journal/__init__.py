"""A journal: people log in and read the latest entries."""

import os

from flask import Flask


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("JOURNAL_SECRET", "bench-only-secret"),
        DATABASE=os.path.join(app.instance_path, "journal.sqlite"),
    )
    try:
        os.makedirs(app.instance_path)
    except OSError:
        pass  # there already, or a read-only app folder (the database is Spin's then)

    from . import auth, db, entries

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(entries.bp)
    app.add_url_rule("/", endpoint="index")
    return app
