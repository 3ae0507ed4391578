#!/usr/bin/env bash
# Runs the whole test suite against real services, which it installs (when missing) and starts itself.
set -euo pipefail
source "$(dirname "$0")/ensure-deps.sh"
npm run services:install
npm run services:up
npm run build
jest "$@"
