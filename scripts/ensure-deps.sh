# Sourced by start.sh and test.sh: installs npm dependencies when they are missing or stale,
# so a fresh clone needs no other step. Node 24 comes from the `node` dev dependency.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] installing npm dependencies (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$PWD/node_modules/.bin:$PATH"
node -e 'if (+process.versions.node.split(".")[0] !== 24) { console.error("Node 24 expected from node_modules/.bin/node; run npm ci"); process.exit(1); }'
