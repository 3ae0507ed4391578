/**
 * The viewers benchmark (issue 15, "A viewers benchmark"; docs/live-seat-map.md, "Measured"):
 * N viewers of one zone on the change stream, then the same N polling the seats route every
 * second, while purchases run at a fixed rate; a fresh api process per phase.
 *
 *   node dist/bench/viewers.js [--quick]            the phases alone (npm run bench runs them too)
 *   node dist/bench/viewers.js --against http://127.0.0.1:8080 --viewers 2000 --purchases 50
 *       the "Done when" check against a running platform: every purchase reaches every stream
 *       viewer within 1 s (p99 over purchases of the latest viewer), nothing missed; exits 1 otherwise.
 *
 * Writes bench/results/<stamp>[-quick]-viewers.{json,md,svg} and latest[-quick]-viewers.*.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZoneLayout } from '../src/catalog/layout';
import { withScripts, type ScriptedRedis } from '../src/commands/scripts';
import { loadConfig } from '../src/config/config';
import { liveKeys } from '../src/live/zone-log';
import { createLogger } from '../src/observability/logger';
import { createRedisClient } from '../src/shared/redis';
import { createSqlClient } from '../src/shared/sql';
import { createEventLog, topics } from '../src/stream/kafka';
import { createBenchEvent } from '../load/driver/fixtures';
import { startServer } from '../load/driver/server-process';
import { ROW_LABELS } from '../load/scenarios/layout';
import { listenerPid } from './costs';
import { describeMachine } from './machine';
import { forgetStoredEvents } from './stores';
import { runViewersPhase, type ViewersPhaseResult, type ViewersPhaseSpec } from './viewers-phase';
import { viewersMarkdown, viewersSvg, type ViewersResult } from './viewers-report';

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** The seed venue's zone (Venue1: rows A–Z, 30 seats a row), the zone a seat-map page shows. */
const ZONE = { zoneId: 'live', rows: ROW_LABELS, seatsPerRow: 30 };
const WARM_ZONE = { zoneId: 'warm', rows: ROW_LABELS.slice(0, 4), seatsPerRow: 30 };
const LAYOUT = new ZoneLayout(
  ZONE.rows,
  ZONE.rows.map(() => ZONE.seatsPerRow),
);

export const VIEWERS_SETTINGS = {
  quick: { sizes: [200, 1000], rate: 20, purchases: 80, idleMs: 2000 },
  full: { sizes: [1000, 10_000], rate: 20, purchases: 200, idleMs: 3000 },
} as const;

/** The soft limit on open files of this process (the api and viewer processes inherit it). */
export function openFilesLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
  }
}

/** File descriptors the api needs beside its viewers (Redis, Kafka, its own files, the driver's connections). */
const FD_HEADROOM = 512;

/** The largest viewer count this machine's open-files limit allows, with what to do when it cuts a size. */
function fitToLimit(sizes: readonly number[], limit: number, notes: string[]): number[] {
  const most = limit - FD_HEADROOM;
  return sizes.map((n) => {
    if (n <= most) return n;
    const msg = `${n.toLocaleString('en-US')} viewers need ${(n + FD_HEADROOM).toLocaleString('en-US')} open files in the api process, but ulimit -n is ${limit}: measured ${most.toLocaleString('en-US')} instead. Raise it (ulimit -n 65536 in the shell that runs the bench, within ulimit -Hn; in a container, --ulimit nofile=65536:65536) and run again.`;
    log(`WARNING ${msg}`);
    notes.push(msg);
    return most;
  });
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

async function warmUp(url: string, eventId: string): Promise<void> {
  // JIT and connections of the purchase and seats paths, on a zone of its own (not measured).
  const buy = (i: number) =>
    fetch(`${url}/api/v1/events/${eventId}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: `vwarm${i}`, zoneId: WARM_ZONE.zoneId, seats: [{ row: 'A', column: i + 1 }] }),
    }).then((r) => r.arrayBuffer());
  for (let i = 0; i < 30; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => buy(i + k)));
  const read = (enc: string) =>
    fetch(`${url}/api/v1/events/${eventId}/zones/${WARM_ZONE.zoneId}/seats`, { headers: { 'accept-encoding': enc } }).then((r) =>
      r.arrayBuffer(),
    );
  for (let i = 0; i < 20; i++) await Promise.all([read('br'), read('identity')]);
}

/** Removes what a phase left: the event (zones, purchases, allowances, catalog) and the zones' change logs. */
async function forgetEvent(redis: ScriptedRedis, prefix: string, ev: { eventId: string; remove(): Promise<void> }) {
  await ev.remove();
  for (const zoneId of [ZONE.zoneId, WARM_ZONE.zoneId]) {
    const k = liveKeys(prefix, ev.eventId, zoneId);
    await redis.unlink(k.lease, k.seq, k.log, k.picture);
  }
}

export interface ViewersBenchOptions {
  mode: 'quick' | 'full';
  runId: string;
  redis: ScriptedRedis;
  prefix: string;
  /** Kafka topic prefix of the phases' api processes; the caller deletes the topics. */
  topicPrefix: string;
  machine: Record<string, unknown>;
  /** Viewer counts instead of the mode's. */
  sizes?: number[];
  /** Only these viewer kinds (default both); the purchases-only phase always runs. */
  kinds?: ('stream' | 'poll')[];
}

/** Every phase, each on a fresh api process and an event of its own: purchases only, then per size stream and polling. */
export async function runViewersBench(o: ViewersBenchOptions): Promise<ViewersResult> {
  const started = new Date();
  const s = VIEWERS_SETTINGS[o.mode];
  const notes: string[] = [];
  const fdLimit = openFilesLimit();
  const sizes = fitToLimit(o.sizes ?? s.sizes, fdLimit, notes);
  log(`viewers of one zone: ${sizes.join(', ')} viewers, stream then polling, purchases at ${s.rate}/s (ulimit -n ${fdLimit})`);
  const plan: { mode: ViewersPhaseSpec['mode']; viewers: number }[] = [
    { mode: 'none', viewers: 0 },
    ...sizes.flatMap((n) => (o.kinds ?? (['stream', 'poll'] as const)).map((mode) => ({ mode, viewers: n }))),
  ];
  const phases: ViewersPhaseResult[] = [];
  let octet = 10 + (Number(o.runId.slice(-3)) % 100);
  for (const step of plan) {
    const label = `${step.viewers.toLocaleString('en-US')} viewers, ${step.mode === 'none' ? 'purchases only' : step.mode}`;
    const server = await startServer({
      backend: 'redis',
      topicPrefix: o.topicPrefix,
      env: { LIVE_MAX_VIEWERS: String(Math.max(10_000, step.viewers)) },
    });
    const eventId = `BenchViewers${o.runId}-${step.mode}${step.viewers}`;
    const ev = await createBenchEvent(o.redis, o.prefix, eventId, { zones: [ZONE, WARM_ZONE] }, 'redis');
    try {
      log(`${label} (api pid ${server.pid})`);
      await warmUp(server.url, eventId);
      const r = await runViewersPhase({
        mode: step.mode,
        viewers: step.viewers,
        url: server.url,
        pid: server.pid,
        eventId,
        zoneId: ZONE.zoneId,
        layout: LAYOUT,
        rate: s.rate,
        purchases: s.purchases,
        idleMs: s.idleMs,
        buyerPrefix: `vb${o.runId}-`,
        addressOctet: octet++,
        // An overloaded api answers polls late: give them longer before counting a seat missed.
        drainMs: step.mode === 'poll' ? 10_000 : 5000,
        log,
      });
      log(summary(r));
      phases.push(r);
    } catch (err) {
      log(`FAIL ${label}: ${(err as Error).message}`);
      notes.push(`${label} failed: ${(err as Error).message}`);
    } finally {
      await server.stop();
      await forgetEvent(o.redis, o.prefix, ev).catch((err: Error) => log(`could not remove ${eventId}: ${err.message}`));
    }
  }
  const machine = { ...o.machine, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) };
  return {
    runId: o.runId,
    startedAt: started.toISOString(),
    size: o.mode,
    durationSec: Math.round((Date.now() - started.getTime()) / 1000),
    machine,
    zone: { seats: LAYOUT.capacity, layout: `${ZONE.rows.length} rows × ${ZONE.seatsPerRow}, the seed venue's zone` },
    rate: s.rate,
    purchasesPerPhase: s.purchases,
    fdLimit,
    phases,
    notes,
    correct: phases.length === plan.length && phases.every((p) => p.correct),
  };
}

export function summary(r: ViewersPhaseResult): string {
  const l = r.latency;
  return `${r.correct ? 'OK  ' : 'FAIL'} ${r.viewers} ${r.mode}: ${r.purchases} purchases, api CPU ${r.api?.cpuPercent ?? '?'} %, RSS ${r.api?.rssBeforeMiB ?? '?'} → ${r.api?.rssAfterMiB ?? '?'} MiB${r.mode === 'poll' ? `, ${r.requestsPerSecond} req/s` : ''}${r.mode === 'none' ? '' : `, 201 → every viewer p50 ${l.purchaseP50} / p99 ${l.purchaseP99} ms (each viewer p50 ${l.pairP50} / p99 ${l.pairP99} ms), missed ${r.missed.seqGaps + r.missed.unseenPairs + r.missed.dropped + r.missed.openFailed}`}, viewers' CPU ${r.driverCpuPercent} %${r.correct ? '' : `\n     ${r.problems.join('\n     ')}`}`;
}

/** Writes <base>-viewers.{json,md,svg} and <latest>-viewers.* into `out`. */
export function writeViewersFiles(out: string, base: string, latest: string, r: ViewersResult): string {
  mkdirSync(out, { recursive: true });
  const files = (chart: string) => ({
    json: `${JSON.stringify(r, null, 2)}\n`,
    md: `${viewersMarkdown(r, chart)}\n`,
    svg: `${viewersSvg(r)}\n`,
  });
  for (const name of [base, latest])
    for (const [ext, text] of Object.entries(files(`${name}-viewers.svg`))) writeFileSync(path.join(out, `${name}-viewers.${ext}`), text);
  return viewersMarkdown(r, `${latest}-viewers.svg`);
}

/** The "Done when" check: `viewers` stream viewers of one zone of a running platform, `purchases` purchases through its API. */
async function against(url: string, viewers: number, purchases: number, rate: number, pidArg?: string): Promise<number> {
  const cfg = loadConfig();
  const redis = withScripts(createRedisClient(cfg));
  const runId = String(Date.now());
  const fdLimit = openFilesLimit();
  if (viewers + 256 > fdLimit) {
    log(
      `ulimit -n is ${fdLimit}: ${viewers} viewers need about ${viewers + 256} open files here (and as many in the api). Raise it (ulimit -n 65536) and run again.`,
    );
    return 2;
  }
  const port = Number(new URL(url).port || 80);
  const pid = pidArg ? Number(pidArg) : listenerPid(port);
  const eventId = `BenchViewersCheck${runId}`;
  log(
    `against ${url} (api pid ${pid ?? 'unknown: no CPU/RSS figures'}): ${viewers} stream viewers, ${purchases} purchases at ${rate}/s, event ${eventId}`,
  );
  const ev = await createBenchEvent(redis, cfg.REDIS_KEY_PREFIX, eventId, { zones: [ZONE, WARM_ZONE] }, 'redis');
  let result: ViewersPhaseResult | undefined;
  try {
    // The api's catalog cache sees a new event within its TTL (1 s).
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${url}/api/v1/events/${eventId}`).then((r) => r.status)) !== 200) {
      if (Date.now() > deadline)
        throw new Error(
          `${url} does not serve ${eventId}: is it using REDIS_URL ${cfg.REDIS_URL} and REDIS_KEY_PREFIX ${cfg.REDIS_KEY_PREFIX}?`,
        );
      await sleep(200);
    }
    await warmUp(url, eventId);
    result = await runViewersPhase({
      mode: 'stream',
      viewers,
      url,
      ...(pid ? { pid } : {}),
      eventId,
      zoneId: ZONE.zoneId,
      layout: LAYOUT,
      rate,
      purchases,
      buyerPrefix: `vc${runId}-`,
      addressOctet: 10 + (Number(runId.slice(-3)) % 100),
      log,
    });
  } finally {
    // The api's feed of the zone lingers 5 s after its last viewer and holds the writer lease: wait it out, then delete.
    const lease = liveKeys(cfg.REDIS_KEY_PREFIX, eventId, ZONE.zoneId).lease;
    const until = Date.now() + 15_000;
    while ((await redis.exists(lease)) && Date.now() < until) await sleep(250);
    await forgetEvent(redis, cfg.REDIS_KEY_PREFIX, ev).catch((err: Error) => log(`could not remove ${eventId}: ${err.message}`));
    await forgetStoredEvents(cfg, [eventId]).catch(() => undefined);
    await redis.quit();
  }
  log(summary(result));
  const p99 = result.latency.purchaseP99;
  // Missed: seqs a viewer never received, (viewer, purchase) pairs never seen, streams dropped; refused viewers apart.
  const missed = result.missed.seqGaps + result.missed.unseenPairs + result.missed.dropped;
  const failures = [
    ...(result.purchases < purchases ? [`only ${result.purchases} of ${purchases} purchases answered 201`] : []),
    ...(missed > 0 ? [`${missed} changes missed (seq gaps, seats never seen by a viewer, dropped streams)`] : []),
    ...(p99 === null || p99 > 1000
      ? [`p99 201 → every viewer is ${p99 ?? 'never (some viewers never saw a seat)'} ms, over 1,000 ms`]
      : []),
    ...result.problems,
  ];
  const verdict = failures.length === 0 ? 'PASS' : 'FAIL';
  process.stdout.write(
    `${verdict}: ${viewers} stream viewers, ${result.purchases} purchases: 201 → every viewer p50 ${result.latency.purchaseP50} ms, p99 ${p99} ms (max ${result.latency.purchaseMax} ms); each viewer p50 ${result.latency.pairP50} / p99 ${result.latency.pairP99} ms over ${result.latency.pairs} pairs; missed ${missed}; not open ${result.missed.openFailed}${result.api ? `; api CPU ${result.api.cpuPercent} % of a core, RSS ${result.api.rssBeforeMiB} → ${result.api.rssAfterMiB} MiB` : ''}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n${failures.map((f) => `  - ${f}\n`).join('')}`,
  );
  return failures.length === 0 ? 0 : 1;
}

function kindsOf(v: string): ('stream' | 'poll')[] {
  const kinds = v.split(',');
  for (const k of kinds) if (k !== 'stream' && k !== 'poll') throw new Error(`--kinds takes stream, poll or stream,poll, not ${v}`);
  return kinds as ('stream' | 'poll')[];
}

const USAGE = `Usage:
  node dist/bench/viewers.js [--quick] [--sizes 1000,10000] [--kinds stream,poll] [--out DIR]
      the viewers benchmark: a fresh api per phase, stream then 1 s polling per size (also part of npm run bench)
  node dist/bench/viewers.js --against URL [--viewers 2000] [--purchases 50] [--rate 20] [--pid PID]
      the "Done when" check against a running platform (npm start: http://127.0.0.1:8080); exits 1 when
      the p99 over purchases of 201 → every viewer is over 1 s or any change is missed.
REDIS_URL, REDIS_KEY_PREFIX, KAFKA_BROKERS come from the environment as for the server.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      kinds: { type: 'string' },
      against: { type: 'string' },
      viewers: { type: 'string', default: '2000' },
      purchases: { type: 'string', default: '50' },
      rate: { type: 'string', default: '20' },
      pid: { type: 'string' },
      out: { type: 'string', default: path.resolve(__dirname, '..', '..', 'bench', 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const int = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not ${v}\n${USAGE}`);
    return n;
  };
  if (values.against)
    return against(
      values.against.replace(/\/$/, ''),
      int(values.viewers, '--viewers'),
      int(values.purchases, '--purchases'),
      int(values.rate, '--rate'),
      values.pid,
    );

  const mode = values.quick ? 'quick' : 'full';
  const started = new Date();
  const runId = String(started.getTime());
  const cfg = loadConfig();
  const redis = withScripts(createRedisClient(cfg));
  const sql = createSqlClient(cfg.MYSQL_URL, { connections: 1 });
  const kafka = createEventLog(cfg, createLogger('warn', 'bench'));
  const topicPrefix = `bench.${runId}.viewers`;
  try {
    const machine = await describeMachine(redis, sql);
    const r = await runViewersBench({
      mode,
      runId,
      redis,
      prefix: cfg.REDIS_KEY_PREFIX,
      topicPrefix,
      machine,
      ...(values.sizes ? { sizes: values.sizes.split(',').map((x) => int(x, '--sizes')) } : {}),
      ...(values.kinds ? { kinds: kindsOf(values.kinds) } : {}),
    });
    const base = `${stamp(started)}${mode === 'quick' ? '-quick' : ''}`;
    const latest = mode === 'quick' ? 'latest-quick' : 'latest';
    log(`\n${writeViewersFiles(values.out, base, latest, r)}`);
    log(`wrote ${path.join(values.out, base)}-viewers.{json,md,svg} and ${latest}-viewers.* in ${r.durationSec} s`);
    if (!r.correct) log('INCORRECT: at least one phase failed its checks (see above); the bench fails.');
    return r.correct ? 0 : 1;
  } finally {
    await kafka.deleteTopics(Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix }))).catch(() => undefined);
    await kafka.close();
    await sql.close();
    await redis.quit();
  }
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(
        `The viewers benchmark failed: ${(err as Error).stack ?? String(err)}\nCheck npm run services:status and run npm run build first.`,
      );
      process.exit(1);
    },
  );
