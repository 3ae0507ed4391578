/**
 * Best-available holds through HTTP (issue 13, item 4 "Measured"): `clients` buyers, each its own
 * declared buyer (so every hold also passes the per-buyer allowance, as a real buyer's does), ask
 * `POST /api/v1/events/{eventId}/holds {zoneId, best: {count: 2..4}}` of a running api, in a
 * 780-seat zone (26 rows × 30) and a 10,000-seat zone (100 × 100), each phase on an event of its
 * own:
 *   - rush: every client asks once, all at the same instant (an on-sale opening);
 *   - churn: every client loops for `seconds`: best 2–4, then DELETE the hold, so seats come back.
 * Figures: holds/s (201 answers), calls/s and the latency of one hold request as its client sees
 * it (p50/p99, queueing included). Checks, by sets over the answers: no seat is in two holds that
 * were live at the same time (a hold surely has its seats from its 201 until its release is sent),
 * Redis holds exactly the seats of the holds still live, and free seats + held seats == capacity
 * with the counters equal to the popcount. Used by bench/holds.ts (`--mode http`) and bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { ScriptedRedis } from '../src/commands/scripts';
import { Holds } from '../src/inventory/holds';
import { Inventory, isTaken } from '../src/inventory/inventory';
import { allowanceKey } from '../src/inventory/keys';
import { ZoneLayout } from '../src/inventory/layout';
import { buyerIndexKeys } from '../src/checkout/checkout-store';
import { createBenchEvent } from '../load/driver/fixtures';

export interface HttpHoldsPhase {
  zone: string;
  capacity: number;
  phase: 'rush' | 'churn';
  clients: number;
  /** Hold requests (releases not counted). */
  attempts: number;
  holds: number;
  /** Answers other than 201, by status and code. */
  refused: Record<string, number>;
  seconds: number;
  holdsPerSecond: number;
  callsPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** Seats in two holds live at the same time, by the answers. */
  doubleHeld: number;
  /** At the end, from Redis: free (counter) and held (held-by map) seats. */
  free: number;
  held: number;
  correct: boolean;
  problems: string[];
}

export interface HttpHoldsOptions {
  url: string;
  /** The api's Redis and key prefix, to create the events and read the end state. */
  redis: ScriptedRedis;
  prefix: string;
  runId: string;
  clients: number;
  /** Churn length; 0 runs the rush only. */
  seconds: number;
  /** Anonymous holds (no userId: no per-buyer allowance, no /me index), to see what the buyer's steps cost. Default: declared buyers. */
  anonymous?: boolean;
  log: (line: string) => void;
}

interface ZoneSpec {
  zoneId: string;
  rows: string[];
  seatsPerRow: number;
}

const rowNames = (n: number) => Array.from({ length: n }, (_, i) => `R${i + 1}`);
export const HOLD_ZONES: ZoneSpec[] = [
  { zoneId: 'z780', rows: rowNames(26), seatsPerRow: 30 },
  { zoneId: 'z10k', rows: rowNames(100), seatsPerRow: 100 },
];

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** One hold request's answer, as the checks need it. */
interface Answer {
  status: number;
  code?: string;
  holdId?: string;
  seats?: { row: string; column: number }[];
}

async function call(pool: Pool, method: 'POST' | 'DELETE', path: string, body?: unknown, userId?: string): Promise<Answer> {
  try {
    const res = await pool.request({
      method,
      path,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(userId ? { 'x-user-id': userId } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // The body's own `status` (HELD) is not the HTTP status: only the fields the checks need.
    const b = (await res.body.json().catch(() => ({}))) as { code?: string; holdId?: string; seats?: Answer['seats'] };
    return {
      status: res.statusCode,
      ...(b.code ? { code: b.code } : {}),
      ...(b.holdId ? { holdId: b.holdId } : {}),
      ...(b.seats ? { seats: b.seats } : {}),
    };
  } catch (err) {
    return { status: 0, code: (err as Error).message };
  }
}

/**
 * Opens the pool's connections (one cheap no-op each) and warms the hold path (a few hundred
 * holds and releases on a scratch event), so the rush measures holds, not TCP set-up or the JIT.
 */
async function warmUp(pool: Pool, o: HttpHoldsOptions): Promise<void> {
  await Promise.all(Array.from({ length: o.clients }, () => call(pool, 'POST', '/bench/noop')));
  const zone = HOLD_ZONES[1]!;
  const ev = await createBenchEvent(o.redis, o.prefix, `BenchHoldsHttp${o.runId}-warm`, { zones: [zone] }, 'redis');
  const buyers = Array.from({ length: Math.min(o.clients, 200) }, (_, i) => `bh${o.runId}w${i}`);
  try {
    await Promise.all(
      buyers.map(async (userId) => {
        const r = await call(pool, 'POST', `/api/v1/events/${ev.eventId}/holds`, { zoneId: zone.zoneId, best: { count: 2 }, userId });
        if (r.status === 201) await call(pool, 'DELETE', `/api/v1/holds/${r.holdId}`, undefined, userId);
      }),
    );
  } finally {
    await forget(o, ev.eventId, zone.zoneId, buyers);
    await ev.remove();
  }
}

/** Deletes what holds leave beside the zone: hold records, the sweeper's index entry, the buyers' allowances and /me indexes. */
async function forget(o: HttpHoldsOptions, eventId: string, zoneId: string, buyers: string[]): Promise<void> {
  await new Holds(o.redis, o.prefix).deleteZoneHolds(eventId, zoneId);
  // One key per command: a buyer's keys live in the buyer's own slot.
  const p = o.redis.pipeline();
  for (const b of buyers) p.unlink(allowanceKey(o.prefix, eventId, b)).unlink(buyerIndexKeys(o.prefix, b).holds);
  await p.exec();
}

/** One phase on an event of its own, removed afterwards whatever happened. */
async function phase(pool: Pool, o: HttpHoldsOptions, spec: ZoneSpec, kind: 'rush' | 'churn'): Promise<HttpHoldsPhase> {
  const eventId = `BenchHoldsHttp${o.runId}-${spec.zoneId}-${kind}`;
  const ev = await createBenchEvent(o.redis, o.prefix, eventId, { zones: [spec] }, 'redis');
  const buyers = Array.from({ length: o.clients }, (_, i) => `bh${o.runId}${kind[0]}${spec.zoneId}-${i}`);
  try {
    return await measure(pool, o, spec, kind, eventId, buyers);
  } finally {
    await forget(o, eventId, spec.zoneId, buyers);
    await ev.remove();
  }
}

async function measure(
  pool: Pool,
  o: HttpHoldsOptions,
  spec: ZoneSpec,
  kind: 'rush' | 'churn',
  eventId: string,
  buyers: string[],
): Promise<HttpHoldsPhase> {
  const layout = new ZoneLayout(
    spec.rows,
    spec.rows.map(() => spec.seatsPerRow),
  );
  /** seat offset -> the holds that had it: [201 answered, release sent) in ms of performance.now(). */
  const lives = new Map<number, { holdId: string; from: number; until: number }[]>();
  const live = new Map<string, number[]>(); // holds not released, with their seats
  const latencies: number[] = [];
  const refused: Record<string, number> = {};
  const problems: string[] = [];
  let attempts = 0;
  let ok = 0;
  let rnd = 7 + o.clients;
  const count = () => ((rnd = (rnd * 48271) % 2147483647), 2 + (rnd % 3));
  const started = performance.now();
  const until = started + o.seconds * 1000;

  async function one(userId: string): Promise<{ holdId: string; offsets: number[]; from: number } | undefined> {
    const asked = count();
    const t0 = performance.now();
    const r = await call(pool, 'POST', `/api/v1/events/${eventId}/holds`, {
      zoneId: spec.zoneId,
      best: { count: asked },
      ...(o.anonymous ? {} : { userId }),
    });
    const t1 = performance.now();
    latencies.push(t1 - t0);
    attempts++;
    if (r.status !== 201 || !r.holdId || !r.seats) {
      const key = `${r.status}${r.code ? ` ${r.code}` : ''}`;
      refused[key] = (refused[key] ?? 0) + 1;
      return undefined;
    }
    ok++;
    const offsets = r.seats.map((s) => layout.locate(s.row, s.column)?.offset ?? -1);
    if (offsets.length !== asked) problems.push(`hold ${r.holdId} answered ${offsets.length} seats for ${asked} asked`);
    if (offsets.includes(-1)) problems.push(`hold ${r.holdId} answered a seat outside the layout: ${JSON.stringify(r.seats)}`);
    live.set(r.holdId, offsets);
    return { holdId: r.holdId, offsets, from: t1 };
  }
  const lived = (h: { holdId: string; offsets: number[]; from: number }, end: number) => {
    for (const o of h.offsets) lives.set(o, [...(lives.get(o) ?? []), { holdId: h.holdId, from: h.from, until: end }]);
  };

  const clients = buyers.map(async (userId) => {
    if (kind === 'rush') {
      const h = await one(userId);
      if (h) lived(h, Infinity);
      return;
    }
    while (performance.now() < until) {
      const h = await one(userId);
      if (!h) continue;
      const sent = performance.now();
      lived(h, sent);
      const rel = await call(pool, 'DELETE', `/api/v1/holds/${h.holdId}`, undefined, o.anonymous ? undefined : userId);
      if (rel.status === 200) live.delete(h.holdId);
      else problems.push(`releasing ${h.holdId} answered ${rel.status} ${rel.code ?? ''}`);
    }
  });
  await Promise.all(clients);
  const seconds = (performance.now() - started) / 1000;

  // No seat in two holds whose sure lives overlap.
  let doubleHeld = 0;
  for (const [offset, hs] of lives) {
    const clash = hs.some((x, i) => hs.some((y, j) => j > i && x.until > y.from && y.until > x.from));
    if (clash) {
      doubleHeld++;
      if (doubleHeld <= 5) problems.push(`seat ${offset} was in two live holds: ${hs.map((h) => h.holdId).join(', ')}`);
    }
  }
  // Redis: exactly the seats of the holds still live are held, nothing else is taken, and the counters match.
  const expected = new Map<number, string>();
  for (const [holdId, offsets] of live) for (const off of offsets) expected.set(off, holdId);
  const heldNow = await new Holds(o.redis, o.prefix).heldSeats(eventId, spec.zoneId);
  const st = (await new Inventory(o.redis, o.prefix).zoneState(eventId, spec.zoneId))!;
  let taken = 0;
  for (let k = 0; k < layout.capacity; k++) if (isTaken(st.bits, k)) taken++;
  const same = heldNow.size === expected.size && [...expected].every(([off, id]) => heldNow.get(off) === id);
  if (!same) problems.push(`Redis holds ${heldNow.size} seats, the answers say ${expected.size} (or other holds)`);
  if (st.available + heldNow.size !== layout.capacity)
    problems.push(`free ${st.available} + held ${heldNow.size} != capacity ${layout.capacity}`);
  if (taken !== heldNow.size) problems.push(`popcount ${taken} != held seats ${heldNow.size} (nothing was sold)`);
  if (st.available !== layout.capacity - taken) problems.push(`counter ${st.available} != capacity - popcount ${layout.capacity - taken}`);
  if (ok === 0) problems.push('no hold succeeded');

  latencies.sort((a, b) => a - b);
  return {
    zone: `${layout.capacity.toLocaleString('en-US')} seats`,
    capacity: layout.capacity,
    phase: kind,
    clients: o.clients,
    attempts,
    holds: ok,
    refused,
    seconds: Number(seconds.toFixed(2)),
    holdsPerSecond: Math.round(ok / seconds),
    callsPerSecond: Math.round(attempts / seconds),
    p50ms: Number(quantile(latencies, 0.5).toFixed(1)),
    p99ms: Number(quantile(latencies, 0.99).toFixed(1)),
    doubleHeld,
    free: st.available,
    held: heldNow.size,
    correct: problems.length === 0,
    problems: problems.slice(0, 10),
  };
}

/** Every phase in both zones against the api at `o.url`; events are created and removed here. */
export async function runHttpHolds(o: HttpHoldsOptions): Promise<HttpHoldsPhase[]> {
  const pool = new Pool(o.url, {
    connections: o.clients,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const results: HttpHoldsPhase[] = [];
  try {
    await warmUp(pool, o);
    for (const spec of HOLD_ZONES)
      for (const kind of o.seconds > 0 ? (['rush', 'churn'] as const) : (['rush'] as const)) {
        const r = await phase(pool, o, spec, kind);
        o.log(
          `${r.correct ? 'OK  ' : 'FAIL'} holds over HTTP, ${r.zone} ${r.phase}: ${r.holds} holds of ${r.attempts} calls, ${r.holdsPerSecond} holds/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms${r.correct ? '' : `\n     ${r.problems.join('\n     ')}`}`,
        );
        results.push(r);
      }
  } finally {
    await pool.close();
  }
  return results;
}
