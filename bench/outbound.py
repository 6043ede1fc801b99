"""Outbound HTTP speed: tests/apps/python-outbound's `/proxy/ping` (one
`requests.get` to a local service per request, its answer passed on) and
`/json` (no call: the rest of the request), served by fabricks
(`up --workers 2`, from a spin.toml allowing the service) and by gunicorn
(`-w 2`) with the same app and packages natively, side by side with wrk,
`--rounds` alternating. The service is tests/outbound_upstream.py. The gap
between the two routes on each side is what one outbound call costs there.
Prints a Markdown table for BENCHMARKS.md. Not a test: numbers only.

    cargo build --release && python3 bench/outbound.py [--rounds 3] [--seconds 5]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BINARY, ROOT, WORK, Server, free_port, print_side_by_side, wrk_rate  # noqa: E402

APP = ROOT / "tests" / "apps" / "python-outbound"
ID = "python-outbound"
CONNECTIONS = [1, 8]


def upstream():
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "outbound_upstream.py")], stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def native_server(port, service):
    venv = WORK / "venv-outbound"
    if not (venv / "bin" / "gunicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gunicorn", "-r", str(APP / "requirements.txt")], check=True)
    command = [str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "app:app"]
    return Server(command, f"http://127.0.0.1:{port}/json", cwd=APP)


def fabricks_server(port, service):
    built = APP / ".fabricks"
    app = WORK / "fabricks-outbound"
    shutil.rmtree(app, ignore_errors=True)
    app.mkdir(parents=True)
    shutil.copy(built / f"{ID}.wasm", app / "app.wasm")
    for folder in ["app", "deps", "adapter"]:
        (app / folder).symlink_to(built / "build" / ID / folder)
    (app / "spin.toml").write_text(
        'spin_manifest_version = 2\n[application]\nname = "outbound"\n[[trigger.http]]\nroute = "/..."\ncomponent = "outbound"\n'
        f'[component.outbound]\nsource = "app.wasm"\nallowed_outbound_hosts = ["{service}"]\n'
        'files = [{ source = "app", destination = "/0" }, { source = "deps", destination = "/1" }, '
        '{ source = "adapter", destination = "/2" }]\n'
    )
    command = [str(BINARY), "up", str(app), "--listen", f"127.0.0.1:{port}", "--workers", "2", "-q"]
    return Server(command, f"http://127.0.0.1:{port}/json")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run([BINARY, "build", APP, "-q"], check=True)
    service_process, service_port = upstream()
    service = f"http://127.0.0.1:{service_port}"
    routes = {"no call (/json)": "/json", "one requests.get (/proxy/ping)": f"/proxy/ping?url={service}"}
    results = {}
    try:
        for _ in range(args.rounds):
            for side, start in (("gunicorn", native_server), ("fabricks", fabricks_server)):
                port = free_port()
                server = start(port, service)
                try:
                    for route, path in routes.items():
                        for connections in CONNECTIONS:
                            rate = wrk_rate(f"http://127.0.0.1:{port}{path}", args.seconds, connections)
                            results.setdefault((route, connections, side), []).append(rate)
                finally:
                    server.stop()
    finally:
        service_process.kill()
    print_side_by_side(args.rounds, args.seconds, routes, CONNECTIONS, results)
    print("\nPer request (1 connection, medians): the outbound call costs "
          + ", ".join(
              f"{side} {1000 / statistics.median(results[('one requests.get (/proxy/ping)', 1, side)]) - 1000 / statistics.median(results[('no call (/json)', 1, side)]):.2f} ms"
              for side in ("gunicorn", "fabricks")))


if __name__ == "__main__":
    main()
