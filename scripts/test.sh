#!/usr/bin/env bash
# Runs the whole test suite against real services, which it installs (when missing) and starts itself,
# those of $TOPOLOGY (single by default; scripts/topology/).
set -euo pipefail
source "$(dirname "$0")/ensure-deps.sh"
source scripts/topology/topology.sh # TOPOLOGY=cluster: the cluster services and their variables
npm run services:install
npm run services:up
npm run build
jest "$@"
