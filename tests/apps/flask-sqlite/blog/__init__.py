"""A small app on sqlite3, built the way Flask's tutorial builds one."""

import os

from flask import Flask


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="only-for-tests", DATABASE=os.path.join(app.instance_path, "blog.sqlite"))
    try:
        os.makedirs(app.instance_path)
    except OSError:
        pass

    from . import db, views

    db.init_app(app)
    app.register_blueprint(views.bp)
    return app
