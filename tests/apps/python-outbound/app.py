import hashlib
import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import httpx
import requests
from flask import Flask, jsonify, request

app = Flask(__name__)


def target():
    return request.args["url"]


@app.get("/urllib")
def with_urllib():
    try:
        with urllib.request.urlopen(target(), timeout=5) as response:
            return jsonify(status=response.status, body=response.read().decode(), url=response.url)
    except urllib.error.HTTPError as error:
        return jsonify(status=error.code, body=error.read().decode()), 200
    except urllib.error.URLError as error:
        return jsonify(error=type(error).__name__, reason=str(error.reason)), 502


@app.get("/http-client")
def with_http_client():
    url = urlsplit(target())
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    answers = []
    for path in ["/ping", "/ping"]:  # one connection, two requests
        connection.request("GET", path)
        response = connection.getresponse()
        answers.append([response.status, response.reason, response.getheader("content-type"), response.read().decode()])
    connection.request("POST", "/echo", body=iter([b"chunked ", b"body"]), headers={"Content-Type": "text/plain"}, encode_chunked=True)
    response = connection.getresponse()
    answers.append([response.status, response.read().decode()])
    connection.close()
    return jsonify(answers)


@app.get("/requests")
def with_requests():
    base = target()
    session = requests.Session()
    pong = session.get(f"{base}/ping", timeout=5)
    echoed = session.post(f"{base}/echo", json={"n": 1, "word": "café"}, timeout=5)
    redirected = session.get(f"{base}/redirect", timeout=5)
    # 3 MiB and more: the body goes to the host in the pieces it takes.
    attached = b"uploaded bytes" + bytes(range(251)) * 12600
    upload = session.post(f"{base}/echo", files={"file": ("notes.txt", attached, "application/octet-stream")}, timeout=5)
    digest = hashlib.sha256()
    size = 0
    with session.get(f"{base}/big", stream=True, timeout=5) as big:
        big.raise_for_status()
        for chunk in big.iter_content(65536):
            digest.update(chunk)
            size += len(chunk)
    missing = session.get(f"{base}/missing", timeout=5)
    try:
        missing.raise_for_status()
        raised = None
    except requests.HTTPError as error:
        raised = str(error)
    return jsonify(
        pong=pong.text,
        echoed=echoed.json(),
        echoed_type=echoed.headers["content-type"],
        redirected=[redirected.status_code, redirected.text, [r.status_code for r in redirected.history]],
        upload=attached in upload.content and b'filename="notes.txt"' in upload.content,
        big=[size, digest.hexdigest()],
        raised=raised,
    )


@app.get("/requests-error")
def requests_error():
    try:
        requests.get(target(), timeout=float(request.args.get("timeout", 5)))
    except requests.Timeout as error:
        return jsonify(error="Timeout", kind=type(error).__name__, message=str(error)), 504
    except requests.ConnectionError as error:
        return jsonify(error="ConnectionError", kind=type(error).__name__, message=str(error)), 502
    return jsonify(error=None)


@app.get("/httpx")
def with_httpx():
    base = target()
    with httpx.Client(timeout=5) as client:
        pong = client.get(f"{base}/ping")
        echoed = client.post(f"{base}/echo", json={"via": "httpx"})
        redirected = client.get(f"{base}/redirect", follow_redirects=True)
    return jsonify(pong=pong.text, echoed=echoed.json(), redirected=[redirected.status_code, redirected.text])


@app.get("/httpx-error")
def httpx_error():
    try:
        httpx.get(target(), timeout=float(request.args.get("timeout", 5)))
    except httpx.HTTPError as error:
        return jsonify(kind=type(error).__name__, message=str(error)), 502
    return jsonify(kind=None)


@app.get("/proxy/<path:path>")
def proxy(path):
    """Another service's answer, passed on."""
    upstream = requests.get(f"{target()}/{path}", timeout=5)
    return upstream.content, upstream.status_code, {"Content-Type": upstream.headers.get("Content-Type", "text/plain")}


@app.get("/json")
def as_json():
    return json.dumps({"ok": True})
