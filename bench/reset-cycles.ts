import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import mysql from 'mysql2/promise';
import { parseAllDocuments, stringify } from 'yaml';
import { Kafka, logLevel } from 'kafkajs';
import { LoadClient } from '../load/driver/client';
import { loadConfig } from '../src/config/config';
import { createRedisClient, scanKeys, unlinkEach } from '../src/shared/redis';
import { printProgress } from '../load/driver/lab';
import { runCalls, type RunStats } from '../load/driver/runner';
import { freePort } from '../load/driver/server-process';
import { readSeatMaps } from '../load/driver/stores';
import { verifyRun } from '../load/driver/verify';
import { toHttp, type Target } from '../load/scenarios';
import { seedReplay } from '../load/scenarios/seed-replay';

/**
 * The load tester's loop on the default start (issue 16, item 5): `seed replay → reset-event`,
 * `cycles` times in a row, against what `npm start` runs (dist/src/supervise.js: api,
 * controller, writer and projector as processes of their own). Each cycle checks the replay's
 * answers and seat maps (exactly one 201 per seat), times `npm run admin -- reset-event`, and
 * records whether /readyz stayed 200 and how large the DynamoDB store is.
 *
 * Isolation: the supervisor gets its own ports, KAFKA_TOPIC_PREFIX, REDIS_KEY_PREFIX, a MySQL
 * database of its own (created and dropped here) and a dynalite of its own (its LevelDB
 * directory is what "store MiB" measures; the shared one in .services/dynalite is used by
 * others). Needs `npm run build` and the services (`npm run services:up`).
 */
export interface ResetCyclesOptions {
  cycles: number;
  /** Zones of the seed venue to sell (100 is the whole seed event: 78,000 seats). */
  zones: number;
  concurrency: number;
  /** The reset command to time (default: this build's admin CLI); another build's measures a "before". */
  resetCli?: string;
  log?: (line: string) => void;
}

export interface ResetCycle {
  cycle: number;
  stats: RunStats;
  correct: boolean;
  problems: string[];
  resetSeconds: number;
  /** /readyz polls during the cycle (every 500 ms, 2 s timeout) that answered 200, and all polls. */
  readyOk: number;
  readyPolls: number;
  storeMiB: number;
}

export interface ResetCyclesResult {
  eventId: string;
  seats: number;
  requests: number;
  concurrency: number;
  cycles: ResetCycle[];
  storeMiBBefore: number;
  /** Last cycle's requests/s ÷ the first's. */
  lastToFirst: number;
  allReady: boolean;
  allCorrect: boolean;
}

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const EVENT: Target = { eventId: 'Event1', venueId: 'Venue1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (dir: string) => Number(execFileSync('du', ['-sm', dir]).toString().split('\t')[0]);

/** A dynalite of the run's own on a free port, LevelDB in `dir`. */
async function startDynalite(dir: string): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  // As `npm run services:up` starts it: with its LevelDB iterators closed (scripts/services/dynalite-server.cjs).
  const bin = path.join(ROOT, 'scripts', 'services', 'dynalite-server.cjs');
  const child = spawn(process.execPath, [bin, '--port', String(port), '--host', '127.0.0.1', '--path', dir], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const deadline = Date.now() + 20_000; ;) {
      try {
        await client.send(new ListTablesCommand({}));
        return { endpoint, child };
      } catch {
        if (Date.now() > deadline)
          throw new Error(`dynalite did not answer on ${endpoint} within 20 s; check node_modules/dynalite (npm ci)`);
        await sleep(200);
      }
    }
  } finally {
    client.destroy();
  }
}

/** The seed event's venue cut to its first `zones` zones, and the event, in a seeds dir of the run's own. */
async function writeSeedDir(dir: string, zones: number): Promise<void> {
  const venue = parseAllDocuments(await readFile(path.join(ROOT, 'seeds', 'venue1.yaml'), 'utf8'))[0]!.toJS() as {
    spec: { zones: unknown[] };
  };
  venue.spec.zones = venue.spec.zones.slice(0, zones);
  await writeFile(path.join(dir, 'venue1.yaml'), stringify(venue));
  await writeFile(path.join(dir, 'event1.yaml'), await readFile(path.join(ROOT, 'seeds', 'event1.yaml'), 'utf8'));
}

/** Four ports in a row above METRICS_PORT for the supervised roles, and PORT apart (role-ports.ts). */
async function supervisorPorts(): Promise<{ port: number; metricsPort: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return { port: await freePort(), metricsPort: base };
  }
  throw new Error('found no four free ports in a row for the supervised roles; free some ports and retry');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function startSupervisor(env: Record<string, string>): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(process.execPath, [path.join(DIST, 'src', 'supervise.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
    },
  };
}

async function readyz(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Polls /readyz every 500 ms until stopped; counts the 200s. */
function readinessProbe(url: string): { take(): { ok: number; polls: number }; stop(): void } {
  let ok = 0;
  let polls = 0;
  let running = true;
  void (async () => {
    while (running) {
      const t = Date.now();
      if (await readyz(url)) ok++;
      polls++;
      await sleep(Math.max(0, 500 - (Date.now() - t)));
    }
  })();
  return {
    take() {
      const out = { ok, polls };
      ok = 0;
      polls = 0;
      return out;
    },
    stop() {
      running = false;
    },
  };
}

/** `npm run admin -- reset-event Event1` as a user runs it; its lines go to `log`. */
function runReset(cli: string, env: Record<string, string>, log: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, 'reset-event', EVENT.eventId], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const each = (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) log(`    reset | ${line}`);
    };
    child.stdout.on('data', each);
    child.stderr.on('data', each);
    child.once('exit', (code) =>
      code === 0
        ? resolve((Date.now() - started) / 1000)
        : reject(
            new Error(
              `reset-event exited with ${code}:\n${out.slice(-2000)}\nCheck npm run services:status and the supervisor's output above`,
            ),
          ),
    );
  });
}

export async function runResetCycles(opts: ResetCyclesOptions): Promise<ResetCyclesResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const id = randomBytes(4).toString('hex');
  const work = await mkdtemp(path.join(os.tmpdir(), 'reset-cycles-'));
  const storeDir = path.join(work, 'dynalite');
  const seedsDir = path.join(work, 'seeds');
  await Promise.all([mkdir(storeDir), mkdir(seedsDir)]);
  await writeSeedDir(seedsDir, opts.zones);
  const database = `ticketing_rc_${id}`;
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await admin.query(`CREATE DATABASE \`${database}\``);
  const dynalite = await startDynalite(storeDir);
  const { port, metricsPort } = await supervisorPorts();
  const env: Record<string, string> = {
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    KAFKA_TOPIC_PREFIX: `bench.rc${id}`,
    REDIS_KEY_PREFIX: `tp:rc${id}:`,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    MYSQL_URL: `mysql://root@127.0.0.1:3306/${database}`,
    SEEDS_DIR: seedsDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_ROUTES: '',
  };
  const url = `http://127.0.0.1:${port}`;
  log(`reset cycles ${id}: supervisor on ${url}, dynalite ${dynalite.endpoint} (LevelDB ${storeDir}), MySQL ${database}`);
  const supervisor = startSupervisor(env);
  const client = new LoadClient(url, opts.concurrency);
  const probe = readinessProbe(url);
  const cycles: ResetCycle[] = [];
  const plan = seedReplay({ zones: opts.zones });
  // Ctrl-C (or SIGTERM) ends the run through the clean-up below, never leaving the supervisor,
  // the dynalite or the run's database behind.
  let onSignal: (() => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = () => reject(new Error('interrupted; cleaning up the run'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    return await Promise.race([interrupted, cyclesOn()]);
  } finally {
    process.removeListener('SIGINT', onSignal!);
    process.removeListener('SIGTERM', onSignal!);
    probe.stop();
    await client.close();
    await supervisor.stop();
    dynalite.child.kill('SIGTERM');
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    await admin.end();
    await cleanRedisAndKafka(env).catch((err: unknown) =>
      log(`cleanup of the run's Redis keys and topics failed: ${(err as Error).message}`),
    );
    await rm(work, { recursive: true, force: true });
  }

  async function cyclesOn(): Promise<ResetCyclesResult> {
    for (const deadline = Date.now() + 120_000; !(await readyz(url)); await sleep(250))
      if (Date.now() > deadline) throw new Error(`the supervisor was not ready on ${url}/readyz within 120 s; see its output above`);
    // The controller seeds the event: wait until every zone sells (its seat maps answer).
    for (const deadline = Date.now() + 60_000; ; await sleep(250)) {
      const maps = await readSeatMaps(url, EVENT, plan.layout);
      if (maps.problems.length === 0) break;
      if (Date.now() > deadline) throw new Error(`the seed event is not on sale after 60 s: ${maps.problems.slice(0, 3).join('; ')}`);
    }
    const storeMiBBefore = mib(storeDir);
    probe.take();
    const calls = plan.requests.map((r) => toHttp(r, EVENT));
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const run = await runCalls(client, calls, {
        concurrency: opts.concurrency,
        label: `cycle ${cycle} seed replay`,
        onProgress: printProgress,
      });
      const verdict = verifyRun({
        plan,
        setupOutcomes: [],
        outcomes: run.outcomes,
        inventory: await readSeatMaps(url, EVENT, plan.layout),
      });
      const resetSeconds = await runReset(opts.resetCli ?? path.join(DIST, 'src', 'admin', 'cli.js'), env, log);
      const ready = probe.take();
      const c: ResetCycle = {
        cycle,
        stats: run.stats,
        correct: verdict.correct,
        problems: verdict.problems.slice(0, 5),
        resetSeconds,
        readyOk: ready.ok,
        readyPolls: ready.polls,
        storeMiB: mib(storeDir),
      };
      cycles.push(c);
      log(
        `  cycle ${cycle}: ${Math.round(c.stats.throughput)} req/s, p99 ${c.stats.p99.toFixed(0)} ms, ${c.correct ? 'correct' : `WRONG: ${c.problems.join('; ')}`}, reset ${resetSeconds.toFixed(1)} s, readyz ${c.readyOk}/${c.readyPolls}, store ${c.storeMiB} MiB`,
      );
    }
    const first = cycles[0]?.stats.throughput ?? 0;
    return {
      eventId: EVENT.eventId,
      seats: plan.expect.confirmed ?? 0,
      requests: plan.requests.length,
      concurrency: opts.concurrency,
      cycles,
      storeMiBBefore,
      lastToFirst: first ? (cycles.at(-1)?.stats.throughput ?? 0) / first : 0,
      allReady: cycles.every((c) => c.readyOk === c.readyPolls),
      allCorrect: cycles.every((c) => c.correct),
    };
  }
}

/** Removes the run's Redis keys (its own prefix) and Kafka topics (its own prefix). */
export async function cleanRedisAndKafka(env: Record<string, string>): Promise<void> {
  const cfg = loadConfig({ ...process.env, ...env });
  const redis = createRedisClient(cfg);
  try {
    for await (const keys of scanKeys(redis, `${env.REDIS_KEY_PREFIX}*`)) await unlinkEach(redis, keys);
  } finally {
    redis.disconnect();
  }
  const kafka = new Kafka({ brokers: cfg.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const kadmin = kafka.admin();
  await kadmin.connect();
  try {
    const mine = (await kadmin.listTopics()).filter((t) => t.startsWith(`${env.KAFKA_TOPIC_PREFIX}.`));
    if (mine.length) await kadmin.deleteTopics({ topics: mine });
  } finally {
    await kadmin.disconnect();
  }
}

export function resetCyclesMarkdown(r: ResetCyclesResult): string {
  const lines = [
    `Seed replay (${r.seats.toLocaleString('en-US')} seats, ${r.requests.toLocaleString('en-US')} requests, ${r.concurrency} clients) then \`npm run admin -- reset-event ${r.eventId}\`, ${r.cycles.length} cycles on the default start (supervisor). Store before the first cycle: ${r.storeMiBBefore} MiB. Last ÷ first requests/s: ${r.lastToFirst.toFixed(2)}; /readyz always 200: ${r.allReady ? 'yes' : 'no'}; every replay correct: ${r.allCorrect ? 'yes' : 'no'}.`,
    '',
    '| cycle | requests/s | p99 ms | reset s | readyz ok | dynalite store MiB |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.cycles.map(
      (c) =>
        `| ${c.cycle}${c.correct ? '' : ' (wrong)'} | ${Math.round(c.stats.throughput).toLocaleString('en-US')} | ${c.stats.p99.toFixed(0)} | ${c.resetSeconds.toFixed(1)} | ${c.readyOk}/${c.readyPolls} | ${c.storeMiB} |`,
    ),
  ];
  return lines.join('\n');
}

/** SVG elements of a panel at (x, y), w × h: requests/s per cycle as bars, each labelled with its reset's seconds. */
export function resetCyclesSvgPanel(r: ResetCyclesResult, x: number, y: number, w: number, h: number): string[] {
  if (r.cycles.length === 0) return [];
  const max = Math.max(...r.cycles.map((c) => c.stats.throughput)) * 1.1;
  const slot = w / r.cycles.length;
  const out = [
    `<text x="${x}" y="${y - 12}" font-weight="bold">replay → reset cycles on the default start: seed replay req/s per cycle (bar), reset seconds (label); last ÷ first ${r.lastToFirst.toFixed(2)}</text>`,
    `<line x1="${x}" x2="${x + w}" y1="${y + h}" y2="${y + h}" stroke="#ced4da"/>`,
  ];
  r.cycles.forEach((c, i) => {
    const bh = (c.stats.throughput / max) * h;
    const bx = x + i * slot + slot * 0.15;
    const fill = c.correct && c.readyOk === c.readyPolls ? '#d6336c' : '#e03131';
    out.push(
      `<rect x="${bx.toFixed(1)}" y="${(y + h - bh).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${bh.toFixed(1)}" fill="${fill}"/>`,
    );
    out.push(
      `<text x="${(bx + slot * 0.35).toFixed(1)}" y="${(y + h - bh - 4).toFixed(1)}" text-anchor="middle">${Math.round(c.stats.throughput).toLocaleString('en-US')}</text>`,
    );
    out.push(
      `<text x="${(bx + slot * 0.35).toFixed(1)}" y="${y + h + 14}" text-anchor="middle">#${c.cycle} · ${c.resetSeconds.toFixed(1)} s</text>`,
    );
  });
  return out;
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `node dist/bench/reset-cycles.js [--cycles 10] [--quick] [--zones N] [--concurrency N] [--reset-cli path]` */
if (require.main === module) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const resetCli = argValue(args, '--reset-cli');
  runResetCycles({
    cycles: Number(argValue(args, '--cycles') ?? (quick ? 3 : 10)),
    zones: Number(argValue(args, '--zones') ?? (quick ? 4 : 100)),
    concurrency: Number(argValue(args, '--concurrency') ?? (quick ? 100 : 1000)),
    ...(resetCli ? { resetCli: path.resolve(resetCli) } : {}),
  }).then(
    (r) => {
      process.stdout.write(`${resetCyclesMarkdown(r)}\n`);
      process.stdout.write(`${JSON.stringify({ ...r, cycles: r.cycles.map((c) => ({ ...c, stats: { ...c.stats } })) })}\n`);
      process.exit(r.allCorrect && r.allReady ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`reset cycles failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
