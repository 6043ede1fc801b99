"""SQLite speed: a read route (one SELECT by primary key, as JSON) and a
write route (one INSERT, committed) of tests/apps/flask-sqlite, served by
fabricks on Spin's SQLite (`up --workers 2`) and by gunicorn (`-w 2`) on
CPython's own sqlite3 with a file of its own, side by side with wrk,
`--rounds` alternating. Prints a Markdown table for BENCHMARKS.md. Not a
test: numbers only.

    cargo build --release && python3 bench/sqlite.py [--rounds 3] [--seconds 5]
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BINARY, ROOT, WORK, Server, free_port, print_side_by_side, python_venv, wrk_rate  # noqa: E402

APP = ROOT / "tests" / "apps" / "flask-sqlite"
ROUTES = {"read": ("GET", "/entries/1"), "write": ("POST", "/entries")}
CONNECTIONS = [1, 8]


def native_server(port):
    venv = python_venv()
    native = WORK / "native-flask-sqlite"
    shutil.rmtree(native, ignore_errors=True)
    shutil.copytree(APP, native, ignore=shutil.ignore_patterns(".fabricks", ".spin", "__pycache__"))
    subprocess.run([str(venv / "bin" / "flask"), "--app", "blog", "init-db"], cwd=native, check=True, capture_output=True)
    command = [str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "blog:create_app()"]
    return Server(command, f"http://127.0.0.1:{port}/counter", cwd=native)


def fabricks_server(port):
    subprocess.run([BINARY, "exec", APP, "-q", "--", "flask", "--app", "blog", "init-db"], check=True, capture_output=True)
    command = [str(BINARY), "up", str(APP), "--listen", f"127.0.0.1:{port}", "--workers", "2", "-q"]
    return Server(command, f"http://127.0.0.1:{port}/counter")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run([BINARY, "build", APP, "-q"], check=True)
    results = {}
    for _ in range(args.rounds):
        for side, start in (("gunicorn", native_server), ("fabricks", fabricks_server)):
            port = free_port()
            server = start(port)
            try:
                # A first row to read.
                wrk_rate(f"http://127.0.0.1:{port}/entries", 1, 1, "POST", "title=bench")
                for route, (method, path) in ROUTES.items():
                    for connections in CONNECTIONS:
                        rate = wrk_rate(f"http://127.0.0.1:{port}{path}", args.seconds, connections, method, "title=bench")
                        results.setdefault((route, connections, side), []).append(rate)
            finally:
                server.stop()
    print_side_by_side(args.rounds, args.seconds, ROUTES, CONNECTIONS, results)


if __name__ == "__main__":
    main()
