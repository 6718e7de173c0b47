#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the page's browser tests (tests/web/) and print
# its path (last line). Idempotent: nothing is installed when /usr/bin/chromium is already there.
# Needs root (or sudo) and apt-get; Playwright drives this browser through `executable_path`, so
# Playwright's own browser download is never used. Exit 1 when no browser could be installed.
set -euo pipefail
BROWSER="${ROTATION_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$BROWSER" ]; then
  echo "$BROWSER"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "scripts/browser.sh: no apt-get here; install Chromium and set ROTATION_CHROMIUM" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "scripts/browser.sh: not root and no sudo; cannot install chromium" >&2
    exit 1
  fi
fi
echo "installing chromium with apt-get ..." >&2
export DEBIAN_FRONTEND=noninteractive
("${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2 ||
  { "${SUDO[@]}" apt-get update -q >&2 &&
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2; })
if [ ! -x "$BROWSER" ]; then
  echo "scripts/browser.sh: chromium did not install at $BROWSER" >&2
  exit 1
fi
echo "$BROWSER"
