"""Says where a request landed: which component (by its environment), the
mount point the app saw, and the spin-* headers."""

import os

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/", defaults={"rest": ""})
@app.route("/<path:rest>")
def where(rest):
    return jsonify(
        greeting=os.environ.get("GREETING"),
        script_root=request.script_root,
        path=request.path,
        spin={k.lower(): v for k, v in request.headers.items() if k.lower().startswith("spin-")},
    )
