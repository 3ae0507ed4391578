'use strict';
// Preload of the node entry points (package.json: `node -r ./scripts/topology/apply.cjs dist/…`):
// puts $TOPOLOGY's variables into process.env before the program reads its configuration, so its
// child processes inherit them too. topology.cjs says how.
require('./topology.cjs').applyTopologyOrExit();
