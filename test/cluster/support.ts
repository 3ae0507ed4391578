import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { RunningPlatform } from '../../src/runtime/platform';
import type { TicketPurchased } from '../../src/purchase/record';
import type { EventLog } from '../../src/stream/event-log';
import { topics } from '../../src/stream/kafka';
import { seatKey, type SeatMap } from '../cqrs/support';
import { eventResource, venueResource } from '../controller/support/cluster';
import { waitFor } from '../support/env';
import { readTopic } from '../support/kafka';
import { http, startTestPlatform, type HttpAnswer } from '../support/platform';
import { forgetEvents } from '../controller/support/stores';
import type { PrivateCluster } from '../support/private-cluster';

export interface Seat {
  zoneId: string;
  row: string;
  column: number;
}

/** A SEEDS_DIR of one Venue and one OnSale Event (the controller's file source); remove() deletes it. */
export async function writeSeeds(opts: {
  eventId: string;
  venueId: string;
  zoneIds: string[];
  rows: string[];
  seatsPerRow: number;
}): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cluster-seeds-'));
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  const zones = opts.zoneIds.map((zoneId) => ({ zoneId, rows: opts.rows, seatsPerRow: opts.seatsPerRow }));
  await writeFile(path.join(dir, 'hall.yaml'), doc(venueResource('hall', opts.venueId, zones)));
  await writeFile(path.join(dir, 'show.yaml'), doc(eventResource('show', opts.eventId, 'hall', { perUserLimit: 100 })));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every seat of the zones, zone by zone, row by row. */
export function allSeats(zoneIds: string[], rows: string[], seatsPerRow: number): Seat[] {
  return zoneIds.flatMap((zoneId) =>
    rows.flatMap((row) => Array.from({ length: seatsPerRow }, (_, i) => ({ zoneId, row, column: i + 1 }))),
  );
}

/**
 * Every answer of a test's single-seat purchases, kept as sets: seat → ticket of the 201s (a
 * second 201 for a seat throws at once), the purchase ids of the 503s that carry one (outcome
 * unknown), and a count per status/code.
 */
export class Ledger {
  readonly sold: SeatMap = new Map();
  /** purchaseId → the seat it asked for, of every 503 with a purchaseId. */
  readonly unknown = new Map<string, Seat>();
  readonly answers = new Map<string, number>();
  /** Answers other than 201, 409 and 503, with their bodies: each is a failure of the platform. */
  readonly unexpected: string[] = [];
  /** The seats those answers asked for: a 500 after reserve.lua leaves a sale the buyer never heard of. */
  readonly unexpectedSeats = new Set<string>();
  /** Seats this ledger asked for, whatever the answer. */
  private readonly asked = new Set<string>();
  /** ticketId → how the test learnt of the sale ('201', 'resolved'), for a failing test's message. */
  readonly via = new Map<string, string>();
  private buyer = 0;

  constructor(
    private readonly url: () => string,
    private readonly eventId: string,
    /** A prefix of distinct buyer ids (one per purchase, so the per-buyer limit never answers). */
    private readonly buyerPrefix: string,
  ) {}

  async buy(seat: Seat): Promise<HttpAnswer & { ms: number }> {
    const t0 = Date.now();
    this.asked.add(seatKey(seat.zoneId, seat.row, seat.column));
    const userId = `${this.buyerPrefix}-${++this.buyer}`;
    const r = await http(this.url(), 'POST', `/api/v1/events/${this.eventId}/purchases`, {
      userId,
      zoneId: seat.zoneId,
      seats: [{ row: seat.row, column: seat.column }],
    });
    const label = `${r.status}${r.body?.code ? ` ${r.body.code}` : ''}`;
    this.answers.set(label, (this.answers.get(label) ?? 0) + 1);
    if (r.status === 201) this.record(seat, r.body.tickets[0].ticketId as string);
    else if (r.status === 503 && typeof r.body?.purchaseId === 'string') this.unknown.set(r.body.purchaseId, seat);
    else if (r.status !== 409 && r.status !== 503) {
      this.unexpected.push(`${r.status} ${JSON.stringify(r.body)}`);
      this.unexpectedSeats.add(seatKey(seat.zoneId, seat.row, seat.column));
    }
    return { ...r, ms: Date.now() - t0 };
  }

  /** A seat sold to the test (a 201, or an unknown outcome resolved CONFIRMED). */
  record(seat: Seat, ticketId: string, via = '201'): void {
    this.via.set(ticketId, via);
    const k = seatKey(seat.zoneId, seat.row, seat.column);
    const had = this.sold.get(k);
    if (had && had !== ticketId) throw new Error(`seat ${k} was sold twice: ${had} and ${ticketId}`);
    this.sold.set(k, ticketId);
  }

  /** The first of `seats` this ledger never asked for (throws when none is left). */
  fresh(seats: Seat[]): Seat {
    const seat = seats.find((s) => !this.asked.has(seatKey(s.zoneId, s.row, s.column)));
    if (!seat) throw new Error('every seat was asked for already: give the test more seats');
    return seat;
  }

  count(label: string): number {
    return this.answers.get(label) ?? 0;
  }

  summary(): string {
    return JSON.stringify(Object.fromEntries([...this.answers].sort()));
  }
}

/** Runs `task` over `items` with `concurrency` in flight; `next()` may add items while it runs. */
export async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < items.length) await task(items[i++]!);
    }),
  );
}

export type Resolution = { status: 'CONFIRMED'; ticketId: string } | { status: 'NOT_SOLD' };

/**
 * Polls GET /api/v1/purchases/{id} for every unknown outcome until each is final: CONFIRMED (the
 * sweep sent it; its ticket is recorded in the ledger) or 404 (nothing was sold). PENDING and 503
 * mean "not known yet" and are asked again until the deadline.
 */
export async function resolveUnknown(url: string, ledger: Ledger, timeoutMs: number): Promise<Map<string, Resolution>> {
  const resolved = new Map<string, Resolution>();
  const last = new Map<string, string>();
  await waitFor(
    async () => {
      for (const [purchaseId, seat] of ledger.unknown) {
        if (resolved.has(purchaseId)) continue;
        const r = await http(url, 'GET', `/api/v1/purchases/${purchaseId}`);
        last.set(purchaseId, `${r.status} ${r.body?.status ?? r.body?.code ?? ''}`);
        if (r.status === 404) resolved.set(purchaseId, { status: 'NOT_SOLD' });
        if (r.status === 200 && r.body.status === 'CONFIRMED') {
          const t = r.body.tickets[0] as { ticketId: string; row: string; column: number };
          expect({ row: t.row, column: t.column, zoneId: r.body.zoneId }).toEqual({
            row: seat.row,
            column: seat.column,
            zoneId: seat.zoneId,
          });
          ledger.record(seat, t.ticketId, `resolved (${purchaseId})`);
          resolved.set(purchaseId, { status: 'CONFIRMED', ticketId: t.ticketId });
        }
      }
      return resolved.size === ledger.unknown.size;
    },
    'every 503 with a purchaseId to resolve (GET /api/v1/purchases/{id})',
    timeoutMs,
    500,
  ).catch((err: Error) => {
    const open = [...last].filter(([id]) => !resolved.has(id)).slice(0, 10);
    throw new Error(`${err.message}; still open: ${JSON.stringify(open)}`);
  });
  return resolved;
}

/**
 * seat → ticket of every TicketPurchased of the event in the tickets topic, read from the start
 * until it holds every sale of the ledger. A seat with two different tickets in the log throws.
 */
export async function topicSeats(eventLog: EventLog, topic: string, eventId: string, ledger: Ledger, timeoutMs = 60_000): Promise<SeatMap> {
  const expected = ledger.sold;
  const seatsOf = (values: string[]) => {
    const out: SeatMap = new Map();
    for (const v of values) {
      const rec = JSON.parse(v) as TicketPurchased;
      if (rec.type !== 'TicketPurchased' || rec.eventId !== eventId) continue;
      for (const t of rec.tickets) {
        const k = seatKey(rec.zoneId, t.row, t.column);
        const had = out.get(k);
        if (had && had !== t.ticketId) throw new Error(`the log sold seat ${k} twice: ${had} and ${t.ticketId}`);
        out.set(k, t.ticketId);
      }
    }
    return out;
  };
  let seen = 0;
  let missing: string[] = [];
  const values = await readTopic(
    eventLog,
    topic,
    (vs) => {
      seen = vs.length;
      missing = missingFrom(seatsOf(vs), expected, ledger);
      return missing.length === 0;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${seen} records read, ${missing.length} sales not in the log: ${missing.slice(0, 10).join(', ')}`);
  });
  return seatsOf(values);
}

/** The entries of `want` that `have` lacks or holds with another ticket ([] when `have` contains `want`). */
export function missingFrom(have: SeatMap, want: SeatMap, ledger?: Ledger): string[] {
  return [...want]
    .filter(([k, t]) => have.get(k) !== t)
    .map(([k, t]) => `${k}=${t} (has ${have.get(k) ?? 'none'}${ledger ? `; via ${ledger.via.get(t)}` : ''})`);
}

/**
 * Asks for every seat again (`concurrency` at a time, each by a buyer of its own) once the
 * earlier outcomes are final: it must sell exactly the seats the ledger has not sold and refuse
 * the others with 409, so sold-before ∪ sweep = every seat, disjoint. Retries a seat while it
 * answers 503 (a fence or the circuit, nothing sold) until the deadline. Returns the sweep's sales.
 */
export async function sweepEverySeat(
  ledger: Ledger,
  sweeper: Ledger,
  seats: Seat[],
  concurrency: number,
  timeoutMs = 60_000,
): Promise<SeatMap> {
  const deadline = Date.now() + timeoutMs;
  await pool(seats, concurrency, async (seat) => {
    for (;;) {
      const r = await sweeper.buy(seat);
      if (r.status === 201 || r.status === 409) return;
      if (r.status !== 503 || r.body?.purchaseId || Date.now() > deadline)
        throw new Error(`the sweep got ${r.status} ${JSON.stringify(r.body)} for ${seatKey(seat.zoneId, seat.row, seat.column)}`);
    }
  });
  const both = [...sweeper.sold.keys()].filter((k) => ledger.sold.has(k));
  expect(both).toEqual([]);
  expect(new Set([...ledger.sold.keys(), ...sweeper.sold.keys()])).toEqual(new Set(seats.map((s) => seatKey(s.zoneId, s.row, s.column))));
  return sweeper.sold;
}

/** Port of the broker leading the partition of the platform's tickets topic that `key` goes to. */
export async function partitionLeader(admin: Admin, platform: RunningPlatform, key: string): Promise<number> {
  const topic = topics(platform.ctx.cfg).tickets;
  const partition = platform.ctx.eventLog.partitionOf(key, platform.ctx.cfg.KAFKA_PARTITIONS);
  const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
  const leader = meta!.partitions.find((p) => p.partitionId === partition)!.leader;
  const broker = (await admin.describeCluster()).brokers.find((b) => b.nodeId === leader);
  if (!broker) throw new Error(`partition ${partition} of ${topic} is led by ${leader}, which is not a live broker`);
  return broker.port;
}

/**
 * Every role of the platform on a private cluster (Redis Cluster and 3 brokers, RF 3, min ISR 2)
 * with the seeds' event on sale, and a Kafka admin for the test; `stop` forgets the event and
 * stops the platform (the cluster and the seeds are the caller's).
 */
export async function startOnCluster(
  cluster: PrivateCluster,
  seeds: { dir: string; eventId: string; venueId: string; zoneIds: string[] },
  env: Record<string, string>,
  clientId: string,
) {
  const platform = await startTestPlatform(['controller', 'writer', 'projector', 'api'], {
    SEEDS_DIR: seeds.dir,
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    KAFKA_BROKERS: cluster.brokers.join(','),
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_MIN_INSYNC_REPLICAS: '2',
    PENDING_RESEND_AFTER_MS: '2000',
    SWEEP_INTERVAL_MS: '500',
    ...env,
  });
  const admin = new Kafka({ clientId, brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await waitFor(
    async () => (await http(platform.url, 'GET', `/api/v1/events/${seeds.eventId}`)).status === 200,
    'the event on sale',
    60_000,
    250,
  );
  return {
    platform,
    admin,
    async stop() {
      await admin.disconnect().catch(() => undefined);
      await forgetEvents(platform.ctx, [{ eventId: seeds.eventId, venueId: seeds.venueId, zoneIds: seeds.zoneIds }]).catch(() => undefined);
      await platform.stop();
    },
  };
}
