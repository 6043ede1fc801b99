"""A WSGI application with no framework at all: only the standard library."""

import atexit
import json
import sys
from http.cookies import SimpleCookie
from urllib.parse import parse_qs


@atexit.register
def goodbye():
    # Runs where a WSGI server's worker process would exit.
    print("wsgi example: exiting", file=sys.stderr)


def respond(start_response, status, body, content_type="application/json", headers=()):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode() if content_type == "application/json" else body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    query = parse_qs(environ["QUERY_STRING"], keep_blank_values=True)
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size) if size else b""

    if path == "/":
        return respond(start_response, "200 OK", "Hello from WSGI!", "text/plain; charset=utf-8")
    if path.startswith("/users/") and path[len("/users/"):].isdigit():
        data = {"id": int(path[len("/users/"):]), "tags": query.get("tag", []), "verbose": query.get("verbose", [None])[0]}
        return respond(start_response, "200 OK", data)
    if path == "/echo" and method == "POST":
        return respond(start_response, "200 OK", {"received": json.loads(body)})
    if path == "/form" and method == "POST":
        form = parse_qs(body.decode(), keep_blank_values=True)
        return respond(start_response, "200 OK", {"name": form.get("name", [None])[0], "tags": form.get("tag", [])})
    if path == "/boom":
        raise RuntimeError("this view fails on purpose")
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"{i}\n".encode() for i in range(3))
    if path == "/redirect":
        location = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}/"
        return respond(start_response, "302 Found", "", "text/plain", [("Location", location)])
    if path == "/cookie":
        return respond(start_response, "200 OK", "cookie set", "text/plain", [("Set-Cookie", "flavor=oatmeal; Path=/")])
    if path == "/cookie-read":
        cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        return respond(start_response, "200 OK", {"flavor": cookies["flavor"].value if "flavor" in cookies else None})
    return respond(start_response, "404 Not Found", "Not Found", "text/plain")
