// DynamoDB API for development: dynalite (an npm devDependency) on 127.0.0.1:8000
// (DYNALITE_PORT), LevelDB data in .services/dynalite/.
import fs from 'node:fs';
import path from 'node:path';
import { HOST, intEnv, logFile, rel, require, ROOT, say, SERVICES_DIR, withTimeout } from './lib/common.mjs';
import { ensureOwned, stopOwned } from './lib/lifecycle.mjs';
import { childDied, isPortOpen, spawnDetached } from './lib/proc.mjs';

const PORT = intEnv('DYNALITE_PORT', 8000);
const BIN = path.join(ROOT, 'node_modules', '.bin', 'dynalite');
/** dynalite's CLI with its LevelDB iterators closed after each read (see the file for why). */
const SERVER = path.join(ROOT, 'scripts', 'services', 'dynalite-server.cjs');

async function probe() {
  if (!(await isPortOpen(PORT))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${PORT}` };
  const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    endpoint: `http://${HOST}:${PORT}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1500, requestTimeout: 3000 },
  });
  try {
    const out = await withTimeout(client.send(new ListTablesCommand({})), 5000, 'ListTables');
    return { ok: true, detail: `ListTables ok (${out.TableNames?.length ?? 0} tables)` };
  } catch (e) {
    return { ok: false, listening: true, detail: `ListTables failed: ${e.name}: ${e.message}` };
  } finally {
    client.destroy();
  }
}

export const dynalite = {
  name: 'dynalite',
  port: PORT,
  ports: [PORT],
  portEnv: 'DYNALITE_PORT',
  processMatch: 'dynalite',
  log: logFile('dynalite'),
  dataDir: path.join(SERVICES_DIR, 'dynalite'),
  deadlineMs: 30_000,
  stopDeadlineMs: 10_000,
  probe,
  /** An npm devDependency: `npm ci` installs it (scripts/ensure-deps.sh), not apt. */
  missing() {
    return fs.existsSync(BIN) ? [] : [{ what: `${rel(BIN)} is missing`, how: 'npm ci', install: null }];
  },
  up() {
    return ensureOwned(this);
  },
  async start() {
    fs.mkdirSync(this.dataDir, { recursive: true });
    say(this.name, `starting dynalite on ${HOST}:${PORT} (LevelDB in ${rel(this.dataDir)})`);
    const state = spawnDetached(this.name, process.execPath, [SERVER, '--port', String(PORT), '--host', HOST, '--path', this.dataDir]);
    return childDied(state, 'dynalite');
  },
  stop() {
    return stopOwned(this);
  },
};
