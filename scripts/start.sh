#!/usr/bin/env bash
# Quick start: installs what is missing, starts the services, builds, and runs the roles ROLE
# names (default: all of them, in one process) on http://127.0.0.1:${PORT:-8080} with the seed
# data from seeds/. Every port comes from PORT and METRICS_PORT, so a second instance beside the
# first only needs its own: ROLE=api PORT=8091 METRICS_PORT=9474 npm start
# TOPOLOGY=cluster npm start runs it on the cluster topology instead (scripts/topology/).
set -euo pipefail
source "$(dirname "$0")/ensure-deps.sh"
source scripts/topology/topology.sh # TOPOLOGY=cluster: the cluster services and their variables
npm run services:install
npm run services:up
npm run build
case "${ROLE:-all}" in
  api | all) port="${PORT:-8080}" ;;
  *) port="${METRICS_PORT:-9464}" ;; # roles without the api serve health and metrics only
esac
topology="$([ "$TOPOLOGY" = single ] || echo "TOPOLOGY=$TOPOLOGY ")"
echo "[start] role ${ROLE:-all} on http://127.0.0.1:${port}, topology ${TOPOLOGY} (Ctrl-C stops it; ${topology}npm run services:down stops the services)"
# No role argument: main.js reads ROLE (default all); an argument would override it.
exec node dist/src/main.js
