#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the seat map's browser test
# (test/web/seatmap.e2e.test.ts). Idempotent: does nothing when it is already installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "[chromium] found /usr/bin/chromium ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] /usr/bin/chromium is missing and apt-get is not available; install Chromium so that /usr/bin/chromium exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[chromium] /usr/bin/chromium missing: running '${SUDO:+sudo }apt-get update && ${SUDO:+sudo }apt-get install -y chromium fonts-liberation'"
$SUDO apt-get update
# fonts-liberation so that screenshots show text, not boxes, on a bare image.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
echo "[chromium] installed $(/usr/bin/chromium --version 2>/dev/null || echo '/usr/bin/chromium')"
