"""Says where a request landed: which component (by its environment), the
mount point the app saw, and the host's spin-* headers (which the adapter
keeps out of the request's headers)."""

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
        spin=request.environ.get("fabricks.spin_headers"),
        spin_among_headers=[k for k in request.headers.keys() if k.lower().startswith("spin-")],
    )
