"""The WSGI bridge (PEP 3333): one `wasi:http/incoming-handler` call becomes
one call of the app with a full `environ` and `start_response`, and the app's
iterable is streamed back chunk by chunk as it is produced."""

import sys
import traceback

from . import wasi_http
from .lifecycle import lifecycle_class

# Request headers that become CONTENT_TYPE / CONTENT_LENGTH, not HTTP_*.
_UNPREFIXED = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


# The smallest block `wsgi.file_wrapper` reads: apps ask for small ones
# (werkzeug's `send_file` 8 KiB, Django's FileResponse 4 KiB), and each
# block costs a read and a write into the host. (Blocks of 1 MiB served a
# 540 KB file with less CPU still, but small files with a little more.)
FILE_BLOCK = 256 * 1024


class FileWrapper:
    """`wsgi.file_wrapper`: iterate a file-like object in blocks of at least
    `FILE_BLOCK` bytes (PEP 3333 leaves the size to the server)."""

    def __init__(self, filelike, block_size=FILE_BLOCK):
        self.filelike = filelike
        self.block_size = max(block_size, FILE_BLOCK)
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block


def build_environ(request):
    """The PEP 3333 environ for one request."""
    server_name, server_port = request.server()
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": request.script_name,
        "PATH_INFO": request.path_info,
        "QUERY_STRING": request.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "RAW_URI": request.raw_path + ("?" + request.query_string if request.query_string else ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": request.body,
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        # The host's `spin-*` headers, which are not among the HTTP_ keys.
        "fabricks.spin_headers": request.spin_headers,
    }
    client = request.client()
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    joined = {}
    for name, value in request.headers:
        if "_" in name:
            # Like gunicorn: `X_Forwarded` must not pose as `X-Forwarded`.
            continue
        key = _UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")
        text = value.decode("latin-1")
        if key in joined:
            joined[key] += ("; " if key == "HTTP_COOKIE" else ", ") + text
        else:
            joined[key] = text
    environ.update(joined)
    return environ


class _Exchange:
    """The state of one request/response: what start_response set, whether
    the head went out."""

    def __init__(self, response):
        self.response = response
        self.status = None
        self.headers = None

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.response.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called a second time without exc_info")
        self.status = int(str(status).split(" ", 1)[0])
        self.headers = [(str(name), str(value)) for name, value in headers]
        return self.write

    def send_head(self):
        if not self.response.started:
            if self.status is None:
                raise AssertionError("the app produced a body before calling start_response")
            self.response.start(self.status, self.headers)

    def write(self, data):
        """The legacy `write()` callable start_response returns."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"WSGI body chunks must be bytes, not {type(data).__name__}")
        self.send_head()
        self.response.write(data)


def serve(app, incoming_request, response_out):
    """Handle one request with a WSGI app."""
    request = wasi_http.Request(incoming_request)
    try:
        _respond(app, request, wasi_http.Response(response_out, send_body=request.method != "HEAD"))
    finally:
        request.body.release()


def _respond(app, request, response):
    exchange = _Exchange(response)
    result = None
    try:
        result = app(build_environ(request), exchange.start_response)
        for chunk in result:
            if chunk:
                exchange.write(chunk)
        exchange.send_head()
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        response.fail()
        return
    finally:
        if result is not None and hasattr(result, "close"):
            try:
                result.close()
            except BaseException:
                traceback.print_exc(file=sys.stderr)
    request.body.drain()
    response.finish()


def exports(app):
    """The classes componentize-py exports for `app`: `IncomingHandler` and
    `Lifecycle` (WSGI has no shutdown of its own: atexit handlers only)."""

    class IncomingHandler:
        def handle(self, request, response_out):
            serve(app, request, response_out)

    return IncomingHandler, lifecycle_class()
