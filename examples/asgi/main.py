"""An ASGI application with no framework: the protocol by hand, lifespan included."""

import json
import sys
from http.cookies import SimpleCookie
from urllib.parse import parse_qs


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def respond(send, status, body, content_type="application/json", headers=()):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode() if content_type == "application/json" else body.encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["greeting"] = "set at startup"
            scope["state"]["requests"] = [0]
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Where an app closes its pools and flushes what it buffered.
            served = scope["state"]["requests"][0]
            print(f"asgi example: shutting down after {served} /state requests", file=sys.stderr)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    path, method = scope["path"], scope["method"]
    query = parse_qs(scope["query_string"].decode(), keep_blank_values=True)
    headers = {name.decode(): value.decode() for name, value in scope["headers"]}
    body = await read_body(receive)

    if path == "/":
        return await respond(send, 200, "Hello from ASGI!", "text/plain; charset=utf-8")
    if path.startswith("/users/") and path[len("/users/"):].isdigit():
        data = {"id": int(path[len("/users/"):]), "tags": query.get("tag", []), "verbose": query.get("verbose", [None])[0]}
        return await respond(send, 200, data)
    if path == "/echo" and method == "POST":
        return await respond(send, 200, {"received": json.loads(body)})
    if path == "/form" and method == "POST":
        form = parse_qs(body.decode(), keep_blank_values=True)
        return await respond(send, 200, {"name": form.get("name", [None])[0], "tags": form.get("tag", [])})
    if path == "/boom":
        raise RuntimeError("this view fails on purpose")
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(3):
            await send({"type": "http.response.body", "body": f"{i}\n".encode(), "more_body": True})
        return await send({"type": "http.response.body", "body": b""})
    if path == "/redirect":
        return await respond(send, 302, "", "text/plain", [(b"location", b"/")])
    if path == "/cookie":
        return await respond(send, 200, "cookie set", "text/plain", [(b"set-cookie", b"flavor=oatmeal; Path=/")])
    if path == "/cookie-read":
        cookies = SimpleCookie(headers.get("cookie", ""))
        return await respond(send, 200, {"flavor": cookies["flavor"].value if "flavor" in cookies else None})
    if path == "/state":
        state = scope["state"]
        state["requests"][0] += 1
        return await respond(send, 200, {"greeting": state.get("greeting"), "requests": state["requests"][0]})
    return await respond(send, 404, "Not Found", "text/plain")
