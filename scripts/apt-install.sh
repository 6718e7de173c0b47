#!/bin/sh
# Install Debian packages with apt-get for the project's own scripts (sysdeps.sh, browser.sh,
# pg.sh, bench-peers.sh): as root, or through sudo otherwise (`sudo -n` when stdin is no
# terminal, e.g. under pytest, so a password prompt cannot hang a test); the package lists are
# refreshed only when the first install fails. apt's output goes to stderr, so a caller's
# stdout (a path, a URL) stays its own. Exit 1, naming the packages, when apt-get or the rights
# to run it are missing. Recommended packages are left out unless --with-recommends comes
# first. Usage: scripts/apt-install.sh CALLER [--with-recommends] PACKAGE...
set -eu
CALLER="$1"
shift
NORECS="--no-install-recommends"
if [ "${1:-}" = "--with-recommends" ]; then
  NORECS=""
  shift
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$CALLER: apt-get not available; install $* by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "$CALLER: not root and no sudo; install $* as root" >&2
    exit 1
  fi
  if [ -t 0 ]; then SUDO="sudo"; else SUDO="sudo -n"; fi
fi
echo "$CALLER: installing $* with apt-get ..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q $NORECS "$@" >&2 || {
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q $NORECS "$@" >&2
}
