"""Outbound HTTP for the app's own client libraries, over `wasi:http`.

The guest has no sockets (the host denies them, and stock Spin has none);
its one way out is `wasi:http/outgoing-handler`, where the host applies the
component's `allowed_outbound_hosts` and does TLS. Rather than re-implement
each client library, this module gives them what they all stand on, a
connected socket: http.client's connections (so urllib's), urllib3's
(requests') are `WasiSocket`s, httpcore's (httpx.Client and AsyncClient)
`SyncWasiStream`s and `AsyncWasiStream`s over one, and
the `ssl` stand-in's contexts wrap one by marking it https. Other sockets
(`socket.socket`, `socket.create_connection`) stay what the host makes them:
denied. The HTTP/1.1 bytes the library writes are parsed back into a
request sent through wasi:http; the response is written back as HTTP/1.1
bytes for the library's own parser (chunked bodies unchunked, streamed as
the library reads).

Errors are the socket errors those libraries turn into their own:
a host the component may not call is `ConnectionRefusedError` saying how to
allow it (the server's log says so too), a timeout `TimeoutError`, an unknown
name `socket.gaierror`.
"""

import errno
import io
import re
import socket

from componentize_py_types import Err, Ok
from wit_world.imports import monotonic_clock, outgoing_handler, poll, streams, types

from .wasi_http import write_permitted

_HTTP_REQUEST_LINE = re.compile(rb"^[A-Za-z]+ \S+ HTTP/1\.[01]$")

READ_CHUNK = 64 * 1024

# How long sending waits for the host's first word: a refusal (a host not
# allowed, nothing listening, no such name) comes within it and is a
# connection error, as from connect(); a response still on its way is
# awaited when the library reads it, so a slow server is a read timeout. (It
# costs no time: the request is under way meanwhile.)
SETTLE_SECONDS = 0.05

# Headers a guest may not send (the host owns the connection) or that the
# host derives itself.
_NOT_SENT = frozenset(
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings", "te"]
)

_METHODS = {
    "GET": types.Method_Get(),
    "HEAD": types.Method_Head(),
    "POST": types.Method_Post(),
    "PUT": types.Method_Put(),
    "DELETE": types.Method_Delete(),
    "CONNECT": types.Method_Connect(),
    "OPTIONS": types.Method_Options(),
    "TRACE": types.Method_Trace(),
    "PATCH": types.Method_Patch(),
}


def _error_for(code, authority, scheme):
    """The socket error an app's library expects for a wasi:http error code."""
    name = type(code).__name__.removeprefix("ErrorCode_")
    if name == "HttpRequestDenied":
        return ConnectionRefusedError(
            errno.ECONNREFUSED,
            f"the component may not call {scheme}://{authority}: it is not in allowed_outbound_hosts "
            f'(allow it with allowed_outbound_hosts = ["{scheme}://{authority}"] in spin.toml, '
            f'or [capabilities.network] connect = ["{scheme}://{authority}"] in the Fabrickfile)',
        )
    if name in ("ConnectionTimeout", "ConnectionReadTimeout", "ConnectionWriteTimeout", "HttpResponseTimeout"):
        return TimeoutError(errno.ETIMEDOUT, f"timed out ({scheme}://{authority}: {name})")
    if name == "DnsError":
        return socket.gaierror(socket.EAI_NONAME, f"Name or service not known ({authority})")
    if name == "ConnectionRefused":
        return ConnectionRefusedError(errno.ECONNREFUSED, f"Connection refused ({scheme}://{authority})")
    if name in ("ConnectionTerminated", "ConnectionLimitReached"):
        return ConnectionResetError(errno.ECONNRESET, f"Connection reset ({scheme}://{authority}: {name})")
    detail = getattr(code, "value", None)
    return ConnectionError(errno.ECONNABORTED, f"{scheme}://{authority}: {name}{f' ({detail})' if detail else ''}")


def _duration(seconds):
    return None if seconds is None else max(1, int(seconds * 1_000_000_000))


class _Request:
    """A request parsed from the bytes a library wrote."""

    def __init__(self, head):
        lines = head.decode("latin-1").split("\r\n")
        self.method, self.target, _ = lines[0].split(" ", 2)
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class WasiSocket:
    """What http.client, urllib3 and httpcore see as a connected socket."""

    family = socket.AF_INET
    type = socket.SOCK_STREAM
    proto = 0

    def __init__(self, host, port, timeout=None):
        self.host = host
        self.port = port
        self.tls = False
        self._timeout = timeout
        self._out = bytearray()
        self._pending = None  # a request sent, its response not yet asked for
        self._response = None  # a _Response being read
        self._readers = 0  # open makefile()s, which outlive close() as a socket's do
        self._closed = False

    # --- socket API the libraries use ------------------------------------

    def settimeout(self, timeout):
        self._timeout = timeout

    def gettimeout(self):
        return self._timeout

    def setblocking(self, flag):
        self._timeout = None if flag else 0.0

    def setsockopt(self, *args):
        pass

    def getsockopt(self, *args):
        return 0

    def getpeername(self):
        return (self.host, self.port)

    def getsockname(self):
        return ("0.0.0.0", 0)

    def fileno(self):
        return -1

    def sendall(self, data):
        self._send_bytes(data)
        if self._pending:
            self._pending.settle()

    async def asendall(self, data):
        """`sendall` for the event loop: waits for a refusal without blocking
        other tasks."""
        self._send_bytes(data)
        if self._pending:
            await self._pending.asettle()

    def _send_bytes(self, data):
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        self._out += data
        line_end = self._out.find(b"\r\n")
        if line_end >= 0 and not _HTTP_REQUEST_LINE.match(bytes(self._out[:line_end])):
            self._out.clear()
            raise OSError(
                errno.EPROTONOSUPPORT,
                f"a fabricks guest can only speak HTTP to other services (through wasi:http), and this connection to "
                f"{self.host}:{self.port} sent something else: use the service's HTTP API",
            )
        self._send_if_complete()

    def send(self, data):
        self.sendall(data)
        return len(data)

    def recv(self, size, flags=0):
        # The response is awaited when the library first reads it, as from a
        # socket: a timeout then is a read timeout.
        if self._pending:
            pending, self._pending = self._pending, None
            self._response = pending.response()
        return self._response.read(size) if self._response else b""

    async def arecv(self, size):
        """`recv` for the event loop: waits without blocking other tasks."""
        if self._pending:
            pending, self._pending = self._pending, None
            self._response = await pending.aresponse()
        return await self._response.aread(size) if self._response else b""

    def recv_into(self, buffer, size=0, flags=0):
        data = self.recv(size or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def makefile(self, mode="rb", buffering=None, **kwargs):
        if "w" in mode:
            raise OSError("fabricks: a guest socket's makefile is for reading")
        self._readers += 1
        return io.BufferedReader(_ResponseReader(self), buffering or io.DEFAULT_BUFFER_SIZE)

    def shutdown(self, how):
        pass

    def close(self):
        self._closed = True
        if self._readers == 0:
            self._release()

    def _release(self):
        if self._response:
            self._response.close()
            self._response = None
        self._pending = None

    def _reader_closed(self):
        self._readers -= 1
        if self._closed and self._readers == 0:
            self._release()

    def detach(self):
        return -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- what an ssl context's wrap_socket answers on --------------------

    def version(self):
        return "TLSv1.3" if self.tls else None

    def cipher(self):
        return ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128) if self.tls else None

    def selected_alpn_protocol(self):
        return None

    def getpeercert(self, binary_form=False):
        # The host verified the server's certificate; this says whose it is.
        if binary_form:
            return b""
        kind = "IP Address" if re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", self.host) else "DNS"
        return {"subject": ((("commonName", self.host),),), "subjectAltName": ((kind, self.host),)}

    # --- the exchange ------------------------------------------------------

    def _send_if_complete(self):
        end = self._out.find(b"\r\n\r\n")
        if end < 0:
            return
        request = _Request(bytes(self._out[:end]))
        body_start = end + 4
        length = request.header("content-length")
        chunked = "chunked" in (request.header("transfer-encoding") or "").lower()
        if chunked:
            body, used = _unchunk(self._out, body_start)
            if body is None:
                return
        elif length is not None:
            used = body_start + int(length)
            if len(self._out) < used:
                return
            body = bytes(self._out[body_start:used])
        else:
            body, used = b"", body_start
        del self._out[:used]
        self._release()
        self._pending = _send(self, request, body)


def _unchunk(buffer, start):
    """The body of a chunked message in `buffer` from `start`, and where it
    ends; (None, None) while it is incomplete."""
    body = bytearray()
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None, None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", at - 2)
            if trailer_end < 0:
                return None, None
            return bytes(body), trailer_end + 4
        if len(buffer) < at + size + 2:
            return None, None
        body += buffer[at : at + size]
        at += size + 2


def _send(sock, request, body):
    """Send `request` through wasi:http (a host the component may not call
    is refused at once); its response is awaited when asked for."""
    scheme = "https" if sock.tls else "http"
    default_port = 443 if sock.tls else 80
    authority = request.header("host") or (sock.host if sock.port in (None, default_port) else f"{sock.host}:{sock.port}")
    fields = types.Fields.from_list(
        [(name.lower(), value.encode("latin-1")) for name, value in request.headers if name.lower() not in _NOT_SENT]
    )
    outgoing = types.OutgoingRequest(fields)
    outgoing.set_method(_METHODS.get(request.method.upper()) or types.Method_Other(request.method))
    outgoing.set_scheme(types.Scheme_Https() if sock.tls else types.Scheme_Http())
    outgoing.set_authority(authority)
    outgoing.set_path_with_query(request.target)
    options = None
    if sock.gettimeout():
        options = types.RequestOptions()
        timeout = _duration(sock.gettimeout())
        options.set_connect_timeout(timeout)
        options.set_first_byte_timeout(timeout)
        options.set_between_bytes_timeout(timeout)
    outgoing_body = outgoing.body()
    try:
        future = outgoing_handler.handle(outgoing, options)
    except Err as error:
        outgoing_body.__exit__(None, None, None)
        raise _error_for(error.value, authority, scheme) from None
    stream = outgoing_body.write()
    try:
        if body:
            # As the stream permits, not in 4 KiB blocking writes that each
            # waited for the host to take the one before.
            for ready in write_permitted(stream, body):
                with ready:
                    ready.block()
            stream.blocking_flush()
    except Err:
        pass  # the response says why (the server closed early, say)
    finally:
        stream.__exit__(None, None, None)
    types.OutgoingBody.finish(outgoing_body, None)
    return _Pending(future, request.method.upper() == "HEAD", authority, scheme)


class _Pending:
    def __init__(self, future, head_only, authority, scheme):
        self._future = future
        self._head_only = head_only
        self._where = (authority, scheme)
        self._result = None

    def settle(self):
        """Wait up to SETTLE_SECONDS for the host's answer; raise a refusal now."""
        if self._result is not None:
            return
        with self._future.subscribe() as ready, monotonic_clock.subscribe_duration(int(SETTLE_SECONDS * 1e9)) as timer:
            poll.poll([ready, timer])
        self._taken()

    async def asettle(self):
        import asyncio

        from fabricks_adapter.event_loop import get_loop

        if self._result is not None:
            return
        try:
            await asyncio.wait_for(get_loop().wait_for(self._future.subscribe()), SETTLE_SECONDS)
        except TimeoutError:
            return
        self._taken()

    def _taken(self):
        self._result = self._future.get()
        if self._result is not None and (isinstance(self._result, Err) or isinstance(self._result.value, Err)):
            self.response()

    def response(self):
        with self._future as future:
            result = self._result
            while result is None:
                with future.subscribe() as ready:
                    ready.block()
                result = future.get()
        return self._answer(result)

    async def aresponse(self):
        from fabricks_adapter.event_loop import get_loop

        with self._future as future:
            result = self._result
            while result is None:
                await get_loop().wait_for(future.subscribe())
                result = future.get()
        return self._answer(result)

    def _answer(self, result):
        authority, scheme = self._where
        if isinstance(result, Err) or isinstance(result.value, Err):
            code = result.value.value if isinstance(result, Ok) else None
            if code is None:
                raise ConnectionError(errno.ECONNABORTED, f"{scheme}://{authority}: the request failed")
            raise _error_for(code, authority, scheme)
        return _Response(result.value.value, self._head_only, authority, scheme)


class _Response:
    """An incoming response as HTTP/1.1 bytes: the head, then the body as
    it streams in (delimited by Content-Length, or by the end of the
    connection when the server sent none)."""

    def __init__(self, incoming, head_only, authority, scheme):
        self._where = (authority, scheme)
        status = incoming.status()
        headers = incoming.headers().entries()
        names = {name.lower() for name, _ in headers}
        lines = [f"HTTP/1.1 {status} {_reason(status)}".encode("latin-1")]
        for name, value in headers:
            if name.lower() in ("transfer-encoding", "connection", "keep-alive"):
                continue
            lines.append(name.encode("latin-1") + b": " + value)
        if "content-length" not in names and status not in (204, 304) and not head_only:
            lines.append(b"Connection: close")
        self._pending = b"\r\n".join(lines) + b"\r\n\r\n"
        self._incoming = incoming
        self._body = incoming.consume()
        self._stream = self._body.stream()
        self._done = False

    def read(self, size):
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        if self._done:
            return b""
        try:
            return self._stream.blocking_read(min(size, READ_CHUNK)) or self.read(size)
        except Err as error:
            return self._ended(error)

    async def aread(self, size):
        from fabricks_adapter.event_loop import get_loop

        if self._pending or self._done:
            return self.read(size)
        while True:
            try:
                data = self._stream.read(min(size, READ_CHUNK))
            except Err as error:
                return self._ended(error)
            if data:
                return data
            await get_loop().wait_for(self._stream.subscribe())

    def _ended(self, error):
        """The body stream ended: b"" at its end, an error if it broke off."""
        self.close()
        if isinstance(error.value, streams.StreamError_Closed):
            return b""
        authority, scheme = self._where
        raise ConnectionResetError(errno.ECONNRESET, f"{scheme}://{authority}: the response body broke off") from None

    def close(self):
        if self._done:
            return
        self._done = True
        self._stream.__exit__(None, None, None)
        try:
            types.IncomingBody.finish(self._body).__exit__(None, None, None)
        except Exception:
            pass
        self._incoming.__exit__(None, None, None)


def _reason(status):
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class _ResponseReader(io.RawIOBase):
    def __init__(self, sock):
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._sock.recv(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        if not self.closed:
            self._sock._reader_closed()
        super().close()


def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):
    """`socket.create_connection` for the HTTP clients: a `WasiSocket` to `address`."""
    host, port = address[0], address[1]
    if timeout is socket._GLOBAL_DEFAULT_TIMEOUT:
        timeout = socket.getdefaulttimeout()
    return WasiSocket(host, port, timeout)


def wrap_socket(sock, server_hostname=None, **kwargs):
    """An ssl context's `wrap_socket`: a guest socket is made https (the host
    does the TLS); anything else cannot be."""
    if not isinstance(sock, WasiSocket):
        raise OSError("TLS is not available in a fabricks guest except for HTTP requests (the host makes the TLS connection)")
    sock.tls = True
    if server_hostname:
        sock.host = server_hostname
    return sock


def _wait_for_read(wait_for_read):
    """urllib3's check whether a pooled connection was dropped, which
    selects on the file descriptor a guest socket does not have: it is
    dropped when it was closed."""

    def wait(sock, timeout=None):
        if isinstance(sock, WasiSocket):
            return sock._closed
        return wait_for_read(sock, timeout)

    return wait


class _WasiStream:
    """httpcore's network stream over a `WasiSocket`. Writing sends the
    request, so a refusal then (a host not allowed, nothing listening, no
    such name) is httpcore's ConnectError, as from connect()."""

    def __init__(self, sock):
        self._sock = sock

    def _sent(self, buffer, timeout):
        import httpcore

        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(buffer)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error

    @staticmethod
    def _read_error(error):
        import httpcore

        kind = httpcore.ReadTimeout if isinstance(error, TimeoutError) else httpcore.ReadError
        return kind(str(error))

    def get_extra_info(self, info):
        if info == "ssl_object":
            return self._sock if self._sock.tls else None
        if info == "server_addr":
            return (self._sock.host, self._sock.port)
        if info == "client_addr":
            return ("0.0.0.0", 0)
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return self._sock._closed
        return None


class SyncWasiStream(_WasiStream):
    """httpx.Client's connections."""

    def read(self, max_bytes, timeout=None):
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv(max_bytes)
        except OSError as error:
            raise self._read_error(error) from error

    def write(self, buffer, timeout=None):
        self._sent(buffer, timeout)

    def close(self):
        self._sock.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        wrap_socket(self._sock, server_hostname=server_hostname)
        return self


class AsyncWasiStream(_WasiStream):
    """httpx.AsyncClient's connections, on the adapter's event loop, with
    several requests in flight at once."""

    async def read(self, max_bytes, timeout=None):
        self._sock.settimeout(timeout)
        try:
            return await self._sock.arecv(max_bytes)
        except OSError as error:
            raise self._read_error(error) from error

    async def write(self, buffer, timeout=None):
        import httpcore

        self._sock.settimeout(timeout)
        try:
            await self._sock.asendall(buffer)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error

    async def aclose(self):
        self._sock.close()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        wrap_socket(self._sock, server_hostname=server_hostname)
        return self


async def _connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
    return AsyncWasiStream(WasiSocket(host, port, timeout))


def _sync_connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
    return SyncWasiStream(WasiSocket(host, port, timeout))


def install():
    """Route the HTTP clients' connections through wasi:http: http.client's
    (so urllib's), urllib3's (requests') and httpcore's, sync and async
    (httpx'). Other sockets stay what the host makes them: denied. Called
    before the app is imported."""
    import http.client

    native_init = http.client.HTTPConnection.__init__

    def __init__(self, *args, **kwargs):
        native_init(self, *args, **kwargs)
        self._create_connection = create_connection

    __init__.__doc__ = native_init.__doc__
    http.client.HTTPConnection.__init__ = __init__
    try:
        import httpcore._backends.auto
        import httpcore._backends.sync
    except ImportError:
        pass
    else:
        httpcore._backends.auto.AutoBackend.connect_tcp = _connect_tcp
        httpcore._backends.sync.SyncBackend.connect_tcp = _sync_connect_tcp
    try:
        import urllib3.connection
        import urllib3.util.connection
        import urllib3.util.wait
    except ImportError:
        return
    urllib3.util.connection.create_connection = create_connection
    for module in (urllib3.util.wait, urllib3.connection):
        if hasattr(module, "wait_for_read"):
            module.wait_for_read = _wait_for_read(module.wait_for_read)
