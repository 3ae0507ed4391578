/**
 * node dist/bench/holds.js [--mode redis|http] [--seconds 5] [--clients 1000]: best-available
 * holds under contention, in a 780-seat zone (26 rows × 30) and a 10,000-seat zone (100 × 100).
 *
 * --mode redis (the default): against Redis directly (no HTTP), through Holds.best (best.lua).
 * Two phases per zone:
 *   - rush: every client asks for 2–4 best seats at the same instant (an on-sale opening);
 *   - churn: every client loops for --seconds: best 2–4, then releases, so seats keep coming back.
 * It reports holds/s (successful best holds) and the latency of one best.lua call as a client sees
 * it (p50/p99, queueing included), and fails (exit 1) if any seat was ever in two live holds, or
 * the counters do not equal the popcount afterwards. Every key is under a prefix of its own,
 * deleted at the end.
 *
 * --mode http: the same two phases through `POST /api/v1/events/{eventId}/holds {zoneId, best}`
 * and `DELETE /api/v1/holds/{holdId}` of an api it starts as a child process (as bench/run.ts
 * does; needs `npm run build`), each client a declared buyer of its own (bench/holds-http.ts);
 * --anonymous sends no buyer (no per-buyer allowance, no /me index), to see what those steps cost.
 * The api gets a key prefix and a topic prefix of its own, both deleted at the end.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createRedisClient, scanKeys, unlinkEach, type RedisClient } from '../src/shared/redis';
import type { ZoneDef } from '../src/catalog/model';
import { loadConfig } from '../src/config/config';
import { Holds, newHoldId } from '../src/inventory/holds';
import { Inventory, isTaken } from '../src/inventory/inventory';
import { ZoneLayout } from '../src/inventory/layout';
import { HoldCode, withScripts } from '../src/commands/scripts';
import { createLogger } from '../src/observability/logger';
import { createEventLog, topics } from '../src/stream/kafka';
import { startServer } from '../load/driver/server-process';
import { runHttpHolds, type HttpHoldsPhase } from './holds-http';
import { httpHoldsTable } from './report';

interface PhaseResult {
  zone: string;
  phase: 'rush' | 'churn';
  clients: number;
  attempts: number;
  holds: number;
  refused: number;
  seconds: number;
  holdsPerSecond: number;
  callsPerSecond: number;
  p50ms: number;
  p99ms: number;
  doubleHeld: number;
}

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'redis' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '1000' },
    anonymous: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
if (values.mode !== 'redis' && values.mode !== 'http') {
  process.stderr.write(`--mode ${values.mode}: use --mode redis (best.lua directly) or --mode http (through the api)\n`);
  process.exit(2);
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function phase(holds: Holds, eventId: string, zone: ZoneDef, kind: 'rush' | 'churn'): Promise<PhaseResult> {
  const layout = ZoneLayout.of(zone);
  const owner = new Map<number, string>(); // seat -> live hold; one connection, so replies come in execution order
  let doubleHeld = 0;
  let attempts = 0;
  let ok = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let rnd = 99;
  const count = () => ((rnd = (rnd * 48271) % 2147483647), 2 + (rnd % 3));

  async function one(): Promise<string[] | undefined> {
    const now = Date.now();
    const h = { holdId: newHoldId(eventId, zone.zoneId), buyer: '', expiresAt: now + 600_000, maxUntil: now + 7_200_000, info: '{}' };
    const t0 = performance.now();
    const r = await holds.best(eventId, zone.zoneId, layout, h, count());
    latencies.push(performance.now() - t0);
    attempts++;
    if (r.code !== HoldCode.OK) return undefined;
    ok++;
    for (const s of r.seats) {
      if (owner.has(s.offset)) doubleHeld++;
      owner.set(s.offset, h.holdId);
    }
    return [h.holdId, ...r.seats.map((s) => String(s.offset))];
  }

  async function client(): Promise<void> {
    if (kind === 'rush') return void (await one());
    while (performance.now() < until) {
      const got = await one();
      if (!got) continue;
      const [holdId, ...offsets] = got;
      for (const o of offsets) if (owner.get(Number(o)) === holdId) owner.delete(Number(o)); // before the release: no one can get them earlier
      await holds.release(eventId, zone.zoneId, holdId!);
    }
  }

  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    zone: `${layout.capacity} seats`,
    phase: kind,
    clients: CLIENTS,
    attempts,
    holds: ok,
    refused: attempts - ok,
    seconds: Number(seconds.toFixed(2)),
    holdsPerSecond: Math.round(ok / seconds),
    callsPerSecond: Math.round(attempts / seconds),
    p50ms: Number(quantile(latencies, 0.5).toFixed(1)),
    p99ms: Number(quantile(latencies, 0.99).toFixed(1)),
    doubleHeld,
  };
}

/** Counters equal the popcount and every taken seat is in exactly one live hold (held-by map). */
async function consistent(inventory: Inventory, holds: Holds, eventId: string, zone: ZoneDef): Promise<string[]> {
  const st = (await inventory.zoneState(eventId, zone.zoneId))!;
  const layout = ZoneLayout.of(zone);
  const held = await holds.heldSeats(eventId, zone.zoneId);
  const problems: string[] = [];
  let taken = 0;
  for (let k = 0; k < layout.capacity; k++) {
    if (!isTaken(st.bits, k)) continue;
    taken++;
    if (!held.has(k)) problems.push(`seat ${k} taken but in no hold`);
  }
  if (held.size !== taken) problems.push(`${held.size} held-by entries for ${taken} taken seats`);
  if (st.available !== layout.capacity - taken)
    problems.push(`available ${st.available} != capacity - popcount ${layout.capacity - taken}`);
  return problems;
}

async function dropPrefix(redis: RedisClient, prefix: string): Promise<void> {
  for await (const keys of scanKeys(redis, `${prefix}*`)) await unlinkEach(redis, keys);
}

/** What the figures were measured on: they mean little without it. */
function machineLine(): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, Node ${process.versions.node}, load average ${load} at the end; driver, api and Redis share the machine`;
}

/** --mode http: an api of its own (own key and topic prefixes), both phases in both zones through HTTP. */
async function http(): Promise<void> {
  const runId = String(Date.now());
  const cfg = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const prefix = `tp:bench-holds-http-${Date.now().toString(36)}:`;
  const topicPrefix = `bench-holds.${runId}`;
  const redis = withScripts(createRedisClient(cfg));
  const kafka = createEventLog(cfg, createLogger('warn', 'bench-holds'));
  let results: HttpHoldsPhase[] | undefined;
  try {
    const server = await startServer({ backend: 'redis', topicPrefix, env: { REDIS_KEY_PREFIX: prefix } });
    process.stderr.write(`api pid ${server.pid} at ${server.url}, key prefix ${prefix}\n`);
    const started = Date.now();
    try {
      results = await runHttpHolds({
        url: server.url,
        redis,
        prefix,
        runId,
        clients: CLIENTS,
        seconds: SECONDS,
        anonymous: values.anonymous,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stderr.write(`the phases took ${((Date.now() - started) / 1000).toFixed(1)} s (api start-up not counted)\n`);
    } finally {
      await server.stop();
    }
  } finally {
    await dropPrefix(redis, prefix);
    await kafka.deleteTopics(Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix }))).catch(() => undefined);
    await kafka.close();
    await redis.quit();
  }
  process.stdout.write(`${machineLine()}\n\n${httpHoldsTable(results ?? []).join('\n')}\n`);
  if (!results || results.length === 0 || results.some((r) => !r.correct)) process.exitCode = 1;
}

async function direct(): Promise<void> {
  const cfg = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const prefix = `tp:bench-holds-${Date.now().toString(36)}:`;
  const redis = withScripts(createRedisClient(cfg));
  const inventory = new Inventory(redis, prefix);
  const holds = new Holds(redis, prefix);
  const letters = (n: number) => Array.from({ length: n }, (_, i) => `R${i + 1}`);
  const zones: ZoneDef[] = [
    { zoneId: 'z780', name: '780 seats', rows: letters(26), seatCounts: letters(26).map(() => 30), priceCents: 5000 },
    { zoneId: 'z10k', name: '10,000 seats', rows: letters(100), seatCounts: letters(100).map(() => 100), priceCents: 5000 },
  ];
  const results: PhaseResult[] = [];
  let failed = false;
  try {
    for (const zone of zones) {
      for (const kind of ['rush', 'churn'] as const) {
        const eventId = `BenchHolds${kind}${Date.now().toString(36)}`;
        await inventory.initZone(eventId, zone);
        const r = await phase(holds, eventId, zone, kind);
        const problems = await consistent(inventory, holds, eventId, zone);
        if (r.doubleHeld > 0 || problems.length > 0) {
          failed = true;
          process.stderr.write(
            `INCORRECT ${zone.zoneId} ${kind}: ${r.doubleHeld} seats in two holds; ${problems.slice(0, 5).join('; ')}\n`,
          );
        }
        results.push(r);
        process.stderr.write(`${JSON.stringify(r)}\n`);
      }
    }
  } finally {
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
  process.stdout.write(`${machineLine()}\n\n`);
  process.stdout.write(
    '| zone | phase | clients | best calls | holds | holds/s | calls/s | p50 ms | p99 ms | seats in two holds |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n',
  );
  for (const r of results)
    process.stdout.write(
      `| ${r.zone} | ${r.phase} | ${r.clients} | ${r.attempts} | ${r.holds} | ${r.holdsPerSecond} | ${r.callsPerSecond} | ${r.p50ms} | ${r.p99ms} | ${r.doubleHeld} |\n`,
    );
  if (failed) process.exitCode = 1;
}

(values.mode === 'http' ? http() : direct()).catch((err: unknown) => {
  process.stderr.write(
    `The bench failed: ${(err as Error).stack ?? String(err)}\nCheck npm run services:status and run npm run build first.\n`,
  );
  process.exitCode = 1;
});
