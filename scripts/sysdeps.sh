#!/bin/sh
# System packages the test suite needs beyond Python: poppler-utils (pdftoppm renders the meeting
# report's first page to PNG in tests/test_meeting.py). Idempotent: does nothing when present.
# Debian/Ubuntu (scripts/apt-install.sh: apt-get as root or with sudo available).
set -eu
if command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
sh "$(dirname "$0")/apt-install.sh" sysdeps.sh poppler-utils
command -v pdftoppm >/dev/null 2>&1
