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
 * Kafka goes down mid-sale (a private broker, SIGKILLed): purchases get 503, no seat stays
 * taken without a pending record, the api stays ready, and sales resume when Kafka returns,
 * with every taken seat ending up in Kafka exactly once.
 */
const ROWS = ['A', 'B', 'C', 'D'];
const layout = new ZoneLayout(
  ROWS,
  ROWS.map(() => 10),
);
const eventId = uid('KDown');
let kafka: PrivateKafka;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  kafka = await PrivateKafka.create();
  await kafka.start();
  platform = await startTestPlatform(['api'], {
    KAFKA_BROKERS: kafka.brokers,
    PURCHASE_TIMEOUT_MS: '1500',
    PENDING_RESEND_AFTER_MS: '500',
    SWEEP_INTERVAL_MS: '250',
  });
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, zones: [{ zoneId: 'z', rows: ROWS, seatCounts: ROWS.map(() => 10) }] }),
  );
}, 120000);

afterAll(async () => {
  await cleanup?.();
  await platform?.stop();
  await kafka?.destroy();
});

const buy = (row: string, column: number) =>
  http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'k', zoneId: 'z', seats: [{ row, column }] });

/** Purchase records of the zone by status, and the seats each holds. */
async function records() {
  const redis = platform.ctx.redis;
  const keys = await keysMatching(redis, `${platform.cfg.REDIS_KEY_PREFIX}inv:{${eventId}:z}:p:*`);
  const out: { status: string; record: TicketPurchased }[] = [];
  for (const k of keys) {
    const h = await redis.hgetall(k);
    out.push({ status: h.status!, record: JSON.parse(h.body!) as TicketPurchased });
  }
  return out;
}

async function takenSeats(): Promise<Set<string>> {
  const bits = (await platform.ctx.redis.getBuffer(`${platform.cfg.REDIS_KEY_PREFIX}inv:{${eventId}:z}:bits`))!;
  return new Set(
    [...Array(layout.capacity).keys()].filter((k) => isTaken(bits, k)).map((k) => `${layout.seatAt(k).row}${layout.seatAt(k).column}`),
  );
}

/** Every taken seat belongs to exactly one reserved or confirmed record, and vice versa. */
async function expectSeatsBackedByRecords() {
  const held = new Map<string, string>();
  for (const { status, record } of await records()) {
    if (status === 'voided') continue;
    for (const t of record.tickets) {
      expect(held.has(`${t.row}${t.column}`)).toBe(false);
      held.set(`${t.row}${t.column}`, t.ticketId);
    }
  }
  expect(await takenSeats()).toEqual(new Set(held.keys()));
  return held;
}

test('503 while Kafka is down, nothing lost, sales resume when it returns', async () => {
  expect((await buy('A', 1)).status).toBe(201);

  await kafka.kill();
  const during = [];
  for (let c = 1; c <= 6; c++) during.push(await buy('B', c));
  for (const r of during) {
    expect(r.status).toBe(503);
    expect(['KAFKA_UNAVAILABLE', 'PURCHASE_OUTCOME_UNKNOWN']).toContain(r.body.code);
    if (r.body.code === 'PURCHASE_OUTCOME_UNKNOWN') expect(r.body.purchaseId).toMatch(new RegExp(`^${eventId}\\.z\\.`));
  }
  // Once the circuit is open, purchases are refused before any seat is held.
  expect(during.at(-1)!.body.code).toBe('KAFKA_UNAVAILABLE');
  // The pod can still answer (503 problems, reads): it stays in the Service.
  expect((await http(platform.url, 'GET', '/readyz')).status).toBe(200);
  await expectSeatsBackedByRecords();

  await kafka.start();
  const resumed = await waitFor(
    async () => {
      const r = await buy('C', 1);
      return r.status === 201 ? r : undefined;
    },
    'sales to resume after Kafka returns',
    60000,
    500,
  );
  expect(resumed.body.tickets).toHaveLength(1);
  await waitFor(
    async () => (await platform.ctx.redis.zcard(`${platform.cfg.REDIS_KEY_PREFIX}inv:{${eventId}:z}:pending`)) === 0,
    'the sweep to settle every pending purchase',
    30000,
  );

  // Every unknown outcome is settled: confirmed (in Kafka). A reservation is never voided.
  const held = await expectSeatsBackedByRecords();
  for (const { status } of await records()) expect(status).toBe('confirmed');
  for (const r of during.filter((x) => x.body.code === 'PURCHASE_OUTCOME_UNKNOWN')) {
    expect((await http(platform.url, 'GET', `/api/v1/purchases/${r.body.purchaseId}`)).body.status).toBe('CONFIRMED');
  }
  const values = await readTopic(platform.ctx.eventLog, topics(platform.cfg).tickets, (v) => {
    const seats = new Set(v.flatMap((x) => (JSON.parse(x) as TicketPurchased).tickets.map((t) => `${t.row}${t.column}`)));
    return seats.size >= held.size;
  });
  const inKafka = new Map<string, string>();
  for (const v of values)
    for (const t of (JSON.parse(v) as TicketPurchased).tickets) {
      expect([undefined, t.ticketId]).toContain(inKafka.get(`${t.row}${t.column}`));
      inKafka.set(`${t.row}${t.column}`, t.ticketId);
    }
  expect(inKafka).toEqual(held);
}, 150000);
