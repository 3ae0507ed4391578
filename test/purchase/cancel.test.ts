import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { auditEvent } from '../../src/admin/audit';
import { Inventory, isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { Payments } from '../../src/payment/payments';
import { PaymentStore } from '../../src/payment/store';
import { TestPaymentProvider } from '../../src/payment/test-provider';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { SCHEMA_VERSION, type TicketPurchased } from '../../src/purchase/record';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testLogger, uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { spawnRole, waitReady } from '../support/process';
import { dynamoSeats, mysqlSeats, seatKey, sortedEntries, testStores } from '../cqrs/support';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- jose is an ES module (src/auth/tokens.ts)
const { SignJWT } = require('jose') as typeof Jose;

/**
 * POST /api/v1/purchases/{purchaseId}/cancel against the real services: the seats are on sale
 * when the 200 arrives, the stores follow the log, and the reports count what is sold now.
 */
const ADMIN = 'admin-token-for-the-cancel-test-0123456789';
const PRICE = 4200;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let stores: ReturnType<typeof testStores>;
let inventory: Inventory;
let payments: Payments;
let cleanup: () => Promise<void>;
const eventId = uid('Cxl');
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A', 'B', 'C', 'D'], seatCounts: [10, 10, 10, 10], priceCents: PRICE }] });
const layout = ZoneLayout.of(entry.venue.zones[0]!);

beforeAll(async () => {
  platform = await startTestPlatform(['api', 'writer', 'projector'], { ADMIN_TOKEN: ADMIN });
  stores = testStores(platform.cfg);
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  inventory = new Inventory(redis, prefix);
  payments = new Payments(new PaymentStore(redis, prefix, 3600), [new TestPaymentProvider(redis, prefix, 3600)], testLogger());
  cleanup = await seedTestEvent(redis, prefix, entry);
});

afterAll(async () => {
  await stores.writeModel.dropEvent(eventId).catch(() => undefined);
  await stores.readModel.deleteEvent(eventId).catch(() => undefined);
  await cleanup();
  await stores.closeAll();
  await platform.stop();
});

type Seat = { row: string; column: number };
const buy = async (userId: string, seats: Seat[]) => {
  const res = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId, zoneId: 'z', seats });
  expect(res.status).toBe(201);
  return res.body as { purchaseId: string; tickets: { ticketId: string; row: string; column: number }[] };
};
const cancel = (purchaseId: string, body?: unknown, headers: Record<string, string> = {}) =>
  http(platform.url, 'POST', `/api/v1/purchases/${purchaseId}/cancel`, body, headers);
const get = (path: string) => http(platform.url, 'GET', path);
const taken = async (seats: Seat[]) => {
  const st = (await inventory.zoneState(eventId, 'z'))!;
  return seats.map((s) => isTaken(st.bits, layout.locate(s.row, s.column)!.offset));
};
const countersMatchBitmap = async () => {
  const st = (await inventory.zoneState(eventId, 'z'))!;
  return st.available === layout.capacity - (await platform.ctx.redis.bitcount(inventory.keys(eventId, 'z').bits));
};
const caughtUp = () =>
  waitFor(
    async () => (await stores.waitForGroup('writer', 0)) === 0 && (await stores.waitForGroup('projector', 0)) === 0,
    'both consumers to commit the end of the log',
    30000,
  );

test('a cancel frees the seats at once, another buyer gets them with a new ticket id, and the stores, count, money and audit follow', async () => {
  const seats = [
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
  ];
  const alice = await buy('alice', seats);
  const keep = await buy('carol', [{ row: 'D', column: 9 }]);
  await caughtUp();
  expect((await get(`/api/v1/tickets/money/${entry.venue.venueId}/${eventId}`)).body).toMatchObject({
    soldCount: 3,
    revenueCents: 3 * PRICE,
  });

  const res = await cancel(alice.purchaseId, { userId: 'alice' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    purchaseId: alice.purchaseId,
    status: 'CANCELLED',
    userId: 'alice',
    refund: { status: 'NOT_CHARGED', amountCents: 2 * PRICE, currency: 'USD' },
    tickets: alice.tickets.map((t) =>
      expect.objectContaining({ ticketId: t.ticketId, row: t.row, column: t.column, priceCents: PRICE, status: 'CANCELLED' }),
    ),
  });
  expect(Date.parse(res.body.cancelledAt)).not.toBeNaN();

  // On sale the moment the 200 arrives: free in Redis, counters equal to the popcount, and sold to the next buyer.
  expect(await taken(seats)).toEqual([false, false]);
  expect(await countersMatchBitmap()).toBe(true);
  expect((await get(`/api/v1/tickets/count/${eventId}`)).body.total).toBe(1);
  const bob = await buy('bob', [{ row: 'A', column: 1 }]);
  expect(bob.tickets[0]!.ticketId).not.toBe(alice.tickets[0]!.ticketId);
  expect((await get(`/api/v1/tickets/count/${eventId}`)).body.total).toBe(2);

  await caughtUp();
  const live = sortedEntries(
    new Map([
      [seatKey('z', 'A', 1), bob.tickets[0]!.ticketId],
      [seatKey('z', 'D', 9), keep.tickets[0]!.ticketId],
    ]),
  );
  expect(sortedEntries(await dynamoSeats(stores, eventId, ['z']))).toEqual(live);
  expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(live);
  for (const t of alice.tickets) {
    expect(await stores.writeModel.findTicket(t.ticketId)).toMatchObject({ status: 'CANCELLED', cancelledAt: res.body.cancelledAt });
    expect(await stores.readModel.findTicket(t.ticketId)).toMatchObject({ status: 'CANCELLED', cancelledAt: res.body.cancelledAt });
  }
  expect(await stores.writeModel.findTicket(bob.tickets[0]!.ticketId)).toMatchObject({ status: 'CONFIRMED' });
  const [row] = await stores.ctx.mysql.select<{ n: number; total: number }>(
    'SELECT COUNT(*) AS n, SUM(total_cents) AS total FROM cancellations WHERE purchase_id = ?',
    [alice.purchaseId],
  );
  expect({ n: Number(row?.n), total: Number(row?.total) }).toEqual({ n: 1, total: 2 * PRICE });

  // Money is what the live tickets were sold at: the cancelled ones are subtracted.
  expect((await get(`/api/v1/tickets/money/${entry.venue.venueId}/${eventId}`)).body).toMatchObject({
    soldCount: 2,
    revenueCents: 2 * PRICE,
  });
  expect((await get(`/api/v1/events/${eventId}/sales`)).body.totals).toMatchObject({ sold: 2, revenueCents: 2 * PRICE });
  const audit = await auditEvent(stores, eventId, { waitMs: 20_000 });
  expect(audit.drift).toEqual([]);
  expect(audit.seats).toEqual({ redis: 2, dynamodb: 2, mysql: 2 });
});

test('a second cancel is a no-op with the same answer', async () => {
  const p = await buy('dave', [{ row: 'B', column: 3 }]);
  const first = await cancel(p.purchaseId, undefined, { 'x-user-id': 'dave' });
  expect(first.status).toBe(200);
  const again = await cancel(p.purchaseId, { userId: 'dave' });
  expect(again).toEqual(first);
  expect(await countersMatchBitmap()).toBe(true);
});

test('concurrent cancels of one purchase free its seats once and all answer the same', async () => {
  const seats = [
    { row: 'B', column: 5 },
    { row: 'B', column: 6 },
    { row: 'B', column: 7 },
  ];
  const p = await buy('olga', seats);
  const before = (await inventory.zoneState(eventId, 'z'))!.available;
  const answers = await Promise.all(Array.from({ length: 8 }, () => cancel(p.purchaseId, { userId: 'olga' })));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
  expect(await taken(seats)).toEqual([false, false, false]);
  expect((await inventory.zoneState(eventId, 'z'))!.available).toBe(before + 3);
  expect(await countersMatchBitmap()).toBe(true);
});

test("someone else's purchase is 403 FORBIDDEN and stays sold; the admin token may cancel it", async () => {
  const p = await buy('erin', [{ row: 'B', column: 4 }]);
  for (const attempt of [
    cancel(p.purchaseId, { userId: 'mallory' }),
    cancel(p.purchaseId, undefined, { 'x-user-id': 'mallory' }),
    cancel(p.purchaseId),
  ]) {
    const r = await attempt;
    expect(r).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(r.contentType).toContain('application/problem+json');
  }
  expect(await taken([{ row: 'B', column: 4 }])).toEqual([true]);
  const byAdmin = await cancel(p.purchaseId, undefined, { authorization: `Bearer ${ADMIN}` });
  expect(byAdmin).toMatchObject({ status: 200, body: { status: 'CANCELLED', userId: 'erin' } });
  expect(await taken([{ row: 'B', column: 4 }])).toEqual([false]);
});

test('an unknown purchase is 404, a pending one 409 PURCHASE_NOT_CONFIRMED, a bad body 400', async () => {
  expect(await cancel(`${eventId}.z.AAAAAAAAAAAAAAAA`, { userId: 'x' })).toMatchObject({
    status: 404,
    body: { code: 'PURCHASE_NOT_FOUND' },
  });
  expect(await cancel('not-a-purchase-id', { userId: 'x' })).toMatchObject({ status: 404, body: { code: 'PURCHASE_NOT_FOUND' } });

  // Reserved, its record not acknowledged yet (the api's sweep would send it after PENDING_RESEND_AFTER_MS).
  const purchaseId = newPurchaseId(eventId, 'z');
  const record: TicketPurchased = {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: entry.venue.venueId,
    zoneId: 'z',
    userId: 'frank',
    tickets: [{ ticketId: ticketIdOf(purchaseId, 1), row: 'C', column: 1, priceCents: PRICE }],
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
  await inventory.reserve(eventId, 'z', layout, purchaseId, [layout.locate('C', 1)!], JSON.stringify(record));
  const r = await cancel(purchaseId, { userId: 'frank' });
  expect(r).toMatchObject({ status: 409, body: { code: 'PURCHASE_NOT_CONFIRMED', purchaseId } });
  expect(await taken([{ row: 'C', column: 1 }])).toEqual([true]);

  const p = await buy('gina', [{ row: 'C', column: 2 }]);
  expect(await cancel(p.purchaseId, { userId: 'gina', extra: 1 })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
});

test('a paid purchase is refunded through its provider, once: the repeat shows the same refund', async () => {
  const p = await buy('hank', [
    { row: 'C', column: 5 },
    { row: 'C', column: 6 },
  ]);
  const payment = await payments.charge({
    purchaseId: p.purchaseId,
    method: { provider: 'test', token: 'tok_visa' },
    amountCents: 2 * PRICE,
    currency: 'USD',
  });
  const first = await cancel(p.purchaseId, { userId: 'hank' });
  expect(first.status).toBe(200);
  expect(first.body.refund).toMatchObject({ status: 'REFUNDED', paymentId: payment.paymentId, amountCents: 2 * PRICE, currency: 'USD' });
  expect(first.body.refund.refundId).toEqual(expect.any(String));
  expect((await payments.get(payment.paymentId))?.status).toBe('REFUNDED');
  expect(await cancel(p.purchaseId, { userId: 'hank' })).toEqual(first);
});

test('a purchase whose Redis record has expired is cancelled from the stores, and a later repeat is answered from them', async () => {
  const p = await buy('ivy', [{ row: 'D', column: 1 }]);
  await caughtUp();
  const recordKey = inventory.keys(eventId, 'z').purchase(p.purchaseId);
  await platform.ctx.redis.del(recordKey); // its PURCHASE_RECORD_TTL_SECONDS ended
  const first = await cancel(p.purchaseId, { userId: 'ivy' });
  expect(first).toMatchObject({
    status: 200,
    body: { status: 'CANCELLED', tickets: [expect.objectContaining({ ticketId: p.tickets[0]!.ticketId })] },
  });
  expect(await taken([{ row: 'D', column: 1 }])).toEqual([false]);
  expect(await countersMatchBitmap()).toBe(true);

  await caughtUp();
  await platform.ctx.redis.del(recordKey);
  expect(await cancel(p.purchaseId, { userId: 'mallory' })).toMatchObject({ status: 403 });
  const again = await cancel(p.purchaseId, { userId: 'ivy' });
  expect(again).toEqual(first);
  expect(await taken([{ row: 'D', column: 1 }])).toEqual([false]);
});

test('another api process that saw the seat taken sells it right after the cancel: the release reaches its cache', async () => {
  // A process of its own (the in-process platforms of a test share one RecentlyTaken registry).
  const other = await spawnRole('api', {
    KAFKA_TOPIC_PREFIX: platform.cfg.KAFKA_TOPIC_PREFIX,
    REDIS_KEY_PREFIX: platform.cfg.REDIS_KEY_PREFIX,
    RECENTLY_TAKEN_TTL_MS: '60000',
  });
  const attempt = () =>
    http(other.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'kim', zoneId: 'z', seats: [{ row: 'B', column: 9 }] });
  try {
    await waitReady(other);
    const p = await buy('jack', [{ row: 'B', column: 9 }]);
    // The other process now knows B9 as taken, and would answer so for 60 s without asking Redis.
    expect(await attempt()).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });
    expect((await cancel(p.purchaseId, { userId: 'jack' })).status).toBe(200);
    const resold = await waitFor(
      async () => {
        const r = await attempt();
        return r.status === 201 ? r : undefined;
      },
      'the other api process to sell the released seat',
      5000,
    );
    expect(resold.body.tickets[0].ticketId).not.toBe(p.tickets[0]!.ticketId);
  } finally {
    other.child.kill('SIGTERM');
    await other.exited;
  }
});

test('in jwt mode the buyer is the token: 401 without one, 403 with another buyer’s, 200 with the buyer’s own', async () => {
  const secret = 'a-development-secret-of-32-bytes-or-more';
  const jwt = await startTestPlatform(['api'], {
    KAFKA_TOPIC_PREFIX: platform.cfg.KAFKA_TOPIC_PREFIX,
    REDIS_KEY_PREFIX: platform.cfg.REDIS_KEY_PREFIX,
    AUTH_MODE: 'jwt',
    AUTH_HS256_SECRET: secret,
  });
  const tokenOf = (sub: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
  const cancelAs = async (purchaseId: string, sub?: string) =>
    http(
      jwt.url,
      'POST',
      `/api/v1/purchases/${purchaseId}/cancel`,
      undefined,
      sub ? { authorization: `Bearer ${await tokenOf(sub)}` } : {},
    );
  try {
    const p = await buy('liam', [{ row: 'B', column: 10 }]);
    expect(await cancelAs(p.purchaseId)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await cancelAs(p.purchaseId, 'mallory')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await taken([{ row: 'B', column: 10 }])).toEqual([true]);
    expect(await cancelAs(p.purchaseId, 'liam')).toMatchObject({ status: 200, body: { status: 'CANCELLED', userId: 'liam' } });
    expect(await taken([{ row: 'B', column: 10 }])).toEqual([false]);
  } finally {
    await jwt.stop();
  }
});
