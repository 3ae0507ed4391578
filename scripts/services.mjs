#!/usr/bin/env node
// Local backing services for development and tests, without Docker:
//   redis (ours, AOF on)  127.0.0.1:6390   redis-server --daemonize
//   mariadb               127.0.0.1:3306   the machine's MariaDB (started only if nothing answers)
//   kafka (KRaft, 4.x)    127.0.0.1:9092   jars resolved by Maven from scripts/kafka/pom.xml
//   dynalite              127.0.0.1:8000   node_modules/.bin/dynalite (DynamoDB API, LevelDB on disk)
//
// Usage: node scripts/services.mjs up|down|status [--only redis,kafka,...]
//
//   up      start what is not healthy yet (concurrently), wait until everything is healthy, exit 0.
//           A service already healthy on its port is left alone, whoever started it.
//   down    stop only what `up` started (the pid files in .services/), keep all data.
//   status  one line per service; exit 0 when all are healthy, else 1.
//
// Everything lives in .services/ (git-ignored): logs/<name>.log, <name>/ data, <name>.pid.
// Ports can be moved with REDIS_PORT, MYSQL_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, DYNALITE_PORT.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));

const SERVICES_DIR = path.join(ROOT, '.services');
const LOG_DIR = path.join(SERVICES_DIR, 'logs');
const HOST = '127.0.0.1';

const REDIS_PORT = intEnv('REDIS_PORT', 6390);
const MYSQL_PORT = intEnv('MYSQL_PORT', 3306);
const KAFKA_PORT = intEnv('KAFKA_PORT', 9092);
const KAFKA_CONTROLLER_PORT = intEnv('KAFKA_CONTROLLER_PORT', 9093);
const DYNALITE_PORT = intEnv('DYNALITE_PORT', 8000);

const MARIADBD = '/usr/sbin/mariadbd';
const MYSQL_DATABASES = ['ticketing', 'ticketing_test'];
const KAFKA_PROBE_TOPIC = '__services_probe';
const KAFKA_POM = path.join(ROOT, 'scripts', 'kafka', 'pom.xml');
const KAFKA_LOG4J = path.join(ROOT, 'scripts', 'kafka', 'log4j2.properties');
const KAFKA_HEAP = (process.env.KAFKA_HEAP_OPTS || '-Xms256m -Xmx768m').split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// small helpers

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    console.error(`[services] ${name}=${raw} is not a port number; unset it or set it to 1..65535`);
    process.exit(2);
  }
  return n;
}

class ServiceError extends Error {
  /** @param {string} message what went wrong  @param {string} next what to do about it */
  constructor(message, next) {
    super(message);
    this.next = next;
  }
}

const say = (name, msg) => console.log(`[services] ${name}: ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rel = (p) => path.relative(process.cwd(), p) || '.';
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const logFile = (name) => path.join(LOG_DIR, `${name}.log`);
const pidFile = (name) => path.join(SERVICES_DIR, `${name}.pid`);

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function isPortOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function pidAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    // a zombie (exited, not reaped yet) still answers kill(0)
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** How long the process has been running (from /proc/<pid>/stat starttime; USER_HZ is 100 on Linux). */
function processAgeMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]); // field 22 overall
    const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const age = (uptime - startTicks / 100) * 1000;
    return Number.isFinite(age) && age > 0 ? age : 0;
  } catch {
    return 0;
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The pid recorded by `up` for this service, when that process is still alive and is the service. */
function ourPid(svc) {
  const pid = readPid(pidFile(svc.name));
  if (!pid || !pidAlive(pid)) return null;
  const cmd = cmdline(pid);
  if (cmd && !cmd.includes(svc.processMatch)) return null; // pid reused by something else
  return pid;
}

/** Pid of whatever listens on the port, via `ss` (best effort, for messages only). */
function listenerPid(port) {
  const r = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = r.status === 0 ? /pid=(\d+)/.exec(r.stdout) : null;
  return m ? Number(m[1]) : null;
}

function describeListener(port) {
  const pid = listenerPid(port);
  if (!pid) return `something (see \`ss -ltnp 'sport = :${port}'\`)`;
  return `pid ${pid} (${cmdline(pid).slice(0, 100) || 'unknown command'})`;
}

function tail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8').replace(/\s+$/, '');
    return text.split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
  } catch {
    return `    (no log at ${rel(file)})`;
  }
}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

function processesByExe(exe) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) === exe && pidAlive(Number(entry))) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** Run a command to completion, appending its output to a log file. Resolves with the exit code. */
function runLogged(cmd, args, log, opts = {}) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(log, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: ROOT, ...opts });
    } finally {
      fs.closeSync(fd);
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Start a long-running process that outlives this script: its own session (detached), stdio to
 * the log file, not referenced by our event loop, pid written to .services/<name>.pid.
 */
function spawnDetached(name, cmd, args, opts = {}) {
  const log = logFile(name);
  const fd = fs.openSync(log, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} services.mjs up: ${cmd} ${args.join(' ')}\n`);
  let child;
  try {
    child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT, ...opts });
  } finally {
    fs.closeSync(fd);
  }
  const state = { pid: child.pid, exited: false, code: null, error: null };
  child.once('error', (e) => Object.assign(state, { exited: true, error: e }));
  child.once('exit', (code, signal) => Object.assign(state, { exited: true, code: code ?? signal }));
  child.unref();
  if (child.pid) fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  return state;
}

// one apt-get at a time (dpkg holds a lock)
let aptQueue = Promise.resolve();
function aptInstall(name, pkg) {
  const command = `apt-get update && apt-get install -y ${pkg}`;
  const run = async () => {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new ServiceError(`${pkg} is not installed`, `install it: sudo ${command.replace('&& apt-get', '&& sudo apt-get')}`);
    }
    const log = path.join(LOG_DIR, 'apt.log');
    say(name, `${pkg} is not installed; running \`${command}\` (output in ${rel(log)})…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let code = await runLogged('apt-get', ['update'], log, { env });
    if (code === 0) code = await runLogged('apt-get', ['install', '-y', pkg], log, { env });
    if (code !== 0) {
      throw new ServiceError(`\`${command}\` failed (exit ${code})`, `read ${rel(log)}, fix the cause, then run \`${command}\` by hand`);
    }
    say(name, `${pkg} installed`);
  };
  const p = aptQueue.then(run);
  aptQueue = p.catch(() => {});
  return p;
}

/**
 * Serialise concurrent `up` runs per service (tests may call `up --only …` in parallel):
 * .services/<name>.lock holds the pid of the `up` working on that service.
 */
async function withLock(name, fn) {
  const file = path.join(SERVICES_DIR, `${name}.lock`);
  const deadline = Date.now() + 300_000;
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const holder = readPid(file);
    let fresh = false;
    try {
      fresh = Date.now() - fs.statSync(file).mtimeMs < 2000;
    } catch {}
    if ((holder && !pidAlive(holder)) || (!holder && !fresh)) {
      fs.rmSync(file, { force: true }); // left behind by a crashed run
      continue;
    }
    if (Date.now() > deadline) {
      throw new ServiceError(
        `another \`services.mjs up\` (pid ${holder}) has held ${rel(file)} for 5 minutes`,
        `if no other \`up\` is running, delete ${rel(file)} and retry`,
      );
    }
    if (!announced) say(name, `another \`services.mjs up\` (pid ${holder}) is starting it; waiting…`);
    announced = true;
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Poll svc.probe() until healthy. Fails when the deadline passes or `died()` reports that the
 * process we are waiting for is gone. Prints a progress line every 10 s.
 */
async function waitHealthy(svc, { deadlineMs, died = () => null, intervalMs = 300 }) {
  const t0 = Date.now();
  let nextNote = t0 + 10_000;
  let last = { ok: false, detail: 'not probed yet' };
  for (;;) {
    last = await svc.probe();
    if (last.ok) return Date.now() - t0;
    const death = died();
    if (death) {
      throw new ServiceError(
        `${death} before becoming healthy (last probe: ${last.detail}); last lines of ${rel(svc.log)}:\n${tail(svc.log)}`,
        `read ${rel(svc.log)}, fix the cause, then rerun \`node scripts/services.mjs up --only ${svc.name}\``,
      );
    }
    if (Date.now() - t0 > deadlineMs) {
      throw new ServiceError(
        `not healthy after ${secs(deadlineMs)} (last probe: ${last.detail}); last lines of ${rel(svc.log)}:\n${tail(svc.log)}`,
        `read ${rel(svc.log)}; to retry from scratch run \`node scripts/services.mjs down --only ${svc.name} && node scripts/services.mjs up --only ${svc.name}\``,
      );
    }
    if (Date.now() >= nextNote) {
      say(svc.name, `still waiting (${secs(Date.now() - t0)}): ${last.detail}`);
      nextNote += 10_000;
    }
    await sleep(intervalMs);
  }
}

const childDied = (state, what) => () => {
  if (!state.exited && pidAlive(state.pid)) return null;
  if (state.error) return `${what} could not be started (${state.error.message})`;
  return `${what} (pid ${state.pid}) exited${state.code !== null ? ` with ${state.code}` : ''}`;
};

const pidFileDied = (file, what) => () => {
  const pid = readPid(file);
  if (pid && !pidAlive(pid)) return `${what} (pid ${pid}) exited`;
  return null;
};

// ---------------------------------------------------------------------------------------------
// probes: each resolves { ok, detail } and never leaves a connection open

async function probeRedis(port) {
  if (!(await isPortOpen(port))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${port}` };
  const { Redis } = require('ioredis');
  const client = new Redis({
    host: HOST,
    port,
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

async function probeMysql(port) {
  const mysql = require('mysql2/promise');
  let conn;
  try {
    conn = await withTimeout(
      mysql.createConnection({ host: HOST, port, user: 'root', password: '', connectTimeout: 2000 }),
      4000,
      'connect',
    );
    await withTimeout(conn.query('SELECT 1'), 4000, 'SELECT 1');
    return { ok: true, detail: 'SELECT 1 ok' };
  } catch (e) {
    const refused = e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message);
    return { ok: false, listening: !refused, code: e.code, detail: refused ? `nothing listening on ${HOST}:${port}` : `${e.code ?? ''} ${e.message}`.trim() };
  } finally {
    if (conn) await conn.end().catch(() => conn.destroy());
  }
}

async function probeKafka(port) {
  if (!(await isPortOpen(port))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${port}` };
  // The Kafka client is the stream module's business (src/stream/); its probe is plain CommonJS.
  const { probeBroker } = require(path.join(ROOT, 'src', 'stream', 'broker-probe.cjs'));
  const result = await probeBroker({ host: HOST, port, probeTopic: KAFKA_PROBE_TOPIC }, withTimeout);
  return result.ok ? result : { ...result, listening: true };
}

async function probeDynamo(port) {
  if (!(await isPortOpen(port))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${port}` };
  const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    endpoint: `http://${HOST}:${port}`,
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

// ---------------------------------------------------------------------------------------------
// services

/** Common flow for the services we run ourselves (redis, kafka, dynalite). */
async function ensureOwned(svc) {
  const first = await svc.probe();
  if (first.ok) return reportHealthy(svc, 0);
  return withLock(svc.name, async () => {
    const again = await svc.probe(); // another `up` may have finished it meanwhile
    if (again.ok) return reportHealthy(svc, 0);

    const pid = ourPid(svc);
    if (pid) {
      const restart = `node scripts/services.mjs down --only ${svc.name} && node scripts/services.mjs up --only ${svc.name}`;
      const listener = listenerPid(svc.port);
      if (listener && listener !== pid) {
        throw new ServiceError(
          `${HOST}:${svc.port} is taken by ${describeListener(svc.port)}, which is not a healthy ${svc.name} (${again.detail}); our ${svc.name} (pid ${pid}) runs elsewhere`,
          `stop that process, or pick a free port with ${svc.portEnv}=<port> and run \`${restart}\``,
        );
      }
      // still starting, or hung? Allow it the start deadline counted from its own start.
      const remaining = Math.max(5000, svc.deadlineMs - processAgeMs(pid));
      say(svc.name, `pid ${pid} (started by an earlier \`up\`) is running but not healthy on ${HOST}:${svc.port} yet; waiting up to ${secs(remaining)}…`);
      try {
        const ms = await waitHealthy(svc, { deadlineMs: remaining, died: () => (pidAlive(pid) ? null : `pid ${pid} exited`) });
        return reportHealthy(svc, ms);
      } catch (e) {
        e.next = `read ${rel(svc.log)}, then restart it: \`${restart}\` (also needed after changing ${svc.portEnv})`;
        throw e;
      }
    }
    fs.rmSync(pidFile(svc.name), { force: true }); // stale

    for (const port of svc.ports) {
      if (await isPortOpen(port)) {
        const why = port === svc.port ? again.detail : `port ${port} is needed too`;
        throw new ServiceError(
          `${HOST}:${port} is taken by ${describeListener(port)}, which is not a healthy ${svc.name} (${why})`,
          `stop that process, or move ours with ${svc.portEnv}=<free port>, then rerun \`node scripts/services.mjs up --only ${svc.name}\``,
        );
      }
    }
    const t0 = Date.now();
    const died = await svc.start();
    say(svc.name, `waiting for health on ${HOST}:${svc.port} (deadline ${secs(svc.deadlineMs)})…`);
    await waitHealthy(svc, { deadlineMs: svc.deadlineMs, died });
    return reportHealthy(svc, Date.now() - t0, true);
  });
}

function reportHealthy(svc, ms, started = false) {
  const pid = ourPid(svc);
  if (started) say(svc.name, `healthy on ${HOST}:${svc.port} after ${secs(ms)} (pid ${pid ?? '?'}, log ${rel(svc.log)})`);
  else if (pid) say(svc.name, `already healthy on ${HOST}:${svc.port} (started by us, pid ${pid}); left alone`);
  else say(svc.name, `already healthy on ${HOST}:${svc.port} (external); left alone`);
  return { started };
}

const redis = {
  name: 'redis',
  port: REDIS_PORT,
  ports: [REDIS_PORT],
  portEnv: 'REDIS_PORT',
  processMatch: 'redis-server',
  log: logFile('redis'),
  dataDir: path.join(SERVICES_DIR, 'redis'),
  deadlineMs: 20_000,
  probe: () => probeRedis(REDIS_PORT),
  async up() {
    const first = await this.probe();
    if (!first.ok && first.aofOff && !ourPid(this)) {
      throw new ServiceError(
        `the Redis on ${HOST}:${this.port} (${describeListener(this.port)}) is not ours and runs without AOF (appendonly=no)`,
        `stop it, or enable AOF on it (\`redis-cli -p ${this.port} CONFIG SET appendonly yes\`), or move ours with REDIS_PORT=<free port>`,
      );
    }
    return ensureOwned(this);
  },
  async start() {
    if (!which('redis-server')) await aptInstall(this.name, 'redis-server');
    const bin = which('redis-server') || '/usr/bin/redis-server';
    fs.mkdirSync(this.dataDir, { recursive: true });
    const pf = pidFile(this.name);
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--dir', this.dataDir,
      '--daemonize', 'yes',
      '--pidfile', pf,
      '--logfile', this.log,
    ];
    say(this.name, `starting redis-server on ${HOST}:${this.port} (AOF in ${rel(this.dataDir)})`);
    // with --daemonize the launcher forks, writes the pid file and exits at once
    const code = await runLogged(bin, args, this.log);
    if (code !== 0) {
      throw new ServiceError(`redis-server exited with ${code}; last lines of ${rel(this.log)}:\n${tail(this.log)}`, `read ${rel(this.log)}, fix the cause, then rerun \`node scripts/services.mjs up --only redis\``);
    }
    return pidFileDied(pf, 'redis-server');
  },
};

const dynalite = {
  name: 'dynalite',
  port: DYNALITE_PORT,
  ports: [DYNALITE_PORT],
  portEnv: 'DYNALITE_PORT',
  processMatch: 'dynalite',
  log: logFile('dynalite'),
  dataDir: path.join(SERVICES_DIR, 'dynalite'),
  deadlineMs: 30_000,
  probe: () => probeDynamo(DYNALITE_PORT),
  up() {
    return ensureOwned(this);
  },
  async start() {
    const bin = path.join(ROOT, 'node_modules', '.bin', 'dynalite');
    if (!fs.existsSync(bin)) {
      throw new ServiceError(`${rel(bin)} is missing`, 'run `npm install` in the repo root (dynalite is a devDependency)');
    }
    fs.mkdirSync(this.dataDir, { recursive: true });
    say(this.name, `starting dynalite on ${HOST}:${this.port} (LevelDB in ${rel(this.dataDir)})`);
    const state = spawnDetached(this.name, process.execPath, [bin, '--port', String(this.port), '--host', HOST, '--path', this.dataDir]);
    return childDied(state, 'dynalite');
  },
};

// --- kafka -----------------------------------------------------------------------------------

const KAFKA_DIR = path.join(SERVICES_DIR, 'kafka');
const KAFKA_LIBS = path.join(KAFKA_DIR, 'libs');
const KAFKA_LIBS_HASH = path.join(KAFKA_LIBS, '.pom.sha256');
const KAFKA_DATA = path.join(KAFKA_DIR, 'data');
const KAFKA_PROPS = path.join(KAFKA_DIR, 'server.properties');
const KAFKA_CLUSTER_ID = path.join(KAFKA_DIR, 'cluster.id');

const pomHash = () => crypto.createHash('sha256').update(fs.readFileSync(KAFKA_POM)).digest('hex');

function javaMajor() {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return 0;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

async function ensureKafkaLibs(name) {
  const hash = pomHash();
  let have = null;
  try {
    have = fs.readFileSync(KAFKA_LIBS_HASH, 'utf8').trim();
  } catch {}
  if (have === hash) return;
  if (!which('mvn')) {
    throw new ServiceError('Maven (`mvn`) is not installed; it resolves the Kafka jars', 'install it: `apt-get update && apt-get install -y maven`, then rerun `node scripts/services.mjs up`');
  }
  const mvnLog = path.join(LOG_DIR, 'kafka-maven.log');
  say(name, `${have ? 'scripts/kafka/pom.xml changed; re-' : ''}resolving jars with Maven (first run takes ~1 min)… (output in ${rel(mvnLog)})`);
  const tmp = `${KAFKA_LIBS}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const args = ['-B', '-q', '-Dstyle.color=never', '-f', KAFKA_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`];
  const code = await runLogged('mvn', args, mvnLog);
  const jars = fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((f) => f.endsWith('.jar')) : [];
  if (code !== 0 || !jars.some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new ServiceError(
      `Maven could not resolve the Kafka jars (exit ${code}); last lines of ${rel(mvnLog)}:\n${tail(mvnLog, 20)}`,
      `check that Maven Central (https://repo.maven.apache.org) is reachable and the version in scripts/kafka/pom.xml exists, then rerun \`node scripts/services.mjs up --only kafka\``,
    );
  }
  fs.writeFileSync(path.join(tmp, '.pom.sha256'), `${hash}\n`);
  fs.rmSync(KAFKA_LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, KAFKA_LIBS);
  say(name, `resolved ${jars.length} jars into ${rel(KAFKA_LIBS)}`);
}

/** A Kafka Uuid in its string form: 16 random bytes, URL-safe base64 without padding. */
function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function clusterId() {
  try {
    const id = fs.readFileSync(KAFKA_CLUSTER_ID, 'utf8').trim();
    if (id) return id;
  } catch {}
  let id = null;
  try {
    // storage formatted earlier but cluster.id lost: keep the formatted one
    id = /^cluster\.id=(.+)$/m.exec(fs.readFileSync(path.join(KAFKA_DATA, 'meta.properties'), 'utf8'))?.[1]?.trim() ?? null;
  } catch {}
  id ||= newClusterId();
  fs.writeFileSync(KAFKA_CLUSTER_ID, `${id}\n`);
  return id;
}

function kafkaProperties() {
  return `# Written by scripts/services.mjs on every start; edit the script, not this file.
# Single-node Apache Kafka 4.x in KRaft mode: one process is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${KAFKA_CONTROLLER_PORT}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${KAFKA_DATA}
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=6
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
`;
}

const kafka = {
  name: 'kafka',
  port: KAFKA_PORT,
  ports: [KAFKA_PORT, KAFKA_CONTROLLER_PORT],
  portEnv: 'KAFKA_PORT (and KAFKA_CONTROLLER_PORT)',
  processMatch: 'kafka.Kafka',
  log: logFile('kafka'),
  deadlineMs: 120_000,
  probe: () => probeKafka(KAFKA_PORT),
  async up() {
    const result = await ensureOwned(this);
    if (!result.started && ourPid(this)) {
      let have = null;
      try {
        have = fs.readFileSync(KAFKA_LIBS_HASH, 'utf8').trim();
      } catch {}
      if (have && have !== pomHash()) {
        say(this.name, 'note: scripts/kafka/pom.xml changed since the running broker was started; run `node scripts/services.mjs down --only kafka && node scripts/services.mjs up --only kafka` to switch');
      }
    }
    return result;
  },
  async start() {
    const major = javaMajor();
    if (major === null) {
      throw new ServiceError('`java` is not installed; Kafka 4 needs Java 17+', 'install it: `apt-get update && apt-get install -y openjdk-17-jre-headless`');
    }
    if (major && major < 17) {
      throw new ServiceError(`\`java\` is Java ${major}; Kafka 4 needs Java 17+`, 'install Java 17 (`apt-get install -y openjdk-17-jre-headless`) and select it with `update-alternatives --config java`');
    }
    fs.mkdirSync(KAFKA_DATA, { recursive: true });
    await ensureKafkaLibs(this.name);
    const id = clusterId();
    fs.writeFileSync(KAFKA_PROPS, kafkaProperties());
    const jvm = ['-cp', `${KAFKA_LIBS}/*`, `-Dlog4j2.configurationFile=${KAFKA_LOG4J}`, `-Dkafka.logs.dir=${LOG_DIR}`];

    if (!fs.existsSync(path.join(KAFKA_DATA, 'meta.properties'))) {
      say(this.name, `formatting storage in ${rel(KAFKA_DATA)} (cluster id ${id})`);
      const code = await runLogged('java', [...jvm, 'kafka.tools.StorageTool', 'format', '--cluster-id', id, '--config', KAFKA_PROPS, '--ignore-formatted'], this.log);
      if (code !== 0) {
        throw new ServiceError(
          `kafka-storage format failed (exit ${code}); last lines of ${rel(this.log)}:\n${tail(this.log)}`,
          `read ${rel(this.log)}; if ${rel(KAFKA_DATA)} holds nothing you need, delete it and ${rel(KAFKA_CLUSTER_ID)} and rerun \`node scripts/services.mjs up --only kafka\``,
        );
      }
    }
    say(this.name, `starting Kafka (KRaft broker+controller) on ${HOST}:${this.port}, controller ${HOST}:${KAFKA_CONTROLLER_PORT}`);
    const state = spawnDetached(this.name, 'java', [
      ...KAFKA_HEAP,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      ...jvm,
      'kafka.Kafka',
      KAFKA_PROPS,
    ]);
    return childDied(state, 'the Kafka JVM');
  },
};

// --- mariadb ---------------------------------------------------------------------------------

const mariadb = {
  name: 'mariadb',
  port: MYSQL_PORT,
  processMatch: 'mariadbd',
  log: logFile('mariadb'),
  deadlineMs: 60_000,
  probe: () => probeMysql(MYSQL_PORT),
  async up() {
    let state = await this.probe();
    if (!state.ok) state = await withLock(this.name, () => this.bringUp());
    else reportHealthy(this, 0);
    await this.createDatabases();
    return state;
  },
  async bringUp() {
    const first = await this.probe();
    if (first.ok) return reportHealthy(this, 0);
    if (first.listening) {
      const hint = /ACCESS_DENIED|Access denied/i.test(first.detail)
        ? `the platform connects as root with an empty password (MYSQL_URL=mysql://root@127.0.0.1:${this.port}/ticketing); allow it, e.g. \`mysql -uroot -p -e "CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"\``
        : `check what listens there (\`ss -ltnp 'sport = :${this.port}'\`) and its log; MariaDB logs are usually in /var/log/mysql/ or .services/logs/mariadb.log`;
      if (/ACCESS_DENIED|Access denied/i.test(first.detail)) {
        throw new ServiceError(`${HOST}:${this.port} answers but refuses root with an empty password: ${first.detail}`, hint);
      }
      // a server that is still starting answers with errors for a moment: give it a short grace period
      try {
        return reportHealthy(this, await waitHealthy(this, { deadlineMs: 10_000 }), true);
      } catch {
        throw new ServiceError(`${HOST}:${this.port} answers but \`SELECT 1\` as root fails: ${first.detail}`, hint);
      }
    }
    const t0 = Date.now();
    const running = processesByExe(MARIADBD);
    if (running.length) {
      // still starting (e.g. crash recovery), or running with another port/config? Allow it the
      // start deadline counted from its own start.
      const remaining = Math.max(5000, this.deadlineMs - Math.min(...running.map(processAgeMs)));
      say(this.name, `mariadbd is running (pid ${running.join(', ')}) but not answering on ${HOST}:${this.port} yet; waiting up to ${secs(remaining)}…`);
      try {
        return reportHealthy(this, await waitHealthy(this, { deadlineMs: remaining }), true);
      } catch (e) {
        e.next = `it may listen elsewhere or be stuck: check \`ss -ltnp | grep mariadbd\`, /var/log/mysql/ and ${rel(this.log)}; stop it (\`kill ${running[0]}\`) and rerun \`node scripts/services.mjs up --only mariadb\` to start it fresh`;
        throw e;
      }
    }
    if (!fs.existsSync(MARIADBD)) {
      await aptInstall(this.name, 'mariadb-server');
      if ((await this.probe()).ok) return reportHealthy(this, Date.now() - t0, true); // started by its postinst
      if (!fs.existsSync(MARIADBD)) {
        throw new ServiceError(`${MARIADBD} is still missing after installing mariadb-server`, 'read .services/logs/apt.log');
      }
    }
    // the socket and pid file live in /run/mysqld, which is gone after a reboot
    fs.mkdirSync('/run/mysqld', { recursive: true });
    spawnSync('chown', ['mysql:mysql', '/run/mysqld']);
    const pf = pidFile(this.name);
    const args = ['--start', '--oknodo', '--background', '--make-pidfile', '--pidfile', pf, '--output', this.log, '--exec', MARIADBD];
    say(this.name, `nothing answers on ${HOST}:${this.port}; starting it: start-stop-daemon ${args.join(' ')}`);
    const code = await runLogged('start-stop-daemon', args, this.log);
    if (code !== 0) {
      throw new ServiceError(`start-stop-daemon failed (exit ${code}); last lines of ${rel(this.log)}:\n${tail(this.log)}`, `read ${rel(this.log)}, fix the cause, then rerun \`node scripts/services.mjs up --only mariadb\``);
    }
    return reportHealthy(this, await this.waitOrExplain(pidFileDied(pf, 'mariadbd')), true);
  },
  async waitOrExplain(died) {
    try {
      return await waitHealthy(this, { deadlineMs: this.deadlineMs, died });
    } catch (e) {
      e.next = `read ${rel(this.log)} and /var/log/mysql/error.log (if present); \`journalctl\` is not available here, so also try \`${MARIADBD} --user=mysql\` in a terminal to see why it stops`;
      throw e;
    }
  },
  async createDatabases() {
    const mysql = require('mysql2/promise');
    const conn = await mysql.createConnection({ host: HOST, port: this.port, user: 'root', password: '', connectTimeout: 3000 });
    try {
      for (const db of MYSQL_DATABASES) {
        await conn.query(`CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      }
    } catch (e) {
      throw new ServiceError(`CREATE DATABASE failed: ${e.message}`, `root@${HOST} needs CREATE privileges; create them by hand: \`mysql -uroot -h${HOST} -e "CREATE DATABASE IF NOT EXISTS ticketing; CREATE DATABASE IF NOT EXISTS ticketing_test"\``);
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
    say(this.name, `databases ready: ${MYSQL_DATABASES.join(', ')}`);
  },
};

const SERVICES = [redis, mariadb, kafka, dynalite];

// ---------------------------------------------------------------------------------------------
// commands

async function cmdUp(services) {
  const t0 = Date.now();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  say('up', `ensuring ${services.map((s) => s.name).join(', ')}…`);
  const results = await Promise.allSettled(services.map((s) => s.up()));
  const failed = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const svc = services[i];
    const e = r.reason;
    failed.push(svc.name);
    console.error(`[services] ${svc.name}: FAILED: ${e.message}`);
    console.error(`[services] ${svc.name}: next: ${e.next ?? `read ${rel(svc.log)}`}`);
    if (!(e instanceof ServiceError) && e.stack) console.error(e.stack);
  });
  if (failed.length) {
    console.error(`[services] up: ${failed.join(', ')} not healthy after ${secs(Date.now() - t0)}; \`node scripts/services.mjs status\` shows the state of each`);
    return 1;
  }
  say('up', `all healthy (${services.map((s) => `${s.name} ${HOST}:${s.port}`).join(', ')}) in ${secs(Date.now() - t0)}`);
  return 0;
}

async function stopPid(svc, pid, deadlineMs) {
  const gone = async (ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!pidAlive(pid)) return true;
      await sleep(100);
    }
    return !pidAlive(pid);
  };
  say(svc.name, `stopping pid ${pid} (SIGTERM, up to ${secs(deadlineMs)})…`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {}
  if (await gone(deadlineMs)) return 'stopped';
  say(svc.name, `pid ${pid} still running after ${secs(deadlineMs)}; sending SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  if (await gone(5000)) return 'killed';
  throw new ServiceError(`pid ${pid} survived SIGKILL`, `inspect it with \`ps -o pid,stat,cmd -p ${pid}\``);
}

const STOP_DEADLINE = { redis: 20_000, mariadb: 60_000, kafka: 60_000, dynalite: 10_000 };

async function cmdDown(services) {
  const results = await Promise.allSettled(
    services.map(async (svc) => {
      const file = pidFile(svc.name);
      const recorded = readPid(file);
      const pid = ourPid(svc);
      if (!pid) {
        fs.rmSync(file, { force: true });
        if (recorded) say(svc.name, `pid ${recorded} from ${rel(file)} is no longer running; removed the pid file`);
        else say(svc.name, `not started by \`up\`; nothing to stop${svc.name === 'mariadb' ? ' (the machine\'s MariaDB stays up)' : ''}`);
        return;
      }
      const how = await stopPid(svc, pid, STOP_DEADLINE[svc.name]);
      fs.rmSync(file, { force: true });
      say(svc.name, `${how}; data kept`);
    }),
  );
  let code = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      code = 1;
      console.error(`[services] ${services[i].name}: FAILED to stop: ${r.reason.message}`);
      if (r.reason.next) console.error(`[services] ${services[i].name}: next: ${r.reason.next}`);
    }
  });
  return code;
}

async function cmdStatus(services) {
  const rows = await Promise.all(
    services.map(async (svc) => {
      const probe = await svc.probe();
      const pid = ourPid(svc);
      const external = !pid && probe.listening !== false ? listenerPid(svc.port) : null;
      return {
        name: svc.name,
        port: `${HOST}:${svc.port}`,
        health: probe.ok ? 'healthy' : 'UNHEALTHY',
        owner: pid ? 'started-by-us' : probe.ok || probe.listening ? 'external' : '-',
        pid: pid ? `pid ${pid}` : external ? `pid ${external}` : 'pid -',
        log: pid || fs.existsSync(svc.log) ? rel(svc.log) : '-',
        detail: probe.ok ? '' : `  (${probe.detail})`,
        ok: probe.ok,
      };
    }),
  );
  const width = (k) => Math.max(...rows.map((r) => r[k].length));
  for (const r of rows) {
    console.log(
      `[services] ${r.name.padEnd(width('name'))}  ${r.port.padEnd(width('port'))}  ${r.health.padEnd(9)}  ${r.owner.padEnd(13)}  ${r.pid.padEnd(width('pid'))}  log ${r.log}${r.detail}`,
    );
  }
  const bad = rows.filter((r) => !r.ok);
  if (bad.length) console.log(`[services] not healthy: ${bad.map((r) => r.name).join(', ')}; run \`node scripts/services.mjs up\``);
  return bad.length ? 1 : 0;
}

function usage(message) {
  if (message) console.error(`[services] ${message}`);
  console.error('usage: node scripts/services.mjs up|down|status [--only redis,mariadb,kafka,dynalite]');
  return 2;
}

async function main(argv) {
  const [command, ...rest] = argv;
  let only = null;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--only') only = rest[++i];
    else if (a.startsWith('--only=')) only = a.slice('--only='.length);
    else return usage(`unknown argument ${a}`);
  }
  let services = SERVICES;
  if (only !== null) {
    const names = (only ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !SERVICES.some((s) => s.name === n));
    if (!names.length || unknown.length) return usage(`--only takes a comma-separated subset of ${SERVICES.map((s) => s.name).join(',')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
    services = SERVICES.filter((s) => names.includes(s.name));
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  switch (command) {
    case 'up':
      return cmdUp(services);
    case 'down':
      return cmdDown(services);
    case 'status':
      return cmdStatus(services);
    default:
      return usage(command ? `unknown command ${command}` : 'missing command');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[services] unexpected error: ${e.stack ?? e}`);
    console.error('[services] next: rerun with the same arguments; if it repeats, read the logs in .services/logs/');
    process.exit(1);
  },
);
