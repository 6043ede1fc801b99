"""Files users upload, kept in the app's instance folder."""

import os

from flask import Blueprint, current_app, request, send_from_directory
from werkzeug.utils import secure_filename

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


@bp.route("/<name>", methods=("PUT",))
def upload(name):
    folder = current_app.config["UPLOADS"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, secure_filename(name)), "wb") as file:
        file.write(request.get_data())
    return {"saved": secure_filename(name)}, 201


@bp.route("/<name>")
def download(name):
    return send_from_directory(current_app.config["UPLOADS"], name)


@bp.route("/")
def listing():
    folder = current_app.config["UPLOADS"]
    return {"instance_path": current_app.instance_path, "files": sorted(os.listdir(folder)) if os.path.isdir(folder) else []}
