"""The ASGI bridge (ASGI 3: `http` and `lifespan` scopes). One
`wasi:http/incoming-handler` call runs the app on the instance's event loop
with an HTTP scope, `receive` streaming the request body and then
`http.disconnect`, and `send` streaming the response as the app produces it.
The lifespan protocol runs once per instance: startup before its first
request, shutdown when the host retires the instance.
"""

import sys
import traceback
from urllib.parse import unquote_to_bytes

from . import wasi_http
from .event_loop import get_loop
from .lifecycle import lifecycle_class

ASGI = {"version": "3.0", "spec_version": "2.4"}


class Lifespan:
    """`lifespan.startup` before the first request; its state is copied
    into every request's scope; `lifespan.shutdown` at retirement. An app
    that does not speak lifespan (it raises on the scope) simply has none."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self.started = False
        self.failure = None
        self._events = None
        self._task = None
        self._shutdown_done = None

    async def ensure_started(self):
        if self.started:
            return
        self.started = True
        loop = get_loop()
        self._events = [loop.create_future(), loop.create_future()]  # startup, shutdown
        startup_done = loop.create_future()
        self._shutdown_done = shutdown_done = loop.create_future()

        async def receive():
            if not self._events[0].done():
                self._events[0].set_result(None)
                return {"type": "lifespan.startup"}
            await self._events[1]
            return {"type": "lifespan.shutdown"}

        async def send(message):
            kind = message.get("type")
            if kind == "lifespan.startup.complete" and not startup_done.done():
                startup_done.set_result(None)
            elif kind == "lifespan.startup.failed" and not startup_done.done():
                self.failure = message.get("message", "lifespan startup failed")
                startup_done.set_result(None)
            elif kind == "lifespan.shutdown.failed":
                print(f"fabricks: ASGI lifespan shutdown failed: {message.get('message', '')}", file=sys.stderr)
            if kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed") and not shutdown_done.done():
                shutdown_done.set_result(None)

        async def run():
            scope = {"type": "lifespan", "asgi": ASGI, "state": self.state}
            try:
                await self.app(scope, receive, send)
            except BaseException:
                if not startup_done.done():
                    # The app does not support lifespan: that is allowed.
                    startup_done.set_result(None)
                else:
                    traceback.print_exc(file=sys.stderr)
            if not startup_done.done():
                startup_done.set_result(None)
            if not shutdown_done.done():
                shutdown_done.set_result(None)

        self._task = loop.create_task(run())
        await startup_done
        if self.failure:
            print(f"fabricks: ASGI lifespan startup failed: {self.failure}", file=sys.stderr)

    async def shutdown(self):
        """Send `lifespan.shutdown` and wait until the app says it is done
        (or its lifespan coroutine ends). Nothing to do if startup never ran
        or failed, or the app has no lifespan."""
        if not self.started or self.failure or self._shutdown_done.done():
            return
        self._events[1].set_result(None)
        await self._shutdown_done


def build_scope(request, state):
    server_name, server_port = request.server()
    raw_path = request.raw_path
    root_path = request.script_name
    return {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        # Like uvicorn: `path` is the full path, `root_path` the mount point in it.
        "path": unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"),
        "raw_path": raw_path.encode("latin-1", "replace"),
        "query_string": request.query_string.encode("latin-1", "replace"),
        "root_path": root_path,
        "headers": [(name.encode("latin-1"), value) for name, value in request.headers],
        "client": request.client(),
        "server": (server_name, server_port),
        "state": dict(state),
        # The host's `spin-*` headers, which are not among `headers`.
        "extensions": {"fabricks.spin_headers": request.spin_headers},
    }


class _Exchange:
    def __init__(self, request, response):
        self.request = request
        self.response = response
        self.status = None
        self.headers = None
        self.complete = get_loop().create_future()
        self.body_done = False

    async def receive(self):
        if not self.body_done:
            chunk = await self.request.body.aread(wasi_http.READ_CHUNK)
            more = bool(chunk) and not self.request.body.at_eof()
            if not more:
                self.body_done = True
            return {"type": "http.request", "body": chunk, "more_body": more}
        # The client is gone once the response is complete.
        await self.complete
        return {"type": "http.disconnect"}

    async def send(self, message):
        kind = message.get("type")
        if self.complete.done():
            raise RuntimeError(f"ASGI app sent {kind!r} after the response was complete")
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("ASGI app sent http.response.start twice")
            self.status = int(message["status"])
            self.headers = [
                (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
                for name, value in message.get("headers", [])
            ]
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("ASGI app sent a body before http.response.start")
            if not self.response.started:
                self.response.start(self.status, self.headers)
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if body and (more or len(body) > wasi_http.ONE_CALL_WRITE):
                await self.response.awrite(body)
                body = b""
            if not more:
                # A small last chunk goes out with the end of the body:
                # `finish` waits for the client either way.
                self.response.finish(body)
                self.complete.set_result(None)
        else:
            raise RuntimeError(f"ASGI app sent an unknown message type {kind!r}")


async def _serve(app, lifespan, incoming_request, response_out):
    request = wasi_http.Request(incoming_request)
    try:
        await _respond(app, lifespan, request, wasi_http.Response(response_out, send_body=request.method != "HEAD"))
    finally:
        request.body.release()


async def _respond(app, lifespan, request, response):
    await lifespan.ensure_started()
    if lifespan.failure:
        response.fail(503, b"Service Unavailable: the app's startup failed\n")
        return
    exchange = _Exchange(request, response)
    try:
        await app(build_scope(request, lifespan.state), exchange.receive, exchange.send)
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        if not exchange.complete.done():
            response.fail()
            exchange.complete.set_result(None)
        return
    if not exchange.complete.done():
        if response.started:
            print("fabricks: the ASGI app returned before finishing its response", file=sys.stderr)
            response.abort()
        else:
            print("fabricks: the ASGI app returned without sending a response", file=sys.stderr)
            response.fail()
        exchange.complete.set_result(None)
    request.body.drain()


def exports(app):
    """The classes componentize-py exports for `app`: `IncomingHandler`, and
    `Lifecycle`, whose retirement runs the lifespan shutdown."""
    lifespan = Lifespan(app)

    class IncomingHandler:
        def handle(self, request, response_out):
            get_loop().run_until_complete(_serve(app, lifespan, request, response_out))

    return IncomingHandler, lifecycle_class(lambda: get_loop().run_until_complete(lifespan.shutdown()))
