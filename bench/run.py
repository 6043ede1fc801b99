"""fabricks benchmark: the same request against fabricks (warm reuse and a
fresh instance per request), `wasmtime serve` on the very same component
(when a `wasmtime` binary is on PATH), and the app served natively (gunicorn
with 2 sync workers, uvicorn, node), at 1, 8 and 64 connections, with wrk.
Also times a first build, a no-op rebuild and `up` to the first 200.
Rewrites its own section of BENCHMARKS.md. Run through bench/run.sh."""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "spin-fabricks"
WORK = ROOT / "target" / "bench"

# Worker processes on both sides of a comparison: gunicorn runs 2 sync
# workers; uvicorn and node run one process.
NATIVE_WORKERS = {"gunicorn": 2, "uvicorn": 1, "node": 1, "node-hono": 1}

APPS = {
    # name: (example dir, path, native server)
    "flask": ("examples/flask", "/users/42", "gunicorn"),
    "fastapi": ("examples/fastapi", "/users/42?tag=a", "uvicorn"),
    "express": ("examples/express", "/users/42?tag=a", "node"),
    "hono": ("examples/hono", "/users/42?tag=a", "node-hono"),
}
CONNECTIONS = [1, 8, 64]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except Exception:
            time.sleep(0.02)
    return False


def rss_kb(pid):
    """Resident memory of a process and its children, in KiB."""
    total = 0
    for line in subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-e"], capture_output=True, text=True).stdout.splitlines():
        p, pp, rss = (int(x) for x in line.split())
        if p == pid or pp == pid:
            total += rss
    return total


def wrk(url, connections, seconds):
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "non2xx": int(errors.group(1)) if errors else 0}


def wrk_rate(url, seconds, connections, method="GET", form=None, headers=()):
    """Requests per second for `url` (`form`: a urlencoded body to POST;
    `headers`: "Name: value" lines sent with each request); a failed
    response stops the run."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s"]
    for header in headers:
        command += ["-H", header]
    if method != "GET":
        script = WORK / f"wrk-{method.lower()}.lua"
        script.write_text(
            f'wrk.method = "{method}"\n'
            + (f'wrk.body = "{form}"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' if form else "")
        )
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        sys.exit(f"{url}: {non_2xx.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def print_side_by_side(rounds, seconds, routes, connections, results):
    """The Markdown table of `results[(route, connections, side)]` (rates)."""
    print(f"{rounds} rounds, wrk {seconds} s per row, 2 worker processes on both sides, alternating.\n")
    print("| route | conns | gunicorn req/s | fabricks req/s | fabricks / gunicorn | range gunicorn / fabricks |")
    print("|---|---|---|---|---|---|")
    for route in routes:
        for count in connections:
            g, f = results[(route, count, "gunicorn")], results[(route, count, "fabricks")]
            print(f"| {route} | {count} | {statistics.median(g):.0f} | {statistics.median(f):.0f} | "
                  f"{statistics.median(f) / statistics.median(g):.2f}x | {min(g):.0f}-{max(g):.0f} / {min(f):.0f}-{max(f):.0f} |")


class Server:
    def __init__(self, command, url, env=None, cwd=None):
        self.url = url
        self.process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if not wait_for(url):
            self.stop()
            raise RuntimeError(f"{command[0]} did not answer {url}")

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except Exception:
            os.killpg(self.process.pid, signal.SIGKILL)


# What every benchmark's native Python side runs on: one venv, made once.
NATIVE_PYTHON_PACKAGES = ["gunicorn", "uvicorn", "flask==3.1.3", "fastapi==0.115.14", "pydantic==1.10.27",
                          "python-multipart==0.0.20", "django==5.2.19", "whitenoise==6.11.0"]


def python_venv():
    """The venv the native Python servers run from (made on first use)."""
    venv = WORK / "venv"
    if not all((venv / "bin" / tool).exists() for tool in ("gunicorn", "uvicorn", "flask", "django-admin")):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *NATIVE_PYTHON_PACKAGES], check=True)
    return venv


def native_command(kind, example, port):
    venv = python_venv() if kind in ("gunicorn", "uvicorn") else None
    app_dir = ROOT / example
    if kind == "gunicorn":
        return [str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "main:app"], app_dir, {}
    if kind == "uvicorn":
        return [str(venv / "bin" / "uvicorn"), "--port", str(port), "--log-level", "warning", "main:app"], app_dir, {}
    # Node resolves ES modules from the app's own folder: run a copy with its
    # production dependencies installed.
    native = WORK / f"native-{Path(example).name}"
    if not (native / "node_modules").exists():
        native.mkdir(parents=True, exist_ok=True)
        for file in ("app.js", "package.json", "package-lock.json"):
            shutil.copy(app_dir / file, native / file)
        subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"], cwd=native, check=True)
    app_dir = native
    if kind == "node":
        # The app's own listen(), on our port.
        return ["node", "app.js"], app_dir, {"PORT": str(port)}
    # Hono has no listen of its own: serve its fetch with Node's http.
    script = (
        "import http from 'node:http';"
        f"const {{ app }} = await import('{app_dir}/app.js');"
        "http.createServer(async (req, res) => {"
        "  const r = await app.fetch(new Request('http://x' + req.url, { method: req.method, headers: req.headers }));"
        "  res.writeHead(r.status, Object.fromEntries(r.headers)); res.end(Buffer.from(await r.arrayBuffer()));"
        f"}}).listen({port});"
    )
    return ["node", "--input-type=module", "-e", script], app_dir, {}


def measure(name, server_factory, path, seconds):
    rows = []
    port = free_port()
    server = server_factory(port)
    try:
        url = f"http://127.0.0.1:{port}{path}"
        wrk(url, 8, 1)  # warm up
        for connections in CONNECTIONS:
            result = wrk(url, connections, seconds)
            result.update(name=name, connections=connections, rss=rss_kb(server.process.pid))
            rows.append(result)
            print(f"  {name:34} c={connections:<3} {result['rps']:9.0f} req/s  p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms",
                  flush=True)
    finally:
        server.stop()
    return rows


def timings(example):
    """First build (outputs removed), no-op rebuild, `up` to the first 200."""
    app = ROOT / example
    shutil.rmtree(app / ".fabricks", ignore_errors=True)
    start = time.time()
    subprocess.run([str(BINARY), "build", "-q", str(app)], check=True)
    first = time.time() - start
    start = time.time()
    subprocess.run([str(BINARY), "build", "-q", str(app)], check=True)
    noop = time.time() - start
    port = free_port()
    start = time.time()
    server = Server([str(BINARY), "up", "-q", str(app), "--listen", f"127.0.0.1:{port}"], f"http://127.0.0.1:{port}/")
    up = time.time() - start
    server.stop()
    return first, noop, up


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated: " + ", ".join(APPS))
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every server this many times, in turn, and report the medians (steadier on a shared machine)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    wasmtime = shutil.which("wasmtime")
    all_rows, timing_rows = {}, {}
    for name in args.apps.split(","):
        example, path, native = APPS[name]
        print(f"{name}:", flush=True)
        timing_rows[name] = timings(example)
        wasm = ROOT / example / ".fabricks" / f"{Path(example).name}.wasm"
        rounds = [measure_app(example, path, native, wasm, wasmtime, args.seconds) for _ in range(args.rounds)]
        all_rows[name] = medians(rounds)
    write_report(all_rows, timing_rows, args.seconds, wasmtime, args.rounds)


def medians(rounds):
    """One row per server and connection count, in the first round's order:
    the median of each figure over the rounds that measured it."""
    merged = {}
    for rows in rounds:
        for row in rows:
            merged.setdefault((row["name"], row["connections"]), []).append(row)
    result = []
    for same in merged.values():
        row = dict(same[0])
        for key in ("rps", "p50", "p99", "rss"):
            row[key] = statistics.median(r[key] for r in same)
        result.append(row)
    return result


def measure_app(example, path, native, wasm, wasmtime, seconds):
    """Every server of one app, once each."""
    # No access log on either side: gunicorn writes none by default, uvicorn
    # runs with --log-level warning, node prints nothing (bench/pages.py too).
    def fabricks(*flags):
        return lambda p: Server([str(BINARY), "up", "-q", str(ROOT / example), "--listen", f"127.0.0.1:{p}",
                                 "--no-request-log", *flags],
                                f"http://127.0.0.1:{p}{path}")

    def wasmtime_serve(*flags):
        return lambda p: Server([wasmtime, "serve", "-Scli", "--addr", f"127.0.0.1:{p}", *flags, str(wasm)],
                                f"http://127.0.0.1:{p}{path}")

    def native_server(p):
        command, cwd, env = native_command(native, example, p)
        return Server(command, f"http://127.0.0.1:{p}{path}", env=env, cwd=cwd)

    rows = []
    # As many worker processes as the native server, each with fabricks'
    # default of one instance (one module state per process, as natively).
    workers = ("--workers", str(NATIVE_WORKERS[native]))
    rows += measure(f"fabricks (reuse, {workers[1]} workers)", fabricks(*workers), path, seconds)
    rows += measure("fabricks (fresh instance)", fabricks(*workers, "--max-instance-reuse-count", "1"), path, seconds)
    if wasmtime:
        rows += measure("wasmtime serve (reuse 1000)", wasmtime_serve("--max-instance-reuse-count", "1000"), path, seconds)
        rows += measure("wasmtime serve (fresh instance)", wasmtime_serve(), path, seconds)
    try:
        rows += measure(f"native ({native})", native_server, path, seconds)
    except Exception as error:
        print(f"  native ({native}): skipped: {error}")
    return rows


# BENCHMARKS.md holds other benchmarks' sections too: this script rewrites
# only the part between these two lines (appended the first time).
BEGIN = "<!-- bench/run.sh: begin (written by bench/run.py) -->"
END = "<!-- bench/run.sh: end -->"


def write_report(all_rows, timing_rows, seconds, wasmtime, rounds):
    lines = [
        BEGIN,
        f"## {datetime.date.today()}: hello-world routes, every server side by side (`bench/run.sh`)",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}. wrk, {seconds} s per row"
        f"{f', the median of {rounds} rounds (each measures every server in turn)' if rounds > 1 else ''}; every row of a table measured in the same run. "
        f"`wasmtime serve`: {'`' + subprocess.run([wasmtime, '--version'], capture_output=True, text=True).stdout.strip() + '`' if wasmtime else 'not on PATH, not measured'}.",
        "Shared, noisy machines: compare ratios within a table, not numbers across runs.",
        "fabricks runs with `--no-request-log`: none of the native servers writes an access log here.",
        "",
    ]
    for name, rows in all_rows.items():
        first, noop, up = timing_rows[name]
        lines += [f"### {name}", "", f"First build {first:.1f} s, no-op rebuild {noop:.2f} s, `up` to the first 200 {up:.2f} s.", ""]
        lines += ["| server | conns | req/s | p50 ms | p99 ms | RSS MiB | vs native | vs wasmtime |", "|---|---|---|---|---|---|---|---|"]
        by = {(r["name"], r["connections"]): r for r in rows}
        native = next((n for (n, _) in by if n.startswith("native")), None)
        for r in rows:
            c = r["connections"]
            vs_native = f"{r['rps'] / by[(native, c)]['rps']:.2f}x" if native and (native, c) in by else "-"
            reference = "wasmtime serve (reuse 1000)" if "reuse" in r["name"] else "wasmtime serve (fresh instance)"
            vs_wasmtime = f"{r['rps'] / by[(reference, c)]['rps']:.2f}x" if (reference, c) in by and r["name"].startswith("fabricks") else "-"
            lines.append(f"| {r['name']} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rss'] / 1024:.0f} | {vs_native} | {vs_wasmtime} |")
        lines.append("")
    lines.append(END)
    block = "\n".join(lines)
    report = ROOT / "BENCHMARKS.md"
    text = report.read_text() if report.exists() else "# fabricks benchmarks\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    report.write_text(text)
    print(block)
    print(f"updated {report}")


if __name__ == "__main__":
    main()
