#!/usr/bin/env bash
# Quick start: installs what is missing, starts the services, builds, and runs every role in
# one process on http://127.0.0.1:8080 with the seed data from seeds/.
set -euo pipefail
source "$(dirname "$0")/ensure-deps.sh"
npm run services:install
npm run services:up
npm run build
echo "[start] platform on http://127.0.0.1:${PORT:-8080} (Ctrl-C stops it; npm run services:down stops the services)"
exec node dist/src/main.js all
