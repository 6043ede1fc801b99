"""Real pages, not hello-world routes: a page rendered from a template read
from disk, per framework, served by fabricks and natively with the same
number of worker processes, side by side with wrk, `--rounds` alternating.

- Flask: tests/apps/flask-factory `/` (an app factory with blueprints, a
  Jinja page extending a base template, the session read), fabricks `up
  --workers 2` against `gunicorn -w 2 'notes:create_app()'`.
- Express: tests/apps/express-views `/books` (a controller required by a
  computed path, an ejs view with a partial, data from a JSON file),
  fabricks `up --workers 1` against one node process.

Prints a Markdown table for BENCHMARKS.md. Not a test: numbers only.

    cargo build --release && python3 bench/pages.py [--rounds 3] [--seconds 5]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BINARY, ROOT, WORK, Server, free_port, wrk_rate  # noqa: E402

# name: (app, path, fabricks workers, native label)
PAGES = {
    "flask (Jinja page)": ("tests/apps/flask-factory", "/", 2, "gunicorn -w 2"),
    "express (ejs page)": ("tests/apps/express-views", "/books", 1, "node"),
}
CONNECTIONS = [1, 8]


def native_server(name, port):
    app, path, _, _ = PAGES[name]
    native = WORK / f"native-{Path(app).name}"
    if "flask" in name:
        venv = WORK / "venv"
        if not (venv / "bin" / "gunicorn").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gunicorn", "flask==3.1.3"], check=True)
        shutil.rmtree(native, ignore_errors=True)
        shutil.copytree(ROOT / app, native, ignore=shutil.ignore_patterns(".fabricks", "__pycache__"))
        command = [str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "notes:create_app()"]
        return Server(command, f"http://127.0.0.1:{port}{path}", cwd=native)
    if not (native / "node_modules").exists():
        shutil.copytree(ROOT / app, native, ignore=shutil.ignore_patterns(".fabricks", "node_modules"), dirs_exist_ok=True)
        subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"], cwd=native, check=True)
    command = ["node", "-e", f"require('./server.js').listen({port})"]
    return Server(command, f"http://127.0.0.1:{port}{path}", cwd=native)


def fabricks_server(name, port):
    app, path, workers, _ = PAGES[name]
    command = [str(BINARY), "up", str(ROOT / app), "--listen", f"127.0.0.1:{port}", "--workers", str(workers), "-q", "--no-request-log"]
    return Server(command, f"http://127.0.0.1:{port}{path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    for app, _, _, _ in PAGES.values():
        subprocess.run([BINARY, "build", ROOT / app, "-q"], check=True)
    results = {}
    for _ in range(args.rounds):
        for name, (_, path, _, _) in PAGES.items():
            for side, start in (("native", native_server), ("fabricks", fabricks_server)):
                port = free_port()
                server = start(name, port)
                try:
                    for connections in CONNECTIONS:
                        rate = wrk_rate(f"http://127.0.0.1:{port}{path}", args.seconds, connections)
                        results.setdefault((name, connections, side), []).append(rate)
                finally:
                    server.stop()
    print(f"{args.rounds} rounds, wrk {args.seconds} s per row, the same worker processes on both sides, alternating.\n")
    print("| page | native server | conns | native req/s | fabricks req/s | fabricks / native | range native / fabricks |")
    print("|---|---|---|---|---|---|---|")
    for name, (_, _, _, label) in PAGES.items():
        for count in CONNECTIONS:
            n, f = results[(name, count, "native")], results[(name, count, "fabricks")]
            print(f"| {name} | {label} | {count} | {statistics.median(n):.0f} | {statistics.median(f):.0f} | "
                  f"{statistics.median(f) / statistics.median(n):.2f}x | {min(n):.0f}-{max(n):.0f} / {min(f):.0f}-{max(f):.0f} |")


if __name__ == "__main__":
    main()
