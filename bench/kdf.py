"""Password hashing speed: `hashlib.pbkdf2_hmac` and `hashlib.scrypt` with
the parameters of Django 5.2's default hasher and werkzeug 3's default
`generate_password_hash`, in a fabricks component (through `spin-fabricks
exec`, on tests/apps/flask-factory) and in the python3 on PATH (CPython with
OpenSSL), side by side: each round runs both, in turn, and the medians of
the per-call times are compared. Prints a Markdown table for BENCHMARKS.md.
Not a test: numbers only.

    cargo build --release && python3 bench/kdf.py [--rounds 3] [--calls 5]
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "spin-fabricks"
APP = ROOT / "tests" / "apps" / "flask-factory"

CASES = [
    ("Django 5.2 `make_password`: PBKDF2-HMAC-SHA256, 1,000,000 iterations",
     "hashlib.pbkdf2_hmac('sha256', b'correct horse', b'0123456789abcdef0123', 1_000_000)"),
    ("werkzeug 3 `generate_password_hash`: scrypt, n=2^15, r=8, p=1",
     "hashlib.scrypt(b'correct horse', salt=b'0123456789abcdef', n=2**15, r=8, p=1, maxmem=132 * 2**15 * 8)"),
    ("Django's `PBKDF2SHA1PasswordHasher`: PBKDF2-HMAC-SHA1, 1,000,000 iterations",
     "hashlib.pbkdf2_hmac('sha1', b'correct horse', b'0123456789abcdef0123', 1_000_000)"),
]


def script(expression, calls):
    return (
        "import hashlib, json, time\n"
        "times = []\n"
        f"for _ in range({calls}):\n"
        "    start = time.perf_counter()\n"
        f"    {expression}\n"
        "    times.append(time.perf_counter() - start)\n"
        "print(json.dumps(times))\n"
    )


def run(command):
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    subprocess.run([BINARY, "build", APP, "-q"], check=True)
    native_version = subprocess.run(["python3", "-c", "import ssl, sys; print(sys.version.split()[0], ssl.OPENSSL_VERSION)"],
                                    capture_output=True, text=True, check=True).stdout.strip()
    rows = []
    for label, expression in CASES:
        native, guest = [], []
        for _ in range(args.rounds):
            code = script(expression, args.calls)
            native += run(["python3", "-c", code])
            guest += run([BINARY, "exec", APP, "-q", "--", "python", "-c", code])
        n, g = statistics.median(native), statistics.median(guest)
        rows.append(f"| {label} | {n * 1000:.0f} | {g * 1000:.0f} | {g / n:.2f}x | "
                    f"{min(native) * 1000:.0f}-{max(native) * 1000:.0f} / {min(guest) * 1000:.0f}-{max(guest) * 1000:.0f} |")
    print(f"Native: python3 {native_version}. {args.rounds} rounds x {args.calls} calls per side, alternating.\n")
    print("| call | native ms (median) | fabricks ms (median) | fabricks / native | range native / fabricks |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
