"""Real pages, not hello-world routes, served by fabricks and natively with
the same number of worker processes, side by side with wrk, `--rounds`
alternating:

- flask-journal (bench/apps): the index page of an app in the shape of
  Flask's tutorial: logged in (a signed session cookie), the reader loaded
  from SQLite before the view, a JOIN of 20 entries, a Jinja page extending
  a base template. fabricks `up --workers 2` on Spin's SQLite against
  `gunicorn -w 2` on CPython's sqlite3; each side's database made by the
  app's own `init-db` command, and each side logged in through its form.
- flask-factory (tests/apps): a Jinja page without a database.
- django-admin (tests/apps) `/admin/shop/product/`: the admin's list of 40
  products, logged in as a superuser (the session read from SQLite on each
  request, the user, a count and the page of rows), DEBUG off; `up
  --workers 2` on Spin's SQLite against `gunicorn -w 2` on CPython's
  sqlite3, each side's database made by `manage.py migrate` and a `shell`
  script.
- fastapi-catalog (bench/apps): 50 products validated against a Pydantic
  response model; `up --workers 1` against one uvicorn process.
- express-views (tests/apps) `/books`: an ejs view with a partial, data
  from a JSON file, in production (`NODE_ENV=production`: Express caches
  compiled views) and in development (it compiles the view per request);
  `up --workers 1` against one node process.
- static files: flask-factory's stylesheet through Flask's static route
  (`send_from_directory`: a stat, an open and a read of the file, its ETag
  and conditional headers), `up --workers 2` against `gunicorn -w 2`; and
  express-views' stylesheet through `express.static` (the `send` module),
  and a 540 KB file piped from `fs.createReadStream` into the response,
  `up --workers 1` against one node process.

Prints a Markdown table for BENCHMARKS.md. Not a test: numbers only.

    cargo build --release && python3 bench/pages.py [--rounds 3] [--seconds 5] [--pages a,b]
"""

import argparse
import http.cookiejar
import os
import re
import shutil
import statistics
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BINARY, ROOT, WORK, Server, free_port, python_venv, wrk_rate  # noqa: E402

class Page:
    def __init__(self, name, app, path, workers, native, native_app=None, init=None, login=None, environment=None):
        self.name, self.app, self.path, self.workers, self.native = name, app, path, workers, native
        # The Python module:object the native server runs.
        self.native_app = native_app
        # The app's own commands that make its database, run on each side before serving.
        self.init = init or []
        # (form path, form fields): log in there first (with the form's CSRF
        # token, if it has one); the cookies go with every request.
        self.login = login
        # Set on both sides (fabricks: in a copy of the app's Fabrickfile,
        # in place of the app's own value).
        self.environment = environment or {}

    @property
    def label(self):
        return {"gunicorn": f"gunicorn -w {self.workers}", "uvicorn": "uvicorn", "node": "node"}[self.native]

    def fabricks_app(self):
        """The app fabricks serves: the app itself, or a copy with the environment added."""
        if not self.environment:
            return ROOT / self.app
        copy = WORK / f"fabricks-{self.key}"
        if not copy.exists():
            shutil.copytree(ROOT / self.app, copy, ignore=shutil.ignore_patterns(".fabricks", "node_modules"))
            fabrickfile = copy / "Fabrickfile"
            text = fabrickfile.read_text()
            for key in self.environment:
                text = re.sub(rf"(?m)^{re.escape(key)} *=.*\n", "", text)
            lines = "".join(f'{key} = "{value}"\n' for key, value in self.environment.items())
            if "[config.environment]" in text:
                text = text.replace("[config.environment]\n", "[config.environment]\n" + lines)
            else:
                text += "\n[config.environment]\n" + lines
            fabrickfile.write_text(text)
        return copy

    @property
    def key(self):
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


# The django-admin page's data: a superuser to log in as, 40 products.
DJANGO_SEED = """
from django.contrib.auth.models import User
from shop.models import Product
User.objects.filter(username="reader").delete()
User.objects.create_superuser("reader", "reader@example.com", "reader-password")
Product.objects.all().delete()
Product.objects.bulk_create(Product(name=f"Product {i}", price=f"{i}.99") for i in range(1, 41))
"""

PAGES = [
    Page("flask-journal: tutorial index (login, SQLite, Jinja)", "bench/apps/flask-journal", "/", 2, "gunicorn",
         native_app="journal:create_app()", init=[["flask", "--app", "journal", "init-db"]],
         login=("/auth/login", {"name": "reader", "password": "reader-password"})),
    Page("flask-factory: Jinja page", "tests/apps/flask-factory", "/", 2, "gunicorn", native_app="notes:create_app()"),
    Page("django-admin: product list (login, SQLite, ORM)", "tests/apps/django-admin", "/admin/shop/product/", 2,
         "gunicorn", native_app="shopsite.wsgi:application",
         init=[["python", "manage.py", "migrate", "--noinput"], ["python", "manage.py", "shell", "-c", DJANGO_SEED]],
         login=("/admin/login/", {"username": "reader", "password": "reader-password", "next": "/admin/"}),
         environment={"DJANGO_DEBUG": "0"}),
    Page("fastapi-catalog: 50 validated items", "bench/apps/fastapi-catalog", "/products?limit=50", 1, "uvicorn",
         native_app="main:app"),
    Page("express-views: ejs page, production", "tests/apps/express-views", "/books", 1, "node",
         environment={"NODE_ENV": "production"}),
    Page("express-views: ejs page, development", "tests/apps/express-views", "/books", 1, "node"),
    Page("flask-factory: static file", "tests/apps/flask-factory", "/static/style.css", 2, "gunicorn",
         native_app="notes:create_app()"),
    Page("express-views: static file", "tests/apps/express-views", "/css/shelf.css", 1, "node",
         environment={"NODE_ENV": "production"}),
    Page("express-views: 540 KB file streamed", "tests/apps/express-views", "/stream", 1, "node",
         environment={"NODE_ENV": "production"}),
]
CONNECTIONS = [1, 8]


def native_server(page, port):
    native = WORK / f"native-{page.key}"
    url = f"http://127.0.0.1:{port}{page.login[0] if page.login else page.path}"
    environment = {**os.environ, **page.environment}
    if page.native in ("gunicorn", "uvicorn"):
        venv = python_venv()
        shutil.rmtree(native, ignore_errors=True)
        shutil.copytree(ROOT / page.app, native,
                        ignore=shutil.ignore_patterns(".fabricks", "__pycache__", ".spin", "staticfiles", "*.sqlite3"))
        for command in page.init:
            subprocess.run([str(venv / "bin" / command[0]), *command[1:]], cwd=native, env=environment, check=True,
                           capture_output=True)
        if page.native == "gunicorn":
            command = [str(venv / "bin" / "gunicorn"), "-w", str(page.workers), "-b", f"127.0.0.1:{port}", page.native_app]
        else:
            command = [str(venv / "bin" / "uvicorn"), "--port", str(port), "--log-level", "warning", page.native_app]
        return Server(command, url, env=environment, cwd=native)
    if not (native / "node_modules").exists():
        shutil.copytree(ROOT / page.app, native, ignore=shutil.ignore_patterns(".fabricks", "node_modules"), dirs_exist_ok=True)
        subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"], cwd=native, check=True)
    command = ["node", "-e", f"require('./server.js').listen({port})"]
    return Server(command, url, env=environment, cwd=native)


def fabricks_server(page, port):
    app = page.fabricks_app()
    for command in page.init:
        subprocess.run([BINARY, "exec", app, "-q", "--", *command], check=True, capture_output=True)
    command = [str(BINARY), "up", str(app), "--listen", f"127.0.0.1:{port}", "--workers", str(page.workers), "-q", "--no-request-log"]
    return Server(command, f"http://127.0.0.1:{port}{page.login[0] if page.login else page.path}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(page, port):
    """Log in through the page's form (Django's carries a CSRF token, in the
    form and in a cookie); the Cookie header that says so."""
    if not page.login:
        return []
    form_path, fields = page.login
    url = f"http://127.0.0.1:{port}{form_path}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url) as form:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.read().decode())
    if token:
        fields = {**fields, "csrfmiddlewaretoken": token.group(1)}
    before = {(cookie.name, cookie.value) for cookie in jar}
    try:
        response = opener.open(url, data=urllib.parse.urlencode(fields).encode())
    except urllib.error.HTTPError as redirect:
        response = redirect
    if response.status != 302 or {(cookie.name, cookie.value) for cookie in jar} == before:
        sys.exit(f"{page.name}: logging in answered {response.status} without a session cookie")
    return ["Cookie: " + "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)]


def check_page(page, port, headers):
    """The page answers 200 with a body before it is measured (not a redirect to the login)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{page.path}", headers=dict(h.split(": ", 1) for h in headers))
    with urllib.request.build_opener(NoRedirect).open(request) as response:
        if response.status != 200 or not response.read():
            sys.exit(f"{page.name}: {page.path} answered {response.status}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--pages", help="comma-separated words: measure only pages whose name has one of them")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    pages = [p for p in PAGES if not args.pages or any(word in p.name for word in args.pages.split(","))]
    for page in pages:
        subprocess.run([BINARY, "build", page.fabricks_app(), "-q"], check=True)
    results = {}
    for _ in range(args.rounds):
        for page in pages:
            for side, start in (("native", native_server), ("fabricks", fabricks_server)):
                port = free_port()
                server = start(page, port)
                try:
                    headers = session_cookie(page, port)
                    check_page(page, port, headers)
                    for connections in CONNECTIONS:
                        rate = wrk_rate(f"http://127.0.0.1:{port}{page.path}", args.seconds, connections, headers=headers)
                        results.setdefault((page.name, connections, side), []).append(rate)
                        print(f"  {page.name} {side} c={connections}: {rate:.0f} req/s", file=sys.stderr, flush=True)
                finally:
                    server.stop()
    print(f"{args.rounds} rounds, wrk {args.seconds} s per row, the same worker processes on both sides, alternating.\n")
    print("| page | native server | conns | native req/s | fabricks req/s | fabricks / native | range native / fabricks |")
    print("|---|---|---|---|---|---|---|")
    for page in pages:
        for count in CONNECTIONS:
            n, f = results[(page.name, count, "native")], results[(page.name, count, "fabricks")]
            print(f"| {page.name} | {page.label} | {count} | {statistics.median(n):.0f} | {statistics.median(f):.0f} | "
                  f"{statistics.median(f) / statistics.median(n):.2f}x | {min(n):.0f}-{max(n):.0f} / {min(f):.0f}-{max(f):.0f} |")


if __name__ == "__main__":
    main()
