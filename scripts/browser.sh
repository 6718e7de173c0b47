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
sh "$(dirname "$0")/apt-install.sh" scripts/browser.sh chromium fonts-dejavu-core
if [ ! -x "$BROWSER" ]; then
  echo "scripts/browser.sh: chromium did not install at $BROWSER" >&2
  exit 1
fi
echo "$BROWSER"
