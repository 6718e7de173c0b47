#!/bin/sh
# System packages the test suite needs beyond Python: poppler-utils (pdftoppm renders the meeting
# report's first page to PNG in tests/test_meeting.py). Idempotent: does nothing when present.
# Debian/Ubuntu (apt-get); run as root or with sudo available.
set -eu
if command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps.sh: pdftoppm missing and apt-get not available; install poppler-utils" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "sysdeps.sh: not root and no sudo; install poppler-utils as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends poppler-utils >/dev/null 2>&1 || {
  $SUDO apt-get update >/dev/null
  $SUDO apt-get install -y --no-install-recommends poppler-utils >/dev/null
}
command -v pdftoppm >/dev/null 2>&1
