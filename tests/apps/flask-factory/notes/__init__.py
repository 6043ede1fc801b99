"""A small notes app, built by an app factory the way Flask's docs do it,
with an instance folder for what it writes (attachments)."""

import os

from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="only-for-tests",
        SITE_NAME="Notes",
        UPLOADS=os.path.join(app.instance_path, "uploads"),
    )
    if test_config:
        app.config.update(test_config)

    # As Flask's tutorial does: the instance folder may exist already, or
    # (under a server that grants no writes) not be makeable.
    try:
        os.makedirs(app.instance_path)
    except OSError:
        pass

    from . import attachments, auth, pages

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(attachments.bp)
    return app
