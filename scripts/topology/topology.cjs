'use strict';
/**
 * TOPOLOGY (single | cluster): which local services the platform runs against. The one place
 * that turns the name into environment variables, read by every npm script:
 *   - scripts/services/cli.mjs (which services to start, on which ports),
 *   - scripts/start.sh and scripts/test.sh, through scripts/topology/topology.sh
 *     (`node scripts/topology/topology.cjs --exports` prints `export NAME='value'` lines),
 *   - admin, bench and faults: `node -r ./scripts/topology/apply.cjs dist/…` (package.json),
 *   - jest.config.js, so `npx jest` sees the same environment as `npm test`.
 * A topology is the file scripts/topology/<name>.env (KEY=value lines). Its variables are set
 * only where the environment leaves them unset: an explicit variable wins, with a note.
 * Plain CommonJS: it runs before anything is compiled, from ESM, CommonJS and bash alike.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parseEnv } = require('node:util');

const DIR = __dirname;
const DEFAULT = 'single';

class TopologyError extends Error {}

/** The topologies there are: one <name>.env file each. */
function topologyNames() {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.env'))
    .map((f) => f.slice(0, -'.env'.length))
    .sort();
}

/** The topology TOPOLOGY names (unset or empty = single); an unknown name is refused. */
function topologyName(env = process.env) {
  const name = (env.TOPOLOGY ?? '').trim() || DEFAULT;
  const known = topologyNames();
  if (!known.includes(name))
    throw new TopologyError(
      `TOPOLOGY=${env.TOPOLOGY} is not a topology: use ${known.map((n) => `TOPOLOGY=${n}`).join(' or ')} (unset means ${DEFAULT}; each is a file scripts/topology/<name>.env)`,
    );
  return name;
}

/** The variables of a topology, as its file sets them. */
function topologyVariables(name) {
  return parseEnv(fs.readFileSync(path.join(DIR, `${name}.env`), 'utf8'));
}

/**
 * Sets the topology's variables that `env` leaves unset. Returns what it did: `set` (applied),
 * `kept` (already set to another value; the environment wins).
 */
function applyTopology(env = process.env) {
  const name = topologyName(env);
  const set = {};
  const kept = {};
  for (const [key, value] of Object.entries(topologyVariables(name))) {
    if (env[key] === undefined || env[key] === '') {
      env[key] = value;
      set[key] = value;
    } else if (env[key] !== value) kept[key] = { value: env[key], topology: value };
  }
  return { name, set, kept };
}

/** Notes on stderr (never stdout: `--exports` output is evaluated by bash). */
function noteKept(result) {
  for (const [key, { value, topology }] of Object.entries(result.kept))
    console.error(
      `[topology] ${result.name}: keeping ${key}=${value} from the environment (the topology's is ${topology}); unset it to use the topology's`,
    );
}

/** For entry points: apply, print notes, and stop with the message on an unknown TOPOLOGY. */
function applyTopologyOrExit(env = process.env) {
  try {
    const result = applyTopology(env);
    noteKept(result);
    return result;
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    console.error(`[topology] ${e.message}`);
    process.exit(2);
  }
}

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

if (require.main === module) {
  // `node scripts/topology/topology.cjs --exports`: the lines scripts/topology/topology.sh evaluates.
  if (process.argv[2] !== '--exports') {
    console.error('usage: node scripts/topology/topology.cjs --exports   (prints the export lines of $TOPOLOGY)');
    process.exit(2);
  }
  const result = applyTopologyOrExit({ ...process.env });
  const all = { TOPOLOGY: result.name, ...result.set };
  for (const [key, value] of Object.entries(all)) console.log(`export ${key}=${shellQuote(value)}`);
  const shown = Object.entries(result.set).map(([k, v]) => `${k}=${v}`);
  console.error(`[topology] ${result.name}${shown.length ? `: ${shown.join(' ')}` : ' (the defaults)'}`);
}

module.exports = { applyTopology, applyTopologyOrExit, topologyName, topologyNames, topologyVariables, TopologyError };
