/**
 * The no-op and purchase ceilings measured with wrk (C, epoll, LuaJIT) beside the Node driver:
 * the driver shares the 2 cores with the server, so its own CPU is part of every figure it
 * reports. wrk only measures the ceilings; correctness stays with the Node driver, which
 * checks every answer against the stores (load/driver/verify.ts).
 *
 *   runWrkCeilings(target, opts)  for bench/run.ts: wrk's no-op and seed-replay figures on a
 *                                 running api, or { skipped } when wrk is not installed.
 *   node dist/bench/wrk.js [--quick]  alone: starts an api (as bench/run.ts does) and prints a
 *                                 markdown table, Node driver vs wrk on the same server, one run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ScriptedRedis } from '../src/commands/scripts';
import { createBenchEvent } from '../load/driver/fixtures';
import { seedLayout } from '../load/scenarios';
import { compareGenerators } from './wrk-compare';
import { parseWrkOutput, type WrkSummary } from './wrk-output';

const SCRIPTS = path.resolve(__dirname, '..', '..', 'load', 'wrk');
export const WRK_INSTALL = 'npm run services:install -- --only wrk (or: apt-get install -y wrk)';

export interface WrkRun {
  summary: WrkSummary;
  /** wrk's own user+system CPU seconds (/proc/<pid>/stat just before it is stopped), script set-up included. */
  cpuSeconds: number;
  /** The api server's CPU seconds during the run (/proc/<pid>/stat), when its pid was given. */
  serverCpuSeconds?: number;
}

export interface WrkCeilings {
  threads: number;
  connections: number;
  noop: WrkRun;
  seedReplay: WrkRun & {
    eventId: string;
    zones: number;
    seats: number;
    duplicates: number;
    /** Purchase answers per second (the /healthz fillers at the end are not counted). */
    throughput: number;
    /** Purchases sent but never answered (a socket error: wrk reconnects and does not re-send). */
    lost: number;
    /** Every purchase answered, one 201 per seat and a 409 per duplicate. */
    complete: boolean;
  };
}

export interface WrkTarget {
  url: string;
  /** The platform's Redis and key prefix: the event is created there, as the Node driver's are. */
  redis: ScriptedRedis;
  prefix: string;
  /** The api's pid, to read its CPU time around each run (optional). */
  serverPid?: number;
}

export interface WrkOptions {
  /** A fresh event id for the seed replay (its purchases sell seats): never the Node driver's. */
  eventId: string;
  zones?: number;
  duplicateRatio?: number;
  threads?: number;
  connections?: number;
  noopSeconds?: number;
  /** A cap on the seed replay; it stops by itself once every purchase is answered. */
  maxSeconds?: number;
  log?: (msg: string) => void;
}

/** wrk's path, or undefined when it is not on PATH. */
export function findWrk(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', 'wrk');
    if (existsSync(p)) return p;
  }
  return undefined;
}

let clockTicks: number | undefined;

/** utime+stime of a process (all its threads) in seconds, from /proc (Linux); undefined when unreadable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // fields 14 and 15 of stat(5)
  } catch {
    return undefined;
  }
}

/**
 * Runs wrk once and ends it with SIGINT (wrk then prints its summary): after `seconds`, or, with
 * `doneThreads`, once that many of the script's threads printed WRK_THREAD_DONE (seconds is then a
 * cap). wrk's CPU is read from /proc just before the SIGINT, its script set-up included.
 */
export async function runWrk(
  url: string,
  script: string,
  opts: {
    threads: number;
    connections: number;
    seconds: number;
    doneThreads?: number;
    scriptArgs?: string[];
    label: string;
    serverPid?: number;
  },
  log: (msg: string) => void,
): Promise<WrkRun> {
  const wrk = findWrk();
  if (!wrk) throw new Error(`wrk is not installed; ${WRK_INSTALL}`);
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds + 60}s`, // never reached: this function ends the run
    '--latency',
    '--timeout',
    '30s',
    '-s',
    path.join(SCRIPTS, script),
    `${url}/`,
    ...(opts.scriptArgs?.length ? ['--', ...opts.scriptArgs] : []),
  ];
  const serverBefore = opts.serverPid ? processCpuSeconds(opts.serverPid) : undefined;
  const started = Date.now();
  const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let done = 0;
  let cpuSeconds: number | undefined;
  let serverAfter: number | undefined;
  const stop = () => {
    if (cpuSeconds !== undefined) return;
    cpuSeconds = processCpuSeconds(child.pid!);
    serverAfter = opts.serverPid ? processCpuSeconds(opts.serverPid) : undefined;
    child.kill('SIGINT');
  };
  const timer = setTimeout(stop, opts.seconds * 1000);
  const heartbeat = setInterval(() => log(`  [${opts.label}] wrk running, ${Math.round((Date.now() - started) / 1000)} s`), 5000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        const text = d.toString();
        done += text.split('WRK_THREAD_DONE').length - 1;
        stderr += text;
        if (opts.doneThreads && done >= opts.doneThreads) stop();
      });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    if (code !== 0 || cpuSeconds === undefined)
      throw new Error(`wrk ${args.join(' ')} exited ${code} by itself: ${stderr.trim() || stdout.trim()}; run it by hand to see why`);
    return {
      summary: parseWrkOutput(stdout),
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      ...(serverBefore !== undefined && serverAfter !== undefined
        ? { serverCpuSeconds: Math.round((serverAfter - serverBefore) * 100) / 100 }
        : {}),
    };
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeat);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * wrk's no-op POST ceiling and seed-replay purchase ceiling on a running api. The event is created
 * with the Node driver's own fixture (load/driver/fixtures.ts createBenchEvent, Redis backend) and
 * removed afterwards. Resolves { skipped } when wrk is missing, so a bench goes on without it.
 */
export async function runWrkCeilings(target: WrkTarget, opts: WrkOptions): Promise<WrkCeilings | { skipped: string }> {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  if (!findWrk()) {
    const skipped = `wrk is not installed, its ceilings are skipped; to have them: ${WRK_INSTALL}`;
    log(skipped);
    return { skipped };
  }
  const threads = opts.threads ?? 2;
  const connections = opts.connections ?? 1000;
  const zones = opts.zones ?? 100;
  const ratio = opts.duplicateRatio ?? 1.1;
  const common = { threads, connections, ...(target.serverPid ? { serverPid: target.serverPid } : {}) };

  log(`wrk no-op POST ceiling: ${threads} threads, ${connections} connections, ${opts.noopSeconds ?? 10} s`);
  const noop = await runWrk(target.url, 'noop.lua', { ...common, seconds: opts.noopSeconds ?? 10, label: 'wrk noop' }, log);
  if (noop.summary.non2xx > 0 || noop.summary.socketErrors.timeout > 0)
    throw new Error(`wrk's POST /bench/noop got ${noop.summary.non2xx} non-2xx answers and ${noop.summary.socketErrors.timeout} timeouts`);

  const layout = seedLayout(zones);
  const seats = zones * 26 * 30;
  const duplicates = Math.round(seats * ratio);
  const event = await createBenchEvent(target.redis, target.prefix, opts.eventId, layout, 'redis');
  let run: WrkRun;
  try {
    log(`wrk seed replay on ${opts.eventId}: ${seats} seats + ${duplicates} duplicates`);
    run = await runWrk(
      target.url,
      'seed-replay.lua',
      {
        ...common,
        seconds: opts.maxSeconds ?? 300,
        doneThreads: threads,
        scriptArgs: [opts.eventId, String(threads), String(zones), String(ratio)],
        label: 'wrk seed-replay',
      },
      log,
    );
  } finally {
    await event.remove();
  }
  const script = run.summary.script;
  if (!script) throw new Error('load/wrk/seed-replay.lua printed no WRK_RESULT line; is it the script from this checkout?');
  const st = script.statuses;
  return {
    threads,
    connections,
    noop,
    seedReplay: {
      ...run,
      eventId: opts.eventId,
      zones,
      seats,
      duplicates,
      throughput: Math.round((script.purchases * 1e6) / Math.max(script.durationUs, 1)),
      lost: script.planned - script.purchases,
      complete: st['201'] === seats && st['409'] === duplicates && script.purchases === seats + duplicates,
    },
  };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  // wrk-compare imports this module back; by the time it calls in, this module is loaded.
  compareGenerators(values.quick ? 'quick' : 'full').then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `The wrk comparison failed: ${(err as Error).stack ?? String(err)}\nCheck npm run services:status and run npm run build first.\n`,
      );
      process.exit(1);
    },
  );
}
