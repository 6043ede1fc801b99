#!/usr/bin/env bash
# The fabricks benchmark: see bench/run.py. Installs wrk (Debian) if missing,
# builds the release binary, then runs every measurement side by side and
# rewrites its own section of BENCHMARKS.md. Not a test: numbers only.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; else echo "bench: install wrk first" >&2; exit 1; fi
fi
cargo build --release
exec python3 bench/run.py "$@"
