"""A local HTTP service for the outbound tests: prints its port, then serves.

GET /ping → pong; GET /redirect → 302 to /ping; GET /big → 10 MiB of known
bytes; GET /slow → pong after 3 s; GET /delay/N → "waited N" after N ms;
POST /echo → the body (plain or chunked) with its Content-Type; anything
else → 404.
"""

import http.server
import sys
import time

BIG = bytes(i * 7 % 251 for i in range(10 * 1024 * 1024))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ping":
            return self.answer(200, b"pong")
        if self.path == "/redirect":
            return self.answer(302, b"", extra=[("Location", "/ping")])
        if self.path == "/big":
            return self.answer(200, BIG, "application/octet-stream")
        if self.path.startswith("/delay/"):
            milliseconds = int(self.path.removeprefix("/delay/"))
            time.sleep(milliseconds / 1000)
            return self.answer(200, f"waited {milliseconds}".encode())
        if self.path == "/slow":
            time.sleep(3)
            return self.answer(200, b"pong")
        return self.answer(404, b"no such thing")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        return self.answer(200, body, self.headers.get("Content-Type", "text/plain"))


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
