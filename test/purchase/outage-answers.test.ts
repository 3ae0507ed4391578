import { keysMatching } from '../../src/shared/redis';
import { isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import type { TicketPurchased } from '../../src/purchase/record';
import { topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { readTopic } from '../support/kafka';
import { PrivateKafka } from '../support/private-kafka';
import { http, startTestPlatform } from '../support/platform';

/**
 * What buyers hear while the event log misbehaves (a private broker, frozen with SIGSTOP or
 * SIGKILLed), and what those answers turn out to mean once it is back:
 *  - an idempotent retry after 503 PURCHASE_OUTCOME_UNKNOWN resolves to the original purchase;
 *  - a reservation the log never took is answered 503 with its purchase id and sold later by the
 *    sweep, never voided; "nothing was sold" is answered only when nothing was reserved;
 *  - the api stays ready: purchases fail fast with a 503 problem, reads keep answering.
 */
const SEATS = 30;
const zone = (zoneId: string, rows: string[]) => ({ zoneId, rows, seatCounts: rows.map(() => SEATS) });
const ZONES = { warm: ['A', 'B', 'C', 'D', 'E', 'F'], idem: ['A', 'B'], lost: ['A', 'B'], ready: ['A'] };
const eventId = uid('Outage');
let kafka: PrivateKafka;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  kafka = await PrivateKafka.create();
  await kafka.start();
  platform = await startTestPlatform(['api'], {
    KAFKA_BROKERS: kafka.brokers,
    // One producer, flushing at once: a record reserved while a request hangs queues behind it.
    KAFKA_PRODUCERS: '1',
    KAFKA_LINGER_MS: '0',
    PURCHASE_TIMEOUT_MS: '1500',
    PENDING_RESEND_AFTER_MS: '500',
    SWEEP_INTERVAL_MS: '250',
  });
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, zones: Object.entries(ZONES).map(([id, rows]) => zone(id, rows)) }),
  );
}, 120000);

afterAll(async () => {
  kafka?.thaw();
  await cleanup?.();
  await platform?.stop();
  await kafka?.destroy();
}, 120000);

type Seat = { row: string; column: number };
type Answer = Awaited<ReturnType<typeof http>>;
/**
 * One named buyer per zone, within the event's perUserLimit (10) in the zones bought in a fixed
 * number of times; the warm and ready zones are bought until something happens, so each attempt
 * there is a buyer of its own (an unknown outcome keeps its seats counted for its buyer).
 */
const buyerOf = (zoneId: string) => (zoneId === 'warm' || zoneId === 'ready' ? uid(`outage-${zoneId}`) : `outage-${zoneId}`);
const buy = (zoneId: string, seats: Seat[], key?: string) =>
  http(
    platform.url,
    'POST',
    `/api/v1/events/${eventId}/purchases`,
    { userId: buyerOf(zoneId), zoneId, seats },
    key ? { 'idempotency-key': key } : {},
  );
const buyTicket = (zoneId: string, seat: Seat, key?: string) =>
  http(
    platform.url,
    'POST',
    '/api/v1/tickets',
    { eventId, zoneId, ...seat, userId: buyerOf(zoneId) },
    key ? { 'idempotency-key': key } : {},
  );
const get = (path: string) => http(platform.url, 'GET', path);
const zoneKey = (zoneId: string, what: string) => `${platform.cfg.REDIS_KEY_PREFIX}inv:{${eventId}:${zoneId}}:${what}`;
const pendingCount = (zoneId: string) => platform.ctx.redis.zcard(zoneKey(zoneId, 'pending'));

/** Buys fresh seats of the warm zone until one is confirmed: the circuit is closed again. */
let warmSeat = 0;
async function salesFlowing(): Promise<Answer> {
  return waitFor(
    async () => {
      const n = warmSeat++;
      const r = await buy('warm', [{ row: ZONES.warm[Math.floor(n / SEATS)]!, column: (n % SEATS) + 1 }]);
      return r.status === 201 ? r : undefined;
    },
    'sales to flow through the private Kafka',
    60000,
    250,
  );
}

/** The purchase records of a zone (any status) with the seats each holds or held. */
async function records(zoneId: string): Promise<{ status: string; record: TicketPurchased }[]> {
  const redis = platform.ctx.redis;
  const out = [];
  for (const k of await keysMatching(redis, zoneKey(zoneId, 'p:*'))) {
    const h = await redis.hgetall(k);
    out.push({ status: h.status!, record: JSON.parse(h.body!) as TicketPurchased });
  }
  return out;
}

async function takenSeats(zoneId: string): Promise<Set<string>> {
  const rows = ZONES[zoneId as keyof typeof ZONES];
  const layout = new ZoneLayout(
    rows,
    rows.map(() => SEATS),
  );
  const bits = (await platform.ctx.redis.getBuffer(zoneKey(zoneId, 'bits'))) ?? Buffer.alloc(0);
  return new Set(
    [...Array(layout.capacity).keys()].filter((k) => isTaken(bits, k)).map((k) => `${layout.seatAt(k).row}${layout.seatAt(k).column}`),
  );
}

const seatNames = (seats: Seat[]) => seats.map((s) => `${s.row}${s.column}`);

describe('Idempotency-Key after an unknown outcome', () => {
  test('a retry with the same key answers 503 with the same purchaseId while pending, then replays the 201; never 409', async () => {
    await salesFlowing();
    const multi = [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ];
    const single = { row: 'B', column: 7 };
    const [kMulti, kSingle] = [uid('key'), uid('key')];
    const answers: Answer[] = [];

    kafka.freeze();
    let first: Answer[];
    try {
      first = await Promise.all([buy('idem', multi, kMulti), buyTicket('idem', single, kSingle)]);
      answers.push(...first);
      for (const r of first) {
        expect(r).toMatchObject({ status: 503, body: { code: 'PURCHASE_OUTCOME_UNKNOWN' } });
        expect(r.body.purchaseId).toMatch(new RegExp(`^${eventId}\\.idem\\.`));
      }
      // Still frozen: the retries look the purchases up and find them pending.
      const retried = [await buy('idem', multi, kMulti), await buyTicket('idem', single, kSingle)];
      answers.push(...retried);
      expect(retried.map((r) => [r.status, r.body.code, r.body.purchaseId])).toEqual(
        first.map((r) => [503, 'PURCHASE_OUTCOME_UNKNOWN', r.body.purchaseId]),
      );
    } finally {
      kafka.thaw();
    }

    // Once the late acknowledgement or the sweep confirms them, the retries replay a 201.
    const settle = async (retry: () => Promise<Answer>, purchaseId: string) =>
      waitFor(
        async () => {
          const r = await retry();
          answers.push(r);
          if (r.status === 503) expect(r.body).toMatchObject({ code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId });
          return r.status === 503 ? undefined : r;
        },
        `the retry of ${purchaseId} to be answered`,
        60000,
        200,
      );
    const multiReplay = await settle(() => buy('idem', multi, kMulti), first[0]!.body.purchaseId);
    const singleReplay = await settle(() => buyTicket('idem', single, kSingle), first[1]!.body.purchaseId);
    expect(answers.map((a) => a.status).filter((s) => s !== 503 && s !== 201)).toEqual([]);

    // The multi-seat replay is the purchase as GET /purchases/{id} shows it, with the original ids.
    const purchaseId = first[0]!.body.purchaseId as string;
    expect(multiReplay.status).toBe(201);
    expect(multiReplay.body).toEqual((await get(`/api/v1/purchases/${purchaseId}`)).body);
    expect(multiReplay.body).toMatchObject({ purchaseId, status: 'CONFIRMED', eventId, zoneId: 'idem', userId: 'outage-idem' });
    expect(
      multiReplay.body.tickets.map((t: { ticketId: string; row: string; column: number }) => [t.ticketId, `${t.row}${t.column}`]),
    ).toEqual([
      [`${purchaseId}.1`, 'A1'],
      [`${purchaseId}.2`, 'A2'],
    ]);
    // The single-seat replay has the ticket route's shape.
    const ticketId = `${first[1]!.body.purchaseId}.1`;
    expect(singleReplay).toMatchObject({
      status: 201,
      body: { ticketId, purchaseId: first[1]!.body.purchaseId, row: 'B', column: 7, status: 'CONFIRMED' },
    });

    // Same shapes as the answers of purchases that never went wrong.
    const keysOf = (o: object) => Object.keys(o).sort();
    // Right after the outage the sender may still be reconnecting (503, nothing sold or unknown):
    // retried under one Idempotency-Key each, until they sell.
    const [kFresh, kFreshTicket] = [uid('fresh-'), uid('fresh-t-')];
    const sold = (attempt: () => Promise<Answer>, what: string) =>
      waitFor(async () => ((r) => (r.status === 201 ? r : undefined))(await attempt()), what, 30000, 200);
    const fresh = await sold(() => buy('idem', [{ row: 'A', column: 9 }], kFresh), 'a fresh purchase to sell');
    const freshTicket = await sold(() => buyTicket('idem', { row: 'B', column: 9 }, kFreshTicket), 'a fresh ticket to sell');
    expect(keysOf(multiReplay.body)).toEqual(keysOf(fresh.body));
    expect(keysOf(multiReplay.body.tickets[0])).toEqual(keysOf(fresh.body.tickets[0]));
    expect(keysOf(singleReplay.body)).toEqual(keysOf(freshTicket.body));

    // Replays from now on are the stored answer, byte for byte.
    expect(await buy('idem', multi, kMulti)).toEqual(multiReplay);
    expect(await buyTicket('idem', single, kSingle)).toEqual(singleReplay);
  }, 120000);
});

describe('no reservation is ever voided', () => {
  test('records Kafka never took after their reservation are answered 503 with their id and sold by the sweep; "nothing sold" holds no seat', async () => {
    await salesFlowing();
    const asked = new Map<Answer, Seat[]>();
    const ask = async (seats: Seat[]) => {
      const r = await buy('lost', seats);
      asked.set(r, seats);
      return r;
    };

    kafka.freeze();
    let queued: Answer[];
    let refused: Answer[];
    try {
      // Its produce request hangs in the frozen broker.
      const hanging = ask([{ row: 'A', column: 1 }]);
      let early: Answer | undefined;
      void hanging.then((r) => (early = r));
      await waitFor(
        async () => (await pendingCount('lost')) >= 1,
        // An answer before the reservation shows why none was made (it should hang in the frozen broker).
        () => `the first reservation (answered meanwhile: ${early ? JSON.stringify(early) : 'not yet'})`,
        30_000,
      );
      // Reserved while the circuit is still closed, queued behind the hanging request: when the
      // circuit opens they are never handed to Kafka, but their seats were already reserved.
      queued = await Promise.all([[2, 3], [4], [5]].map((cols) => ask(cols.map((column) => ({ row: 'A', column })))));
      await hanging;
      // The circuit is open now: refused before any seat is reserved.
      refused = await Promise.all([1, 2].map((column) => ask([{ row: 'B', column }])));
    } finally {
      kafka.thaw();
    }

    for (const r of queued)
      expect(r).toMatchObject({
        status: 503,
        body: { code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId: expect.stringMatching(new RegExp(`^${eventId}\\.lost\\.`)) },
      });
    for (const r of refused) {
      expect(r).toMatchObject({ status: 503, body: { code: 'KAFKA_UNAVAILABLE' } });
      expect(r.contentType).toContain('application/problem+json');
    }
    // Every answer is a sale, an unknown outcome with its id, or "nothing sold" without an id.
    for (const r of asked.keys()) {
      const kind =
        r.status === 201
          ? 'sold'
          : r.status === 503 && r.body.code === 'PURCHASE_OUTCOME_UNKNOWN' && r.body.purchaseId
            ? 'unknown'
            : r.status === 503 && r.body.code === 'KAFKA_UNAVAILABLE' && r.body.purchaseId === undefined
              ? 'nothing-sold'
              : `unexpected ${r.status} ${r.body.code}`;
      expect(['sold', 'unknown', 'nothing-sold']).toContain(kind);
    }
    const nothingSold = [...asked].filter(([r]) => r.body.code === 'KAFKA_UNAVAILABLE').flatMap(([, seats]) => seatNames(seats));
    const unknown = [...asked].filter(([r]) => r.body.code === 'PURCHASE_OUTCOME_UNKNOWN');

    // "Nothing sold" never had a reservation: no record holds or ever held its seats.
    const recordSeats = (await records('lost')).flatMap(({ record }) => seatNames(record.tickets));
    expect(recordSeats.filter((s) => nothingSold.includes(s))).toEqual([]);

    // Kafka is back: the sweep sells every unknown outcome, none is voided.
    await waitFor(async () => (await pendingCount('lost')) === 0, 'the sweep to settle the pending purchases', 60000, 200);
    expect((await records('lost')).map((r) => r.status).filter((s) => s !== 'confirmed')).toEqual([]);
    const expected = new Map<string, string>();
    for (const [r, seats] of unknown) {
      const p = await get(`/api/v1/purchases/${r.body.purchaseId}`);
      expect(p).toMatchObject({ status: 200, body: { status: 'CONFIRMED' } });
      expect(p.body.tickets.map((t: Seat) => `${t.row}${t.column}`)).toEqual(seatNames(seats));
      for (const t of p.body.tickets as { row: string; column: number; ticketId: string }[])
        expected.set(`${t.row}${t.column}`, t.ticketId);
    }
    const taken = await takenSeats('lost');
    expect(taken).toEqual(new Set(expected.keys()));
    for (const s of nothingSold) expect(taken.has(s)).toBe(false);

    const values = await readTopic(platform.ctx.eventLog, topics(platform.cfg).tickets, (v) => {
      const ids = new Set(v.flatMap((x) => (JSON.parse(x) as TicketPurchased).tickets.map((t) => t.ticketId)));
      return [...expected.values()].every((id) => ids.has(id));
    });
    const inKafka = new Map<string, string>();
    for (const v of values) {
      const p = JSON.parse(v) as TicketPurchased;
      if (p.zoneId === 'lost') for (const t of p.tickets) inKafka.set(`${t.row}${t.column}`, t.ticketId);
    }
    expect(inKafka).toEqual(expected);

    // The seats of "nothing sold" really are free: they sell now.
    for (const [r, seats] of asked) if (r.body.code === 'KAFKA_UNAVAILABLE') expect((await buy('lost', seats)).status).toBe(201);
  }, 150000);
});

describe('readiness while Kafka is down', () => {
  test('/readyz stays 200; purchases answer 503 problems at once, reads answer 200', async () => {
    const sold = await salesFlowing();
    await kafka.kill();
    try {
      await answersWhileDown(sold);
    } finally {
      await kafka.start(); // so that the platform stops cleanly, its sender flushing what it holds
    }
  }, 120000);
});

/** Kafka is dead: the api stays ready, purchases are refused at once, reads answer. */
async function answersWhileDown(sold: Answer): Promise<void> {
  let column = 0;
  const during: Answer[] = [];
  // The first purchases find out that the broker is gone; then the circuit is open.
  await waitFor(
    async () => {
      const r = await buy('ready', [{ row: 'A', column: ++column }]);
      during.push(r);
      return r.body?.code === 'KAFKA_UNAVAILABLE';
    },
    'the Kafka circuit to open',
    60000,
    200,
  );
  for (const r of during) {
    expect(r.status).toBe(503);
    expect(r.contentType).toContain('application/problem+json');
  }

  expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  const refused = await buy('ready', [{ row: 'A', column: ++column }]);
  expect(refused).toMatchObject({ status: 503, body: { code: 'KAFKA_UNAVAILABLE' } });
  expect(refused.contentType).toContain('application/problem+json');
  expect(refused.body.purchaseId).toBeUndefined();

  expect((await get(`/api/v1/events/${eventId}`)).status).toBe(200);
  expect((await get(`/api/v1/events/${eventId}/zones/warm/seats`)).status).toBe(200);
  expect(await get(`/api/v1/purchases/${sold.body.purchaseId}`)).toMatchObject({ status: 200, body: { status: 'CONFIRMED' } });
  expect(await get(`/api/v1/tickets/${sold.body.tickets[0].ticketId}`)).toMatchObject({
    status: 200,
    body: { ticketId: sold.body.tickets[0].ticketId },
  });
  expect((await get('/readyz')).status).toBe(200);
}
