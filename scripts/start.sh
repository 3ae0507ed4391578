#!/usr/bin/env bash
# Quick start: installs what is missing, starts the services, builds, and runs the platform with
# the seed data from seeds/. Without ROLE, every role runs in a process of its own under one
# supervisor (dist/src/supervise.js): the api on http://127.0.0.1:${PORT:-8080}, the controller,
# writer and projector with health and metrics on METRICS_PORT+1..+3 (9465..9467). ROLE=<role>
# runs that role alone, exactly as `node dist/src/main.js <role>`; ROLE=all runs every role in
# one process. Every port comes from PORT and METRICS_PORT, so a second instance beside the
# first only needs its own: ROLE=api PORT=8091 METRICS_PORT=9474 npm start
# TOPOLOGY=cluster npm start runs it on the cluster topology instead (scripts/topology/).
set -euo pipefail
source "$(dirname "$0")/ensure-deps.sh"
source scripts/topology/topology.sh # TOPOLOGY=cluster: the cluster services and their variables
npm run services:install
npm run services:up
npm run build
topology="$([ "$TOPOLOGY" = single ] || echo "TOPOLOGY=$TOPOLOGY ")"
stop="Ctrl-C stops it; ${topology}npm run services:down stops the services"
if [ -z "${ROLE:-}" ]; then
  echo "[start] every role in its own process, the api on http://127.0.0.1:${PORT:-8080}, topology ${TOPOLOGY} (${stop})"
  exec node dist/src/supervise.js
fi
case "$ROLE" in
  api | all) port="${PORT:-8080}" ;;
  *) port="${METRICS_PORT:-9464}" ;; # roles without the api serve health and metrics only
esac
echo "[start] role ${ROLE} on http://127.0.0.1:${port}, topology ${TOPOLOGY} (${stop})"
# No role argument: main.js reads ROLE; an argument would override it.
exec node dist/src/main.js
