import { isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import type { TicketPurchased } from '../../src/purchase/record';
import { topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { readTopic } from '../support/kafka';
import { http, startTestPlatform } from '../support/platform';

/**
 * 2,000 concurrent attempts over 200 seats, every seat targeted at least 5 times, with
 * overlapping multi-seat requests. The seat → ticketId map built from the 201 answers must be
 * exactly what Redis and Kafka hold.
 */
const ROWS = 'ABCDEFGHIJ'.split('');
const PER_ROW = 20;
const eventId = uid('Conc');
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  platform = await startTestPlatform(['api']);
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, zones: [{ zoneId: 'z', rows: ROWS, seatCounts: ROWS.map(() => PER_ROW) }] }),
  );
});
afterAll(async () => {
  await cleanup();
  await platform.stop();
});

type Seat = { row: string; column: number };
type Attempt = { kind: 'query' | 'json' | 'multi'; seats: Seat[] };

function attempts(): Attempt[] {
  const all: Attempt[] = [];
  const seats: Seat[] = ROWS.flatMap((row) => Array.from({ length: PER_ROW }, (_, i) => ({ row, column: i + 1 })));
  for (let round = 0; round < 5; round++) for (const s of seats) all.push({ kind: round % 2 ? 'query' : 'json', seats: [s] });
  let rnd = 7;
  const rand = (m: number) => ((rnd = (rnd * 48271) % 2147483647), rnd % m);
  while (all.length < 2000) {
    const row = ROWS[rand(ROWS.length)]!;
    const size = 2 + rand(2); // pairs and rings of three adjacent seats, overlapping neighbours
    const start = 1 + rand(PER_ROW - size + 1);
    all.push({ kind: 'multi', seats: Array.from({ length: size }, (_, i) => ({ row, column: start + i })) });
  }
  for (let i = all.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

async function send(a: Attempt, n: number) {
  const s = a.seats[0]!;
  if (a.kind === 'query') return http(platform.url, 'POST', `/ticket?eventId=${eventId}&zoneId=z&row=${s.row}&column=${s.column}`);
  if (a.kind === 'json')
    return http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'z', row: s.row, column: s.column, userId: `u${n}` });
  return http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: `u${n}`, zoneId: 'z', seats: a.seats });
}

test('every seat is sold at most once and all stores agree seat by seat', async () => {
  const plan = attempts();
  const t0 = Date.now();
  const results: { a: Attempt; status: number; body: unknown }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 400 }, async () => {
      while (next < plan.length) {
        const n = next++;
        const r = await send(plan[n]!, n);
        results.push({ a: plan[n]!, status: r.status, body: r.body });
      }
    }),
  );
  if (process.env.TEST_TIMING) console.log(`2000 attempts in ${Date.now() - t0} ms`);
  expect(results).toHaveLength(2000);
  expect(new Set(results.map((r) => r.status))).toEqual(new Set([201, 409]));

  // seat → ticketId from the 201 answers; a seat twice would be a double sale.
  const sold = new Map<string, string>();
  for (const r of results.filter((x) => x.status === 201)) {
    type Ticket = { ticketId: string; row: string; column: number };
    const tickets: Ticket[] = r.a.kind === 'multi' ? (r.body as { tickets: Ticket[] }).tickets : [r.body as Ticket];
    expect(tickets.map((t) => `${t.row}${t.column}`)).toEqual(r.a.seats.map((s) => `${s.row}${s.column}`));
    for (const t of tickets) {
      const key = `${t.row}-${t.column}`;
      expect(sold.has(key)).toBe(false);
      sold.set(key, t.ticketId);
    }
  }
  // Every seat was requested singly at least 5 times, so every seat is sold.
  expect(sold.size).toBe(ROWS.length * PER_ROW);
  // A 409 never leaves any of its seats attributed to it: its seats are sold to someone else.
  for (const r of results.filter((x) => x.status === 409)) for (const s of r.a.seats) expect(sold.has(`${s.row}-${s.column}`)).toBe(true);

  // Redis: the bitmap holds exactly the sold seats; counters match.
  const st = (await platform.ctx.redis
    .multi()
    .getBuffer(`${platform.cfg.REDIS_KEY_PREFIX}inv:{${eventId}:z}:bits`)
    .exec())![0]![1] as Buffer;
  const layout = new ZoneLayout(
    ROWS,
    ROWS.map(() => PER_ROW),
  );
  const inRedis = new Set(
    [...Array(layout.capacity).keys()].filter((k) => isTaken(st, k)).map((k) => `${layout.seatAt(k).row}-${layout.seatAt(k).column}`),
  );
  expect(inRedis).toEqual(new Set(sold.keys()));

  // Kafka: exactly the same seat → ticketId map (deduplicated by ticketId, as consumers do).
  const topic = topics(platform.cfg).tickets;
  const values = await readTopic(
    platform.ctx.eventLog,
    topic,
    (v) => new Set(v.map((x) => (JSON.parse(x) as TicketPurchased).purchaseId)).size >= countPurchases(results),
  );
  const inKafka = new Map<string, string>();
  for (const v of values) {
    const p = JSON.parse(v) as TicketPurchased;
    if (p.eventId !== eventId) continue;
    for (const t of p.tickets) {
      const key = `${t.row}-${t.column}`;
      expect([undefined, t.ticketId]).toContain(inKafka.get(key));
      inKafka.set(key, t.ticketId);
    }
  }
  expect(inKafka).toEqual(sold);
});

const countPurchases = (results: { status: number }[]) => results.filter((r) => r.status === 201).length;
