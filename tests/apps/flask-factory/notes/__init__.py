"""A small notes app, built by an app factory the way Flask's docs do it."""

from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY="only-for-tests", SITE_NAME="Notes")
    if test_config:
        app.config.update(test_config)

    from . import auth, pages

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    return app
