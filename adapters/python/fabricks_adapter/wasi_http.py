"""The WASI side of one HTTP exchange: the request's fields and body stream in,
the response's status, headers and body stream out.

Framework bridges (``wsgi``) build on these helpers and never touch the WIT
bindings themselves.
"""

import sys
from urllib.parse import unquote_to_bytes

from componentize_py_types import Err, Ok
from wit_world.imports import streams, types

READ_CHUNK = 64 * 1024

# The most `output-stream.blocking-write-and-flush` takes in one call.
ONE_CALL_WRITE = 4096

# Headers a guest may not send: WASI rejects them (they are about the
# connection, which the host owns).
FORBIDDEN_RESPONSE_HEADERS = frozenset(
    [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "host",
        "http2-settings",
    ]
)

_METHODS = {
    types.Method_Get: "GET",
    types.Method_Head: "HEAD",
    types.Method_Post: "POST",
    types.Method_Put: "PUT",
    types.Method_Delete: "DELETE",
    types.Method_Connect: "CONNECT",
    types.Method_Options: "OPTIONS",
    types.Method_Trace: "TRACE",
    types.Method_Patch: "PATCH",
}


class Request:
    """What the host handed over, decoded once: method, scheme, authority,
    raw path and query, header list, the route split, and the body stream."""

    def __init__(self, incoming):
        method = incoming.method()
        if isinstance(method, types.Method_Other):
            self.method = method.value.upper()
        else:
            self.method = _METHODS[type(method)]
        scheme = incoming.scheme()
        if isinstance(scheme, types.Scheme_Https):
            self.scheme = "https"
        elif isinstance(scheme, types.Scheme_Other):
            self.scheme = scheme.value
        else:
            self.scheme = "http"
        self.authority = incoming.authority() or ""
        target = incoming.path_with_query() or "/"
        self.raw_path, _, self.query_string = target.partition("?")
        with incoming.headers() as fields:
            entries = fields.entries()
        # One pass over the headers (this runs for every request): the
        # client's, names lower-cased, in order; and Spin's `spin-*` headers
        # apart. Those are the host's word to the adapter, not the client's:
        # the app does not see them among its headers (a header model that
        # forbids extra fields would refuse every request). What they say
        # reaches it as SCRIPT_NAME/PATH_INFO and REMOTE_ADDR (or root_path
        # and client), and all of them as `spin_headers`.
        self.headers = headers = []
        self.spin_headers = spin_headers = {}
        has_host = False
        length = None
        for name, value in entries:
            name = name.lower()
            if name.startswith("spin-"):
                spin_headers[name] = value.decode("latin-1")
                continue
            if name == "host":
                has_host = True
            elif name == "content-length" and length is None:
                length = value.decode("latin-1")
            headers.append((name, value))
        if self.authority and not has_host:
            # WASI hosts strip Host and carry it as the authority; apps (and
            # middleware such as Starlette's TrustedHostMiddleware) expect
            # the header, as gunicorn and uvicorn pass it on.
            headers.insert(0, ("host", self.authority.encode("latin-1")))
        self.body = RequestBody(incoming, declared=bool(length and length.strip() != "0"))
        wildcard = spin_headers.get("spin-matched-route", "").endswith("/...")
        path_info = spin_headers.get("spin-path-info") if wildcard else None
        self.script_name, self.path_info = _split_route(self.raw_path, path_info)

    def client(self):
        """(host, port) of the client, from the host's `spin-client-addr`, or None."""
        addr = self.spin_headers.get("spin-client-addr")
        if not addr or ":" not in addr:
            return None
        host, _, port = addr.rpartition(":")
        try:
            return host.strip("[]"), int(port)
        except ValueError:
            return None

    def server(self):
        """(name, port) of the server, from the authority (the Host header)."""
        default_port = 443 if self.scheme == "https" else 80
        authority = self.authority
        if authority.startswith("["):
            host, _, rest = authority[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port = authority.partition(":")
        try:
            return host or "localhost", int(port) if port else default_port
        except ValueError:
            return host or "localhost", default_port


def _split_route(raw_path, path_info_header):
    """Split the raw path into (SCRIPT_NAME, PATH_INFO), both percent-decoded.

    Spin-style hosts say which part of the path a wildcard route's `...`
    matched (`spin-path-info`); what comes before it is the mount point of the
    app. For an exact route, or without that header (e.g. under `wasmtime
    serve`), the app is at the root.
    """
    if path_info_header is not None and raw_path.endswith(path_info_header):
        base = raw_path[: len(raw_path) - len(path_info_header)]
        path = path_info_header
    else:
        base, path = "", raw_path
    return _decode_path(base.rstrip("/")), _decode_path(path)


def _decode_path(raw):
    if "%" not in raw and raw.isascii():
        return raw
    return unquote_to_bytes(raw).decode("latin-1")


class RequestBody:
    """A file-like, read-only view of the request body, read lazily from the
    WASI input stream (PEP 3333's `wsgi.input`).

    The body is only taken from the request when something reads it, or, at
    the end, when the request said it has one (Content-Length) and the app
    left it unread: most requests have none, and opening, reading and closing
    an empty body costs several calls into the host. (A chunked body arrives
    without either header, since the host strips Transfer-Encoding; one the
    app never reads is left to the host, which then closes the connection
    rather than reuse it.)"""

    def __init__(self, incoming_request, declared):
        self._request = incoming_request
        self._declared = declared
        self._body = None
        self._stream = None
        self._buffer = bytearray()
        self._eof = False

    def _open(self):
        self._body = self._request.consume()
        self._stream = self._body.stream()

    def _fill(self):
        """Read one more chunk into the buffer; False at the end of the body."""
        if self._eof:
            return False
        if self._stream is None:
            self._open()
        try:
            chunk = self._stream.blocking_read(READ_CHUNK)
        except Err as error:
            self._close_stream()
            if isinstance(error.value, streams.StreamError_Closed):
                return False
            # Not the end: the body was cut off (too large, or the client
            # left). The app must not take what it got for the whole body.
            raise OSError("the request body could not be read to its end") from None
        self._buffer += chunk
        return True

    def _close_stream(self):
        self._eof = True
        self._stream.__exit__(None, None, None)
        try:
            types.IncomingBody.finish(self._body).__exit__(None, None, None)
        except Exception:
            pass

    def _take(self, size):
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read(self, size=-1):
        if size is None or size < 0:
            while self._fill():
                pass
            return self._take(len(self._buffer))
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(size)

    def read1(self, size=-1):
        if not self._buffer:
            self._fill()
        return self._take(len(self._buffer) if size is None or size < 0 else size)

    def readline(self, size=-1):
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                end += 1
                break
            if size is not None and 0 <= size <= len(self._buffer):
                break
            if not self._fill():
                end = len(self._buffer)
                break
        if size is not None and size >= 0:
            end = min(end, size) if end >= 0 else size
        return self._take(end)

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def readable(self):
        return True

    def close(self):
        pass

    def at_eof(self):
        """True once the body is fully read and nothing is buffered."""
        return self._eof and not self._buffer

    async def aread(self, size):
        """Read up to `size` bytes, waiting on the event loop (not blocking
        it) until some arrive; b"" at the end of the body."""
        from .event_loop import get_loop

        if self._stream is None and not self._eof:
            self._open()
        while not self._buffer and not self._eof:
            try:
                chunk = self._stream.read(size)
            except Err as error:
                self._close_stream()
                if isinstance(error.value, streams.StreamError_Closed):
                    break
                raise OSError("the request body could not be read to its end") from None
            if chunk:
                self._buffer += chunk
            else:
                await get_loop().wait_for(self._stream.subscribe())
        if not self._eof and len(self._buffer) < size:
            # Look ahead without waiting, so `more_body` can be False early.
            try:
                self._buffer += self._stream.read(size - len(self._buffer))
            except Err:
                self._close_stream()
        return self._take(min(size, len(self._buffer)))

    def drain(self):
        """Read what the app left unread, so the host sees the body consumed
        (and may keep the connection)."""
        if self._stream is None and not self._declared:
            return
        try:
            while self._fill():
                self._buffer.clear()
        except OSError:
            pass  # cut off: the host knows, and says so to the client

    def release(self):
        """Drop the WASI body and its stream, read or not. Must happen before
        the handler returns: the request resource cannot outlive them."""
        if self._stream is not None and not self._eof:
            self._close_stream()


def write_permitted(stream, data, written=None):
    """Write `data` to a WASI output stream as it permits (the host takes up
    to what `check-write` says at once: 1 MiB in wasmtime), then start a
    flush; yields a pollable to wait on whenever the stream is full, and
    calls `written(n)` after each write. Raises `Err` if the stream closed."""
    view = memoryview(data)
    while view:
        allowed = stream.check_write()
        if allowed == 0:
            yield stream.subscribe()
            continue
        chunk = bytes(view[:allowed])
        stream.write(chunk)
        if written is not None:
            written(len(chunk))
        view = view[len(chunk) :]
    stream.flush()


class Response:
    """The response side: send the head once, then stream body chunks."""

    def __init__(self, response_out, send_body=True):
        self._out = response_out
        self._send_body = send_body
        self._body = None
        self._stream = None
        self.started = False
        self.client_gone = False
        # Body bytes written and, if the app declared it, how many it will write.
        self._sent = 0
        self._length = None
        # Whether a write's flush may still be under way (see `finish`).
        self._flush_pending = False

    def start(self, status, headers):
        """Send the status and headers; `headers` is a list of (str, str)."""
        entries = [
            (name, value.encode("latin-1"))
            for name, value in headers
            if name.lower() not in FORBIDDEN_RESPONSE_HEADERS
        ]
        for name, value in entries:
            if name.lower() == "content-length" and value.isdigit():
                self._length = int(value)
        response = types.OutgoingResponse(types.Fields.from_list(entries))
        if status != 200:  # a new outgoing-response says 200 already
            response.set_status_code(status)
        self._body = response.body()
        self._stream = self._body.write()
        types.ResponseOutparam.set(self._out, Ok(response))
        self.started = True

    def write(self, data):
        """Write one chunk and push it towards the client, waiting while the
        client is slow. A small chunk (most responses are one) takes a single
        call into the host."""
        if 0 < len(data) <= ONE_CALL_WRITE and self._send_body and not self.client_gone:
            try:
                self._stream.blocking_write_and_flush(bytes(data))
                self._sent += len(data)
            except Err:
                self._gone()
            return
        for ready in self._write(data):
            with ready:
                ready.block()

    async def awrite(self, data):
        """Like `write`, but waits for the client on the event loop."""
        from .event_loop import get_loop

        for ready in self._write(data):
            await get_loop().wait_for(ready)

    def _write(self, data):
        """Write `data` as the stream permits; yields a pollable to wait on
        whenever it is full. A stream the host closed ends the writing."""
        if not data or not self._send_body or self.client_gone:
            return
        try:
            yield from write_permitted(self._stream, data, self._count)
            self._flush_pending = True
        except Err:
            self._gone()

    def _count(self, written):
        self._sent += written

    def _gone(self):
        """The host closed the body stream. Hosts may close it as soon as the
        declared Content-Length is in (wasmtime serve does): then nothing was
        lost. Otherwise the client went away; the app may keep producing, and
        what it writes is dropped."""
        if self.client_gone:
            return
        self.client_gone = True
        if self._length is None or self._sent < self._length:
            print("fabricks: the client went away; the rest of the response is dropped", file=sys.stderr)

    def finish(self, last=b""):
        """Write the `last` chunk, if any, and end the body; the response is
        complete."""
        if last:
            self.write(last)
        if self._flush_pending and not self.client_gone:
            try:
                self._stream.blocking_flush()
            except Err:
                self._gone()
        self._stream.__exit__(None, None, None)
        try:
            types.OutgoingBody.finish(self._body, None)
        except Err:
            if self._send_body and not self.client_gone:
                raise
            # A HEAD response keeps the GET's Content-Length but sends no
            # body; a client that left gets no end either.

    def abort(self):
        """Give up on a response whose head was sent: the host drops the connection."""
        self._stream.__exit__(None, None, None)
        self._body.__exit__(None, None, None)

    def fail(self, status=500, message=b"Internal Server Error\n"):
        """Answer with a plain error if nothing was sent yet, else abort."""
        if self.started:
            self.abort()
            return
        self._send_body = True
        self.start(status, [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(message)))])
        self.finish(message)
