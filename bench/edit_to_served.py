"""Edit-to-served: how long after a one-line edit to an example's view the
edited text is what the server answers. fabricks `up --watch --workers 1`
against the framework's own reload loop on the same copy of the app (`flask
run --debug`, `node --watch`), side by side, in rounds. A client asks for
the page every 10 ms from the moment the file is written; refused or failed
requests on the way are counted. Not a test: numbers only.

    python3 bench/edit_to_served.py [--rounds 5] [--apps flask,express]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BINARY, ROOT, WORK, free_port, native_command, wait_for  # noqa: E402

# name: (example, file edited, the line's text, its edited text, native reload loop)
APPS = {
    "flask": ("examples/flask", "main.py", 'return "Hello World!"', 'return "Hello World! {marker}"', "flask"),
    "express": ("examples/express", "app.js", "res.send('Hello from Express!')", "res.send('Hello from Express! {marker}')", "node"),
}


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except Exception as error:
        return None, str(error)


def time_edit(path, original, old, new, round_number, url, timeout=120):
    """Write the edit, then ask until the page shows it: (seconds, failures)."""
    marker = f"edit {round_number}"
    path.write_text(original.replace(old, new.format(marker=marker)))
    started = time.monotonic()
    failures = 0
    while time.monotonic() - started < timeout:
        status, body = get(url)
        if status is None:
            failures += 1
        elif marker in body:
            return time.monotonic() - started, failures
        time.sleep(0.01)
    raise RuntimeError(f"{url} never showed {marker!r}")


def start(command, cwd, env):
    return subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except Exception:
        os.killpg(process.pid, signal.SIGKILL)


def fresh_copy(example, side):
    target = WORK / "edit" / f"{Path(example).name}-{side}"
    if target.exists():
        # Keep fabricks' build folder (a warm start, as a developer has).
        for entry in target.iterdir():
            if entry.name != ".fabricks":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    target.mkdir(parents=True, exist_ok=True)
    for entry in (ROOT / example).iterdir():
        if entry.name in (".fabricks", "node_modules"):
            continue
        (shutil.copytree if entry.is_dir() else shutil.copy)(entry, target / entry.name)
    return target


def measure(side, name, rounds):
    example, file, old, new, native = APPS[name]
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    if side == "fabricks":
        app_dir = fresh_copy(example, side)
        process = start([str(BINARY), "up", str(app_dir), "--watch", "--workers", "1", "--no-request-log",
                         "--listen", f"127.0.0.1:{port}"], app_dir, {})
    elif native == "flask":
        app_dir = fresh_copy(example, side)
        command, _, _ = native_command("gunicorn", example, port)  # provisions the venv
        flask = Path(command[0]).parent / "flask"
        process = start([str(flask), "--app", "main", "run", "--debug", "--port", str(port)], app_dir, {})
    else:
        command, native_dir, env = native_command("node", example, port)
        app_dir = fresh_copy(example, side)
        shutil.rmtree(app_dir / "node_modules", ignore_errors=True)
        shutil.copytree(native_dir / "node_modules", app_dir / "node_modules", symlinks=True)
        process = start(["node", "--watch", "app.js"], app_dir, env)
    try:
        if not wait_for(url, timeout=600):
            raise RuntimeError(f"{side} {name} did not start")
        times, failures = [], 0
        original = (app_dir / file).read_text()
        for round_number in range(1, rounds + 1):
            seconds, failed = time_edit(app_dir / file, original, old, new, round_number, url)
            times.append(seconds)
            failures += failed
            time.sleep(1)
        return times, failures
    finally:
        stop(process)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apps", default=",".join(APPS))
    args = parser.parse_args()
    print(f"edit-to-served, {args.rounds} edits each, median (min-max) seconds; failed requests during the swaps")
    for name in args.apps.split(","):
        results = {side: measure(side, name, args.rounds) for side in ("fabricks", "native")}
        native = APPS[name][4]
        native_label = "flask run --debug" if native == "flask" else "node --watch"
        for side, (times, failures) in results.items():
            label = "fabricks up --watch" if side == "fabricks" else native_label
            print(f"  {name:8} {label:22} {statistics.median(times):6.2f} s ({min(times):.2f}-{max(times):.2f})  "
                  f"failed requests: {failures}")


if __name__ == "__main__":
    main()
