/**
 * The waiting room under a burst (issue 17, "A burst benchmark in the load lab"), against a
 * running api (bench/run.ts starts one as a child process; this file's main starts its own):
 *   1. joins: `joins` distinct buyers join one queued event at once (closed loop, `clients`
 *      connections), in its pre-queue (the opening is an hour ahead): joins/s, p50/p99;
 *   2. polls: `polls` position reads of random places in that full line: polls/s, p50/p99;
 *   3. admission: `buyers` buyers join a second event (activeBuyers `active`), poll their place,
 *      and once admitted hold one seat and pay it with their Admission-Token: admissions/s and
 *      the time to sell out.
 * Checks: nobody admitted twice, activeBuyers never exceeded (sampled every 20 ms in Redis),
 * admission order = join order after the opening, and the pre-queue order a random permutation
 * (Spearman's |rho| against join order below 7/sqrt(n - 1): 7 sigma). Then the hot path's
 * own costs in this process: the rate-limit check, and the admission gate on an open and on a
 * queued event (µs per call).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import type { Request } from 'express';
import { Admission } from '../src/admission/admission';
import { queueKeys } from '../src/admission/keys';
import { AdmissionQueue, type StoredEntry } from '../src/admission/queue';
import { RateLimiter } from '../src/admission/rate-limit';
import { AdmissionTokens } from '../src/admission/tokens';
import { CatalogCache } from '../src/catalog/cache';
import type { AdmissionDef } from '../src/catalog/model';
import { CatalogStore } from '../src/catalog/store';
import { loadConfig } from '../src/config/config';
import { withScripts, type ScriptedRedis } from '../src/commands/scripts';
import { Inventory } from '../src/inventory/inventory';
import { deleteEventAllowances } from '../src/inventory/allowance';
import { benchEntry } from '../load/driver/fixtures';
import { startServer } from '../load/driver/server-process';
import { createLogger } from '../src/observability/logger';
import { createRedisClient, scanKeys } from '../src/shared/redis';
import { queueSettingsOf } from '../src/admission/settings';
import { createEventLog, topics } from '../src/stream/kafka';

export interface WaitingRoomOptions {
  url: string;
  redis: ScriptedRedis;
  prefix: string;
  runId: string;
  joins: number;
  polls: number;
  buyers: number;
  active: number;
  clients: number;
  log: (line: string) => void;
}

interface Rate {
  requests: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

export interface WaitingRoomFigures {
  joins: Rate;
  polls: Rate;
  admission: {
    buyers: number;
    activeBuyers: number;
    seconds: number;
    admissionsPerSecond: number;
    /** hold + pay of one admitted buyer, as the buyer sees it. */
    holdPayP50ms: number;
    holdPayP99ms: number;
    maxActiveSampled: number;
    samples: number;
  };
  prequeueSpearman: number;
  /** µs per call: wall time alone (a Redis round trip), wall time at 64 at once, this process's CPU per call. */
  costs: {
    rateLimitMicros: number;
    rateLimitConcurrentMicros: number;
    rateLimitCpuMicros: number;
    openGateMicros: number;
    queuedGateMicros: number;
    queuedGateCpuMicros: number;
  };
  correct: boolean;
  problems: string[];
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** `count` calls by `clients` workers at once; each call's latency is measured. */
async function closedLoop(count: number, clients: number, one: (i: number) => Promise<boolean>): Promise<Rate> {
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const s = performance.now();
        if (!(await one(i))) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    requests: count,
    perSecond: Math.round(count / secs),
    p50ms: round(quantile(lat, 0.5)),
    p99ms: round(quantile(lat, 0.99)),
    errors,
  };
}

async function request(
  pool: Pool,
  method: 'GET' | 'POST',
  path: string,
  user: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await pool.request({
    method,
    path,
    headers: { 'x-user-id': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: (await res.body.json().catch(() => ({}))) as Record<string, unknown> };
}

function spearman(ranks: number[]): number {
  const n = ranks.length;
  const d2 = ranks.reduce((s, r, i) => s + (r - i) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

async function queuedEvent(o: WaitingRoomOptions, eventId: string, admission: AdmissionDef, salesOpensAt: string, seats: number) {
  const rows = Array.from({ length: Math.max(1, Math.ceil(seats / 100)) }, (_, i) => `R${i + 1}`);
  const entry = benchEntry(eventId, { zones: [{ zoneId: '1', rows, seatsPerRow: 100 }] });
  entry.event = { ...entry.event, salesOpensAt, admission, perUserLimit: 10 };
  const catalog = new CatalogStore(o.redis, o.prefix);
  const inventory = new Inventory(o.redis, o.prefix);
  await catalog.putEvent(entry);
  await inventory.initZone(eventId, entry.venue.zones[0]!);
  return async () => {
    await inventory.deleteZone(eventId, '1');
    await deleteEventAllowances(o.redis, o.prefix, eventId);
    await new AdmissionQueue(o.redis, o.prefix, 1000).clear(eventId);
    await catalog.deleteEvent(eventId);
    await catalog.deleteVenue(entry.venue.venueId);
  };
}

export async function runWaitingRoom(o: WaitingRoomOptions): Promise<WaitingRoomFigures> {
  const pool = new Pool(o.url, { connections: o.clients, pipelining: 1 });
  const problems: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    // 1. The burst: every join in the pre-queue (the opening is an hour ahead).
    const burst = `BenchQueue${o.runId}-burst`;
    cleanups.push(
      await queuedEvent(
        o,
        burst,
        { mode: 'queue', activeBuyers: 1000, sessionSeconds: 600, prequeueOpensAt: new Date(Date.now() - 60_000).toISOString() },
        new Date(Date.now() + 3600_000).toISOString(),
        100,
      ),
    );
    await closedLoop(Math.min(o.clients, 500), o.clients, async () =>
      (await pool.request({ method: 'POST', path: '/bench/noop' })).body.dump().then(() => true),
    );
    const queueIds: string[] = new Array<string>(o.joins);
    o.log(`waiting room: ${o.joins} joins in a burst, ${o.clients} clients`);
    const joins = await closedLoop(o.joins, o.clients, async (i) => {
      const r = await request(pool, 'POST', `/api/v1/events/${burst}/queue`, `wr${o.runId}-${i}`);
      queueIds[i] = String(r.body.queueId);
      return r.status === 202;
    });
    o.log(`     joins: ${joins.perSecond}/s, p50 ${joins.p50ms} ms, p99 ${joins.p99ms} ms, ${joins.errors} errors`);
    if (joins.errors) problems.push(`${joins.errors} joins were not 202`);
    // The pre-queue's order at the opening is the wait set's: compare it with join order (seq).
    const line = await o.redis.zrange(queueKeys(o.prefix, burst).wait, '0', '-1');
    if (line.length !== o.joins) problems.push(`the line holds ${line.length} places for ${o.joins} joins`);
    const rho = spearman(line.map((q) => Number(q.split('-')[0]) - 1));
    const bound = 7 / Math.sqrt(Math.max(1, line.length - 1));
    if (!(Math.abs(rho) < bound)) problems.push(`pre-queue order against join order: Spearman rho ${rho} (random: |rho| < ${bound})`);

    // 2. Position polls of that line.
    o.log(`waiting room: ${o.polls} position polls`);
    let seed = 12345;
    const pick = () => ((seed = (seed * 48271) % 2147483647), seed % o.joins);
    const polls = await closedLoop(o.polls, o.clients, async () => {
      const i = pick();
      const r = await request(pool, 'GET', `/api/v1/events/${burst}/queue/${queueIds[i]}`, `wr${o.runId}-${i}`);
      return r.status === 200 && r.body.status === 'WAITING';
    });
    o.log(`     polls: ${polls.perSecond}/s, p50 ${polls.p50ms} ms, p99 ${polls.p99ms} ms, ${polls.errors} errors`);
    if (polls.errors) problems.push(`${polls.errors} polls did not answer WAITING`);

    // 3. Admission of `buyers` who each hold and pay.
    const sale = `BenchQueue${o.runId}-sale`;
    cleanups.push(
      await queuedEvent(
        o,
        sale,
        { mode: 'queue', activeBuyers: o.active, sessionSeconds: 600 },
        new Date(Date.now() - 60_000).toISOString(),
        o.buyers,
      ),
    );
    const k = queueKeys(o.prefix, sale);
    let sampling = true;
    let samples = 0;
    let maxActive = 0;
    const sampler = (async () => {
      while (sampling) {
        maxActive = Math.max(maxActive, await o.redis.zcard(k.active));
        samples++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    o.log(`waiting room: ${o.buyers} buyers, activeBuyers ${o.active}, each holds and pays once admitted`);
    const holdPay: number[] = [];
    const started = performance.now();
    const joinedIds: string[] = [];
    // Join one after another (join order is then known), then everyone waits at once.
    for (let i = 0; i < o.buyers; i++) {
      const r = await request(pool, 'POST', `/api/v1/events/${sale}/queue`, `ws${o.runId}-${i}`);
      if (r.status !== 202) problems.push(`buyer ${i} join: ${r.status} ${JSON.stringify(r.body)}`);
      joinedIds.push(String(r.body.queueId));
    }
    await Promise.all(
      joinedIds.map(async (queueId, i) => {
        const user = `ws${o.runId}-${i}`;
        let token: string | undefined;
        for (let tries = 0; !token && tries < 3000; tries++) {
          const s = await request(pool, 'GET', `/api/v1/events/${sale}/queue/${queueId}`, user);
          if (s.body.status === 'ADMITTED') token = String(s.body.admissionToken);
          else await new Promise((r) => setTimeout(r, 100 + (i % 7) * 20));
        }
        if (!token) return void problems.push(`${user} was never admitted`);
        const t0 = performance.now();
        const seat = { row: `R${Math.floor(i / 100) + 1}`, column: (i % 100) + 1 };
        const h = await request(
          pool,
          'POST',
          `/api/v1/events/${sale}/holds`,
          user,
          { zoneId: '1', seats: [seat] },
          { 'admission-token': token },
        );
        if (h.status !== 201) return void problems.push(`${user} hold: ${h.status} ${JSON.stringify(h.body).slice(0, 200)}`);
        const p = await request(
          pool,
          'POST',
          `/api/v1/holds/${String(h.body.holdId)}/purchase`,
          user,
          { payment: { provider: 'test', token: 'tok_visa' } },
          { 'admission-token': token },
        );
        holdPay.push(performance.now() - t0);
        if (p.status !== 201) problems.push(`${user} pay: ${p.status} ${JSON.stringify(p.body).slice(0, 200)}`);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    const order = await o.redis.lrange(k.order, 0, -1);
    if (order.length !== o.buyers) problems.push(`${order.length} admissions for ${o.buyers} buyers`);
    if (new Set(order).size !== order.length) problems.push('a place was admitted twice');
    const seqs = order.map((q) => Number(q.split('-')[0]));
    if (seqs.some((s, i) => i > 0 && s < seqs[i - 1]!)) problems.push('admission order is not join order');
    const entries = (await o.redis.hvals(k.entries)).map((e) => JSON.parse(e) as StoredEntry);
    if (new Set(entries.map((e) => e.b)).size !== entries.length) problems.push('a buyer has two places');
    if (maxActive > o.active) problems.push(`${maxActive} sessions were active at once (activeBuyers ${o.active})`);
    holdPay.sort((a, b) => a - b);
    o.log(
      `     admission: ${o.buyers} buyers in ${round(seconds)} s (${Math.round(o.buyers / seconds)} admissions/s), max ${maxActive} active in ${samples} samples`,
    );

    const costs = await hotPathCosts(o, sale);
    o.log(
      `     costs: rate limit ${costs.rateLimitMicros} µs alone, ${costs.rateLimitConcurrentMicros} µs/check at 64 at once, ${costs.rateLimitCpuMicros} µs CPU; gate: open event ${costs.openGateMicros} µs, queued ${costs.queuedGateMicros} µs (${costs.queuedGateCpuMicros} µs CPU)`,
    );
    return {
      joins,
      polls,
      admission: {
        buyers: o.buyers,
        activeBuyers: o.active,
        seconds: round(seconds),
        admissionsPerSecond: Math.round(o.buyers / seconds),
        holdPayP50ms: round(quantile(holdPay, 0.5)),
        holdPayP99ms: round(quantile(holdPay, 0.99)),
        maxActiveSampled: maxActive,
        samples,
      },
      prequeueSpearman: round(rho, 4),
      costs,
      correct: problems.length === 0,
      problems: problems.slice(0, 20),
    };
  } finally {
    await pool.close();
    for (const c of cleanups) await c().catch((err: Error) => o.log(`cleanup failed: ${err.message}`));
  }
}

/** The hot path's own costs in this process against the same Redis (µs per call, mean of many). */
async function hotPathCosts(o: WaitingRoomOptions, queuedEventId: string) {
  const prefix = `${o.prefix}bench-costs:${o.runId}:`;
  const limiter = new RateLimiter(
    o.redis,
    prefix,
    new Map([['seed', { buyer: { perSecond: 1e6, burst: 1e6 }, client: { perSecond: 1e6, burst: 1e6 } }]]),
    createLogger('warn', 'bench'),
  );
  const req = { ip: '10.0.0.1', socket: {}, get: () => undefined, res: undefined } as unknown as Request;
  const time = async (n: number, concurrent: number, one: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await one(i); // warm
    let next = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrent }, async () => {
        for (let i = next++; i < n; i = next++) await one(i);
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    return { wall: round(((performance.now() - t0) * 1000) / n), cpu: round((cpu.user + cpu.system) / n) };
  };
  // Wall time alone is one Redis round trip; at 64 at once, the time per check and this process's CPU per check.
  const rateLimitMicros = (await time(2000, 1, (i) => limiter.check(req, 'seed', `b${i % 50}`))).wall;
  const concurrentLimit = await time(20_000, 64, (i) => limiter.check(req, 'seed', `b${i % 500}`));
  const rateLimitConcurrentMicros = concurrentLimit.wall;
  const rateLimitCpuMicros = concurrentLimit.cpu;
  const catalog = new CatalogCache(new CatalogStore(o.redis, o.prefix));
  const queue = new AdmissionQueue(o.redis, o.prefix, 3600_000);
  const tokens = await AdmissionTokens.start(o.redis, o.prefix, loadConfig().ADMISSION_TOKEN_SECRET);
  const admission = new Admission(queue, tokens, catalog, createLogger('warn', 'bench'));
  // An open event: the gate is one look at the in-process catalog cache.
  const openId = `BenchQueue${o.runId}-open`;
  const store = new CatalogStore(o.redis, o.prefix);
  await store.putEvent(benchEntry(openId, { zones: [{ zoneId: '1', rows: ['A'], seatsPerRow: 1 }] }));
  const plain = { get: () => undefined } as unknown as Request;
  const openGateMicros = (await time(100_000, 1, () => admission.require(plain, openId, 'x'))).wall;
  await store.deleteEvent(openId);
  await store.deleteVenue(`V${openId}`);
  // A queued event: verify the JWT and read the live session (one HGET).
  const settings = queueSettingsOf((await catalog.get(queuedEventId))?.entry.event);
  if (!settings) throw new Error(`${queuedEventId} is not a queued event`);
  const joined = await queue.join(settings, 'bench-gate');
  let queuedGateMicros = 0;
  let queuedGateCpuMicros = 0;
  if (joined.visit.state === 'ADMITTED') {
    const token = await tokens.sign({
      buyer: 'bench-gate',
      eventId: queuedEventId,
      queueId: joined.visit.queueId,
      jti: joined.visit.jti,
      expiresAt: joined.visit.sessionEndsAt,
    });
    const withToken = { get: (h: string) => (h === 'admission-token' ? token : undefined) } as unknown as Request;
    queuedGateMicros = (await time(5000, 1, () => admission.require(withToken, queuedEventId, 'bench-gate'))).wall;
    queuedGateCpuMicros = (await time(5000, 64, () => admission.require(withToken, queuedEventId, 'bench-gate'))).cpu;
  }
  await dropPrefix(o.redis, prefix);
  return { rateLimitMicros, rateLimitConcurrentMicros, rateLimitCpuMicros, openGateMicros, queuedGateMicros, queuedGateCpuMicros };
}

export function waitingRoomTable(f: WaitingRoomFigures): string[] {
  return [
    '| waiting room | requests | per second | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| joins in a burst (pre-queue) | ${f.joins.requests} | ${f.joins.perSecond} | ${f.joins.p50ms} | ${f.joins.p99ms} |`,
    `| position polls (line of ${f.joins.requests}) | ${f.polls.requests} | ${f.polls.perSecond} | ${f.polls.p50ms} | ${f.polls.p99ms} |`,
    `| admitted, held and paid (activeBuyers ${f.admission.activeBuyers}) | ${f.admission.buyers} | ${f.admission.admissionsPerSecond} admissions/s | ${f.admission.holdPayP50ms} (hold + pay) | ${f.admission.holdPayP99ms} |`,
    '',
    `Checks: ${f.correct ? 'all passed' : `FAILED: ${f.problems.join('; ')}`} (at most ${f.admission.maxActiveSampled} of ${f.admission.activeBuyers} sessions active in ${f.admission.samples} samples; nobody admitted twice; admission order = join order; pre-queue Spearman rho ${f.prequeueSpearman}). ` +
      `Hot path: rate-limit check ${f.costs.rateLimitMicros} µs alone (one Redis round trip), ${f.costs.rateLimitConcurrentMicros} µs per check at 64 at once, ${f.costs.rateLimitCpuMicros} µs of api CPU per check; admission gate ${f.costs.openGateMicros} µs on an open event (no Redis), ${f.costs.queuedGateMicros} µs on a queued one (JWT + one HGET), ${f.costs.queuedGateCpuMicros} µs of CPU.`,
  ];
}

/** One key per UNLINK: the keys of a prefix span every slot on a cluster. */
async function dropPrefix(redis: ScriptedRedis, prefix: string): Promise<void> {
  for await (const keys of scanKeys(redis, `${prefix}*`)) await Promise.all(keys.map((key) => redis.unlink(key)));
}

export const WAITING_ROOM_SIZES = {
  quick: { joins: 10_000, polls: 10_000, buyers: 200, active: 50, clients: 200 },
  full: { joins: 100_000, polls: 100_000, buyers: 1000, active: 100, clients: 500 },
} as const;

/**
 * The phase with an api of its own (a child process: the driver never shares its event loop),
 * under a key prefix and a topic prefix of its own, both deleted afterwards.
 */
export async function runWaitingRoomLab(size: 'quick' | 'full', runId: string, log: (l: string) => void): Promise<WaitingRoomFigures> {
  const cfg = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const prefix = `tp:bench-queue-${runId}:`;
  const topicPrefix = `bench-queue.${runId}`;
  const redis = withScripts(createRedisClient(cfg));
  const kafka = createEventLog(cfg, createLogger('warn', 'bench-queue'));
  try {
    const server = await startServer({ backend: 'redis', topicPrefix, env: { REDIS_KEY_PREFIX: prefix } });
    log(`waiting room: api pid ${server.pid} at ${server.url}, key prefix ${prefix}`);
    try {
      return await runWaitingRoom({ url: server.url, redis, prefix, runId, ...WAITING_ROOM_SIZES[size], log });
    } finally {
      await server.stop();
    }
  } finally {
    await dropPrefix(redis, prefix);
    await kafka.deleteTopics(Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix }))).catch(() => undefined);
    await kafka.close();
    await redis.quit();
  }
}

/** node dist/bench/waiting-room.js [--quick]: this phase alone (npm run build first). */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const started = Date.now();
  const f = await runWaitingRoomLab(values.quick ? 'quick' : 'full', String(started), (l) => process.stderr.write(`${l}\n`));
  process.stderr.write(`the waiting-room phase took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${waitingRoomTable(f).join('\n')}\n\n${JSON.stringify(f, null, 2)}\n`);
  return f.correct ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
