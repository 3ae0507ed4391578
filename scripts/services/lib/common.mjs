// Shared by every service module: paths, ports from the environment, messages, errors.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topologyName } from '../../topology/topology.cjs';
import { sleep, withTimeout } from './wait.cjs';

export { sleep, withTimeout };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The project's own dependencies (ioredis, mysql2, the AWS SDK; Kafka's through src/stream/broker-probe.cjs), loaded only by the probes. */
export const require = createRequire(path.join(ROOT, 'package.json'));

/** .services/ of this checkout; TICKETING_SERVICES_DIR moves it (tests run private services in a temp dir). */
export const SERVICES_DIR = process.env.TICKETING_SERVICES_DIR
  ? path.resolve(process.env.TICKETING_SERVICES_DIR)
  : path.join(ROOT, '.services');
export const LOG_DIR = path.join(SERVICES_DIR, 'logs');
export const HOST = '127.0.0.1';

/** `TOPOLOGY=cluster ` in front of the commands below when that is the topology in use. */
function topologyPrefix() {
  try {
    const name = topologyName();
    return name === 'single' ? '' : `TOPOLOGY=${name} `;
  } catch {
    return ''; // an unknown TOPOLOGY: cli.mjs refuses it before any command is suggested
  }
}

/** The commands a message tells the user to run. */
export const CMD = {
  up: (only) => `${topologyPrefix()}npm run services:up${only ? ` -- --only ${only}` : ''}`,
  down: (only) => `${topologyPrefix()}npm run services:down${only ? ` -- --only ${only}` : ''}`,
  restart: (only) =>
    `${topologyPrefix()}npm run services:down -- --only ${only} && ${topologyPrefix()}npm run services:up -- --only ${only}`,
  install: (only) => `${topologyPrefix()}npm run services:install${only ? ` -- --only ${only}` : ''}`,
  get status() {
    return `${topologyPrefix()}npm run services:status`;
  },
};

export function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    console.error(`[services] ${name}=${raw} is not a port number; unset it or set it to 1..65535`);
    process.exit(2);
  }
  return n;
}

/** A failure the user can act on: `message` says what went wrong, `next` what to do about it. */
export class ServiceError extends Error {
  constructor(message, next) {
    super(message);
    this.next = next;
  }
}

export const say = (name, msg) => console.log(`[services] ${name}: ${msg}`);
export const rel = (p) => path.relative(process.cwd(), p) || '.';
export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const logFile = (name) => path.join(LOG_DIR, `${name}.log`);
export const pidFile = (name) => path.join(SERVICES_DIR, `${name}.pid`);

/** The last lines of a log, indented for an error message. */
export function tail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8').replace(/\s+$/, '');
    return text
      .split('\n')
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return `    (no log at ${rel(file)})`;
  }
}

export function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this PATH entry (or not executable): try the next one
    }
  }
  return null;
}
