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
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench-peers.sh: no java >= 17 and apt-get not available; install a JDK 17+" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "bench-peers.sh: not root and no sudo; install openjdk-17-jdk-headless as root" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends openjdk-17-jdk-headless >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends openjdk-17-jdk-headless >/dev/null
  }
fi
echo "bench-peers.sh: $(java -version 2>&1 | head -n 1)"
"$PIP" install -q -e '.[bench]'
