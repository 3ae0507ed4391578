// The platform's Redis: 127.0.0.1:6390 (REDIS_PORT), AOF on, data in .services/redis/.
import fs from 'node:fs';
import path from 'node:path';
import { CMD, HOST, intEnv, logFile, pidFile, rel, require, say, ServiceError, SERVICES_DIR, tail, which } from './lib/common.mjs';
import { aptCommand, aptInstall } from './lib/install.mjs';
import { ensureOwned, stopOwned } from './lib/lifecycle.mjs';
import { describeListener, isPortOpen, ourPid, pidFileDied, runLogged } from './lib/proc.mjs';

const PORT = intEnv('REDIS_PORT', 6390);

async function probe() {
  if (!(await isPortOpen(PORT))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${PORT}` };
  const { Redis } = require('ioredis');
  const client = new Redis({
    host: HOST,
    port: PORT,
    lazyConnect: true,
    connectTimeout: 1500,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') return { ok: false, listening: true, detail: `PING answered ${JSON.stringify(pong)}` };
    const [, appendonly] = await client.config('GET', 'appendonly');
    if (appendonly !== 'yes') return { ok: false, listening: true, aofOff: true, detail: `Redis answers but appendonly=${appendonly}` };
    return { ok: true, detail: 'PONG, appendonly=yes' };
  } catch (e) {
    return { ok: false, listening: true, detail: `Redis protocol check failed: ${e.message}` };
  } finally {
    client.disconnect();
  }
}

export const redis = {
  name: 'redis',
  port: PORT,
  ports: [PORT],
  portEnv: 'REDIS_PORT',
  processMatch: 'redis-server',
  log: logFile('redis'),
  dataDir: path.join(SERVICES_DIR, 'redis'),
  deadlineMs: 20_000,
  stopDeadlineMs: 20_000,
  probe,
  /** The tests also start private redis-servers (test/cqrs/redis-loss.test.ts), so the binary is needed even when ours runs. */
  missing() {
    return which('redis-server')
      ? []
      : [{ what: 'redis-server is not installed', how: aptCommand('redis-server'), install: () => aptInstall('redis', 'redis-server') }];
  },
  async up() {
    const first = await probe();
    if (!first.ok && first.aofOff && !ourPid(this)) {
      throw new ServiceError(
        `the Redis on ${HOST}:${PORT} (${describeListener(PORT)}) is not ours and runs without AOF (appendonly=no)`,
        `stop it, or enable AOF on it (\`redis-cli -p ${PORT} CONFIG SET appendonly yes\`), or move ours with REDIS_PORT=<free port>`,
      );
    }
    return ensureOwned(this);
  },
  async start() {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const pf = pidFile(this.name);
    const args = [
      '--port',
      String(PORT),
      '--bind',
      HOST,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--dir',
      this.dataDir,
      '--daemonize',
      'yes',
      '--pidfile',
      pf,
      '--logfile',
      this.log,
    ];
    say(this.name, `starting redis-server on ${HOST}:${PORT} (AOF in ${rel(this.dataDir)})`);
    // with --daemonize the launcher forks, writes the pid file and exits at once
    const code = await runLogged(which('redis-server'), args, this.log);
    if (code !== 0)
      throw new ServiceError(
        `redis-server exited with ${code}; last lines of ${rel(this.log)}:\n${tail(this.log)}`,
        `read ${rel(this.log)}, fix the cause, then rerun \`${CMD.up('redis')}\``,
      );
    return pidFileDied(pf, 'redis-server');
  },
  stop() {
    return stopOwned(this);
  },
};
