"""A Flask app for fabricks' end-to-end tests: each route exercises one part
of the WSGI bridge. Served unchanged, like any user's app."""

import hashlib

from flask import Flask, Response, jsonify, make_response, redirect, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

app = Flask(__name__)


@app.route("/")
def index():
    return "probe"


@app.route("/query")
def query():
    return jsonify({key: request.args.getlist(key) for key in request.args})


@app.route("/json", methods=["POST"])
def echo_json():
    data = request.get_json()
    return jsonify({"received": data, "type": type(data).__name__})


@app.route("/form", methods=["POST"])
def form():
    return jsonify({key: request.form.getlist(key) for key in request.form})


@app.route("/echo", methods=["POST", "PUT"])
def echo():
    body = request.get_data()
    return Response(
        body,
        mimetype="application/octet-stream",
        headers={"X-Body-Length": str(len(body)), "X-Body-Sha256": hashlib.sha256(body).hexdigest()},
    )


@app.route("/big")
def big():
    return Response(bytes(range(256)) * 4096, mimetype="application/octet-stream")


@app.route("/stream")
def stream():
    def generate():
        for i in range(5):
            yield f"chunk {i}\n"

    return Response(generate(), mimetype="text/plain")


@app.route("/cookies")
def cookies():
    response = make_response("cookies set")
    response.set_cookie("first", "1")
    response.set_cookie("second", "2", httponly=True)
    return response


@app.route("/read-cookies")
def read_cookies():
    return jsonify(dict(request.cookies))


@app.route("/boom")
def boom():
    raise RuntimeError("this view fails on purpose")


@app.route("/trap")
def trap():
    """abort(): the guest executes `unreachable`, a real WebAssembly trap."""
    import os

    os.abort()


@app.route("/loop")
def loop():
    """Never answers: only the host's request timeout ends it."""
    while True:
        pass


@app.route("/idna")
def idna():
    """A codec looked up by name at run time: it must be in the snapshot."""
    return "bücher.example".encode("idna").decode("ascii")


@app.route("/forbidden-headers")
def forbidden_headers():
    """Headers about the connection, which the host owns: dropped, not fatal."""
    return Response("kept", headers={"Connection": "keep-alive", "Keep-Alive": "timeout=5", "X-Kept": "yes"})


@app.route("/hog")
def hog():
    """Allocate without bound: only the instance's memory limit stops it."""
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))


SERVED = {"count": 0}


@app.route("/counter")
def counter():
    """Module state: it lasts as long as the instance (as in a gunicorn worker)."""
    SERVED["count"] += 1
    return str(SERVED["count"])


@app.route("/mark-everything")
def mark_everything():
    """How many of the interpreter's modules a request before this one
    marked, then mark them all and grow the heap by 32 MiB of written
    pages: writes spread over the whole snapshot heap and beyond it, which
    a fresh instance must see none of."""
    import sys

    modules = list(sys.modules.values())
    marked = sum(1 for module in modules if getattr(module, "_probe_marked", False))
    for module in modules:
        try:
            module._probe_marked = True
        except (AttributeError, TypeError):
            pass
    MARKS.append([bytearray(b"x" * (1 << 20)) for _ in range(32)])
    return {"marked_before": marked, "grown_before": len(MARKS) - 1, "modules": len(modules)}


MARKS = []

INSTANCE = {}


@app.route("/instance")
def instance():
    """A token made at an instance's first call to this route: the same
    token means the same instance (the snapshot holds no token, so every
    instance makes its own)."""
    import os

    if "token" not in INSTANCE:
        INSTANCE["token"] = os.urandom(8).hex()
    return INSTANCE["token"]


@app.route("/go")
def go():
    return redirect("/query?from=go")


@app.route("/environ/<path:rest>")
def environ(rest):
    env = request.environ
    keys = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT",
            "SERVER_PROTOCOL", "REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_REPEATED"]
    data = {key: env.get(key) for key in keys}
    data["wsgi.url_scheme"] = env["wsgi.url_scheme"]
    data["rest"] = rest
    data["spin"] = env.get("fabricks.spin_headers")
    data["spin_among_headers"] = [k for k in request.headers.keys() if k.lower().startswith("spin-")]
    data["connection"] = request.headers.get("Connection")
    return jsonify(data)


def raw_wsgi(environ, start_response):
    """A bare WSGI app: the write() callable, then an iterable, and close()."""
    if environ["PATH_INFO"] == "/error-after-start":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            import sys
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"recovered with exc_info"]
    write = start_response("201 Created", [("Content-Type", "text/plain"), ("X-Script-Name", environ["SCRIPT_NAME"]),
                                           ("X-Path-Info", environ["PATH_INFO"])])
    write(b"written; ")

    class Body:
        closed = False

        def __iter__(self):
            yield b"iterated"

        def close(self):
            print("raw_wsgi: close() called", flush=True)

    return Body()


app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/raw": raw_wsgi})


@app.route("/file/<name>")
def read_file(name):
    with open(f"/static/{name}") as f:
        return f.read()


@app.route("/module-file/<name>")
def module_file(name):
    """An installed module's source, read from its file: from `offset` on,
    `size` bytes a read (unbuffered: each read is one read of the file)."""
    import importlib

    offset, size = int(request.args.get("offset", 0)), int(request.args.get("size", -1))
    with open(importlib.import_module(name).__file__, "rb", buffering=0) as f:
        f.seek(offset)
        parts = []
        while part := f.read(size):
            parts.append(part)
    return b"".join(parts)


@app.route("/read")
def read_any():
    """Open whatever path the query names: the sandbox decides."""
    try:
        with open(request.args["path"], "rb") as f:
            return f.read()
    except OSError as error:
        return f"denied: {type(error).__name__}", 403


@app.route("/socket")
def raw_socket():
    """A plain TCP connection: the sandbox gives the guest no network."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", int(request.args["port"])), timeout=2).close()
        return "connected"
    except OSError as error:
        return f"denied: {type(error).__name__}", 403


@app.route("/write-file")
def write_file():
    try:
        with open("/static/new.txt", "w") as f:
            f.write("should not be possible")
        return "written"
    except OSError as error:
        return f"refused: {type(error).__name__}", 403


@app.route("/env")
def env():
    import os

    return jsonify(dict(os.environ))
