#!/bin/sh
# The benchmark's peers (bench/methods.py), never the product's: a JDK for Timefold Solver for
# Python (openjdk-17-jdk-headless from Debian, with apt-get, only when no java >= 17 is found),
# then the `bench` extra of pyproject.toml (PySCIPOpt, highspy, timefold) into the venv.
# Idempotent. Usage: scripts/bench-peers.sh [PIP]   (default: .venv/bin/pip)
set -eu
PIP="${1:-.venv/bin/pip}"

java_major() {
  # "openjdk version "17.0.15" ..." -> 17 ; "1.8.0_x" -> 1 (too old)
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  sh "$(dirname "$0")/apt-install.sh" bench-peers.sh openjdk-17-jdk-headless
fi
echo "bench-peers.sh: $(java -version 2>&1 | head -n 1)"
"$PIP" install -q -e '.[bench]'
