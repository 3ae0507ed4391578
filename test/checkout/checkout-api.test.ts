import { Inventory } from '../../src/inventory/inventory';
import { PaymentStore } from '../../src/payment/store';
import type { TicketPurchased } from '../../src/purchase/record';
import { topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { readTopic } from '../support/kafka';
import { dropKeyPrefix, http, startTestPlatform } from '../support/platform';
import { checkoutClient, deliver, hasOrphan, rowTaken, settlePending, WEBHOOK_SECRET } from './support';

/**
 * Issue 13's "Done when" walkthrough against one api on the real services (declared buyers):
 * holds, expiry, extension, paying with the test provider's cards, the signed webhook, late
 * payments, the per-buyer limit across zones, best available, Idempotency-Key and /me.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('Chk');
const cleanups: (() => Promise<void>)[] = [];
let c: ReturnType<typeof checkoutClient>;
let inventory: Inventory;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], { PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const { redis } = platform.ctx;
  const rows = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
  const entry = testEntry({
    eventId,
    perUserLimit: 4,
    zones: [
      { zoneId: 'a', rows, seatCounts: rows.map(() => 10), priceCents: 2500 },
      { zoneId: 'b', rows, seatCounts: rows.map(() => 10) },
      { zoneId: 'best', rows: ['A', 'B'], seatCounts: [5, 5] },
    ],
  });
  cleanups.push(await seedTestEvent(redis, platform.cfg.REDIS_KEY_PREFIX, entry));
  c = checkoutClient(platform.url, eventId);
  inventory = new Inventory(redis, platform.cfg.REDIS_KEY_PREFIX);
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

const seats = (row: string, ...columns: number[]) => columns.map((column) => ({ row, column }));
const ticketSeats = (body: { tickets: { row: string; column: number }[] }) => body.tickets.map((t) => `${t.row}${t.column}`).sort();

test('two seats held: the contract fields, another buyer gets 409 SEATS_TAKEN, only the buyer reads the hold', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('A', 1, 2), userId: 'ann' });
  expect(h.status).toBe(201);
  expect(h.body).toMatchObject({
    eventId,
    zoneId: 'a',
    seats: seats('A', 1, 2),
    amountCents: 5000,
    currency: 'USD',
    nextToEachOther: true,
    status: 'HELD',
  });
  expect(h.body.holdId).toMatch(new RegExp(`^${eventId}\\.a\\.h`));
  const expiresIn = Date.parse(h.body.expiresAt) - Date.now();
  expect(expiresIn).toBeGreaterThan(590_000); // HOLD_DEFAULT_SECONDS = 600
  expect(expiresIn).toBeLessThanOrEqual(600_000);

  const bob = await c.hold({ zoneId: 'a', seats: seats('A', 2, 3), userId: 'bob' });
  expect(bob).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN', seats: seats('A', 2) } });
  expect(await c.buy({ zoneId: 'a', seats: seats('A', 1), userId: 'bob' })).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });

  expect((await c.getHold(h.body.holdId, { user: 'ann' })).body).toMatchObject({ holdId: h.body.holdId, status: 'HELD' });
  expect(await c.getHold(h.body.holdId, { user: 'bob' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  expect(await c.release(h.body.holdId, { user: 'bob' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  expect(await c.pay(h.body.holdId, 'tok_visa', { user: 'bob' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  expect(await c.getHold(`${eventId}.a.hAAAAAAAAAAAAAAAA`, { user: 'ann' })).toMatchObject({
    status: 404,
    body: { code: 'HOLD_NOT_FOUND' },
  });

  const released = await c.release(h.body.holdId, { user: 'ann' });
  expect(released).toMatchObject({ status: 200, body: { status: 'RELEASED' } });
  // Released, the seats are on sale at once.
  expect((await c.hold({ zoneId: 'a', seats: seats('A', 2, 3), userId: 'bob' })).status).toBe(201);
});

test('a 5-second hold expires by itself and another buyer buys its seats', async () => {
  const before = (await inventory.zoneState(eventId, 'a'))!.available;
  const h = await c.hold({ zoneId: 'a', seats: seats('B', 1, 2), userId: 'ann', expiresInSeconds: 5 });
  expect(h.status).toBe(201);
  expect((await inventory.zoneState(eventId, 'a'))!.available).toBe(before - 2);
  expect(await c.hold({ zoneId: 'a', seats: seats('B', 3), userId: 'ann', expiresInSeconds: 4 })).toMatchObject({
    status: 400,
    body: { code: 'VALIDATION_FAILED' },
  });

  await c.holdReads(h.body.holdId, 'EXPIRED', { user: 'ann' });
  // The sweeper gives the seats back without anybody asking for them.
  await waitFor(async () => (await inventory.zoneState(eventId, 'a'))!.available === before, 'the hold sweeper to return the seats', 5000);
  // Not bob: he holds 2 seats already, and the tests below have him asking for taken seats within
  // the event's perUserLimit (4), so that SEATS_TAKEN, not BUYER_LIMIT_REACHED, is what he hears.
  const bought = await c.buy({ zoneId: 'a', seats: seats('B', 1, 2), userId: 'cal' });
  expect(bought.status).toBe(201);
  expect(ticketSeats(bought.body)).toEqual(['B1', 'B2']);
  // Paying the expired hold now charges nothing.
  expect(await c.pay(h.body.holdId, 'tok_visa', { user: 'ann' })).toMatchObject({ status: 409, body: { code: 'HOLD_EXPIRED' } });
});

test('a hold extended past its first expiry stays held; extensions stop at HOLD_MAX_SECONDS', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('C', 1), userId: 'ann', expiresInSeconds: 5 });
  const first = Date.parse(h.body.expiresAt);
  const extended = await c.extend(h.body.holdId, 10, { user: 'ann' });
  expect(extended.status).toBe(200);
  expect(Date.parse(extended.body.expiresAt)).toBe(first + 10_000);
  expect(await c.extend(h.body.holdId, 7200, { user: 'ann' })).toMatchObject({ status: 409, body: { code: 'HOLD_LIMIT_REACHED' } });
  expect(await c.extend(h.body.holdId, 10, { user: 'bob' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });

  await waitFor(() => Date.now() > first + 1000, 'the first expiry to pass', 10_000, 100);
  expect((await c.getHold(h.body.holdId, { user: 'ann' })).body.status).toBe('HELD');
  expect(await c.hold({ zoneId: 'a', seats: seats('C', 1), userId: 'bob' })).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });
  await c.release(h.body.holdId, { user: 'ann' });
});

test('pay with tok_visa: 201 with the tickets after the acknowledgement; the purchase reads CONFIRMED and its record carries the payment', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('D', 4, 5), userId: 'cyd' });
  const paid = await c.pay(h.body.holdId, 'tok_visa', { user: 'cyd' });
  expect(paid.status).toBe(201);
  expect(paid.body).toMatchObject({
    status: 'CONFIRMED',
    eventId,
    zoneId: 'a',
    userId: 'cyd',
    holdId: h.body.holdId,
    payment: { provider: 'test' },
  });
  expect(ticketSeats(paid.body)).toEqual(['D4', 'D5']);
  expect(paid.body.tickets.every((t: { priceCents: number }) => t.priceCents === 2500)).toBe(true);
  const { purchaseId } = paid.body;

  expect((await c.purchase(purchaseId)).body).toMatchObject({ purchaseId, status: 'CONFIRMED' });
  expect((await c.getHold(h.body.holdId, { user: 'cyd' })).body).toMatchObject({ status: 'PURCHASED', purchaseId });
  // Paying again charges nothing more and answers the same purchase.
  const again = await c.pay(h.body.holdId, 'tok_visa', { user: 'cyd' });
  expect(again).toMatchObject({ status: 201, body: { purchaseId, tickets: paid.body.tickets } });
  expect(await c.buy({ zoneId: 'a', seats: seats('D', 5), userId: 'bob' })).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });

  const values = await readTopic(platform.ctx.eventLog, topics(platform.cfg).tickets, (v) => v.some((x) => x.includes(purchaseId)));
  const records = values.map((v) => JSON.parse(v) as TicketPurchased).filter((r) => r.purchaseId === purchaseId);
  expect(records[0]!.payment).toEqual({ provider: 'test', paymentId: paid.body.payment.paymentId });
  expect(records[0]!.tickets.map((t) => t.ticketId).sort()).toEqual(paid.body.tickets.map((t: { ticketId: string }) => t.ticketId).sort());
});

test('tok_chargeDeclined: 402 PAYMENT_DECLINED, nothing sold, the hold stays HELD and another card pays it', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('E', 1), userId: 'dee' });
  const declined = await c.pay(h.body.holdId, 'tok_chargeDeclined', { user: 'dee' });
  expect(declined).toMatchObject({ status: 402, body: { code: 'PAYMENT_DECLINED', declineCode: 'card_declined' } });
  expect((await c.getHold(h.body.holdId, { user: 'dee' })).body.status).toBe('HELD');
  expect(await c.buy({ zoneId: 'a', seats: seats('E', 1), userId: 'bob' })).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });
  expect(await c.pay(h.body.holdId, 'tok_unknown', { user: 'dee' })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  const paid = await c.pay(h.body.holdId, 'tok_visa', { user: 'dee' });
  expect(paid.status).toBe(201);
  expect(ticketSeats(paid.body)).toEqual(['E1']);
});

test('tok_pending: 202 PAYMENT_PENDING; a badly signed webhook is 401; the signed one confirms the purchase, once', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('F', 1, 2), userId: 'eve' });
  const pending = await c.pay(h.body.holdId, 'tok_pending', { user: 'eve' });
  expect(pending).toMatchObject({ status: 202, body: { status: 'PAYMENT_PENDING', holdId: h.body.holdId } });
  const { purchaseId, paymentId } = pending.body;
  expect((await c.purchase(purchaseId)).body).toMatchObject({
    purchaseId,
    status: 'PAYMENT_PENDING',
    payment: { provider: 'test', paymentId },
  });
  // Paying again while it is pending answers the same pending payment.
  expect(await c.pay(h.body.holdId, 'tok_visa', { user: 'eve' })).toMatchObject({ status: 202, body: { purchaseId, paymentId } });

  const raw = JSON.stringify({ id: uid('evt_'), type: 'payment.succeeded', paymentId });
  expect(await deliver(platform.url, raw, 'whsec_not_the_platforms_secret_but_32_bytes')).toMatchObject({
    status: 401,
    body: { code: 'WEBHOOK_SIGNATURE_INVALID' },
  });
  expect((await c.purchase(purchaseId)).body.status).toBe('PAYMENT_PENDING');

  const { redis } = platform.ctx;
  const settled = await settlePending(platform.url, redis, platform.cfg.REDIS_KEY_PREFIX, paymentId, 'succeeded');
  expect(settled).toMatchObject({ status: 200, body: { applied: true, status: 'SUCCEEDED' } });
  const confirmed = await c.purchaseReads(purchaseId, 'CONFIRMED');
  expect(ticketSeats(confirmed.body)).toEqual(['F1', 'F2']);
  expect((await c.getHold(h.body.holdId, { user: 'eve' })).body.status).toBe('PURCHASED');
  // A signed duplicate of a new event for the same payment changes nothing (the sale happened once).
  const dup = await deliver(platform.url, JSON.stringify({ id: uid('evt_'), type: 'payment.succeeded', paymentId }));
  expect(dup).toMatchObject({ status: 200, body: { applied: false } });
  expect((await inventory.zoneState(eventId, 'a'))!.available).toBeGreaterThanOrEqual(0);
  expect((await c.purchase(purchaseId)).body.status).toBe('CONFIRMED');
});

test('a pending payment that fails leaves the hold HELD; the purchase reads PAYMENT_FAILED until it is paid again', async () => {
  const h = await c.hold({ zoneId: 'a', seats: seats('G', 1), userId: 'fay' });
  const pending = await c.pay(h.body.holdId, 'tok_pending', { user: 'fay' });
  const failed = await settlePending(platform.url, platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, pending.body.paymentId, 'failed');
  expect(failed).toMatchObject({ status: 200, body: { status: 'FAILED' } });
  expect((await c.purchase(pending.body.purchaseId)).body.status).toBe('PAYMENT_FAILED');
  expect((await c.getHold(h.body.holdId, { user: 'fay' })).body.status).toBe('HELD');
  const paid = await c.pay(h.body.holdId, 'tok_visa', { user: 'fay' });
  expect(paid).toMatchObject({ status: 201, body: { purchaseId: pending.body.purchaseId } });
});

test('late payment: the seats still free, it confirms; the seats sold meanwhile, it is refunded and reads REFUNDED', async () => {
  const free = await c.hold({ zoneId: 'b', seats: seats('A', 1), userId: 'gus', expiresInSeconds: 5 });
  const taken = await c.hold({ zoneId: 'b', seats: seats('A', 2), userId: 'gus', expiresInSeconds: 5 });
  const pendingFree = await c.pay(free.body.holdId, 'tok_pending', { user: 'gus' });
  const pendingTaken = await c.pay(taken.body.holdId, 'tok_pending', { user: 'gus' });
  await c.holdReads(free.body.holdId, 'EXPIRED', { user: 'gus' });
  await c.holdReads(taken.body.holdId, 'EXPIRED', { user: 'gus' });
  expect((await c.buy({ zoneId: 'b', seats: seats('A', 2), userId: 'bob' })).status).toBe(201);

  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  expect((await settlePending(platform.url, redis, prefix, pendingFree.body.paymentId, 'succeeded')).status).toBe(200);
  const late = await c.purchaseReads(pendingFree.body.purchaseId, 'CONFIRMED');
  expect(ticketSeats(late.body)).toEqual(['A1']);

  expect((await settlePending(platform.url, redis, prefix, pendingTaken.body.paymentId, 'succeeded')).status).toBe(200);
  const refunded = await c.purchaseReads(pendingTaken.body.purchaseId, 'REFUNDED');
  expect(refunded.body).toMatchObject({ reason: 'SEATS_TAKEN', refund: { status: 'REFUNDED', amountCents: 5000 }, tickets: [] });
  expect((await new PaymentStore(redis, prefix, 3600).get(pendingTaken.body.paymentId))?.status).toBe('REFUNDED');
  // The seat stays bob's: the refunded purchase sold nothing.
  expect((await c.purchase(pendingTaken.body.purchaseId)).body.status).toBe('REFUNDED');
  expect(await c.pay(taken.body.holdId, 'tok_visa', { user: 'gus' })).toMatchObject({
    status: 409,
    body: { code: 'PAYMENT_REFUNDED', status: 'REFUNDED' },
  });
});

test('the per-buyer limit counts holds across zones (409 BUYER_LIMIT_REACHED with the number left); anonymous requests keep the per-request limit', async () => {
  const hal = { user: 'hal' };
  expect((await c.hold({ zoneId: 'a', seats: seats('H', 1, 2) }, hal)).status).toBe(201);
  const second = await c.hold({ zoneId: 'b', seats: seats('H', 1) }, hal);
  expect(second.status).toBe(201);
  const over = await c.hold({ zoneId: 'b', seats: seats('H', 2, 3) }, hal);
  expect(over).toMatchObject({ status: 409, body: { code: 'BUYER_LIMIT_REACHED', left: 1 } });
  expect((await c.hold({ zoneId: 'b', best: { count: 1 } }, hal)).status).toBe(201);
  expect(await c.hold({ zoneId: 'a', seats: seats('H', 3) }, hal)).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });
  // Releasing gives the allowance back.
  await c.release(second.body.holdId, hal);
  expect((await c.hold({ zoneId: 'a', seats: seats('H', 3) }, hal)).status).toBe(201);
  // Nobody named: only the per-request limit (4) applies, request after request.
  expect((await c.hold({ zoneId: 'b', seats: seats('G', 1, 2, 3, 4) })).status).toBe(201);
  expect((await c.hold({ zoneId: 'b', seats: seats('G', 5, 6, 7, 8) })).status).toBe(201);
  expect(await c.hold({ zoneId: 'b', seats: seats('F', 1, 2, 3, 4, 5) })).toMatchObject({ status: 400, body: { code: 'TOO_MANY_SEATS' } });
});

test('best available holds adjacent seats in one row that leave no orphan', async () => {
  expect((await c.buy({ zoneId: 'best', seats: seats('A', 1), userId: 'ian' })).status).toBe(201);
  const h = await c.hold({ zoneId: 'best', best: { count: 2 }, userId: 'ian' });
  expect(h.status).toBe(201);
  expect(h.body.nextToEachOther).toBe(true);
  const held = h.body.seats as { row: string; column: number }[];
  expect(new Set(held.map((s) => s.row)).size).toBe(1);
  expect(Math.abs(held[0]!.column - held[1]!.column)).toBe(1);
  const map = await http(platform.url, 'GET', `/api/v1/events/${eventId}/zones/best/seats`);
  const rowIdx = ['A', 'B'].indexOf(held[0]!.row);
  expect(hasOrphan(rowTaken(map.body, rowIdx))).toBe(false);
  // Row A, the stage's, is preferred when it can take the pair without an orphan.
  expect(held[0]!.row).toBe('A');
});

test('the seat map tells held seats from sold ones: `held` marks the taken seats that are held', async () => {
  const rowE = 4;
  const seatMap = async () => (await http(platform.url, 'GET', `/api/v1/events/${eventId}/zones/b/seats`)).body;
  const heldIn = (map: { held: { data: string }; seatCounts: number[] }) => rowTaken({ sold: map.held, seatCounts: map.seatCounts }, rowE);
  const columns = (row: boolean[]) => row.flatMap((on, i) => (on ? [i + 1] : []));
  const before = await seatMap();
  const h = await c.hold({ zoneId: 'b', seats: seats('E', 1, 2), userId: 'lou' });
  expect(h.status).toBe(201);
  expect((await c.buy({ zoneId: 'b', seats: seats('E', 3), userId: 'bob' })).status).toBe(201);
  const during = await seatMap();
  expect([columns(rowTaken(during, rowE)), columns(heldIn(during))]).toEqual([
    [1, 2, 3],
    [1, 2],
  ]);
  // Held seats are not available: the counts cover sold and held seats alike.
  expect(during.available).toBe(before.available - 3);
  expect(during.rowAvailable[rowE]).toBe(before.rowAvailable[rowE] - 3);

  expect((await c.release(h.body.holdId, { user: 'lou' })).status).toBe(200);
  const after = await seatMap();
  expect([columns(rowTaken(after, rowE)), columns(heldIn(after))]).toEqual([[3], []]);
  expect(after.available).toBe(before.available - 1);
});

test('Idempotency-Key: the same key and body answer the same hold; another body gets 422', async () => {
  const key = uid('k');
  const body = { zoneId: 'b', seats: seats('B', 7, 8), userId: 'jay' };
  const first = await c.hold(body, undefined, { 'idempotency-key': key });
  expect(first.status).toBe(201);
  const again = await c.hold(body, undefined, { 'idempotency-key': key });
  expect(again).toEqual(first);
  expect(await c.hold({ ...body, seats: seats('B', 9) }, undefined, { 'idempotency-key': key })).toMatchObject({
    status: 422,
    body: { code: 'IDEMPOTENCY_KEY_REUSED' },
  });
  // Paying under a key replays the 201.
  const payKey = uid('p');
  const paid = await c.pay(first.body.holdId, 'tok_visa', { user: 'jay' }, { 'idempotency-key': payKey });
  expect(paid.status).toBe(201);
  expect(await c.pay(first.body.holdId, 'tok_visa', { user: 'jay' }, { 'idempotency-key': payKey })).toEqual(paid);
});

test("/me/holds and /me/purchases list the buyer's own, and need a named buyer", async () => {
  // Buyer ids of this test alone: /me/purchases reads the shared read model too.
  const kim = { user: uid('kim') };
  const h = await c.hold({ zoneId: 'b', seats: seats('C', 1) }, kim);
  const paidHold = await c.hold({ zoneId: 'b', seats: seats('C', 2) }, kim);
  const paid = await c.pay(paidHold.body.holdId, 'tok_visa', kim);
  expect(paid.status).toBe(201);
  const holds = await c.me('holds', kim);
  expect(holds.status).toBe(200);
  expect(holds.body.holds.map((x: { holdId: string; status: string }) => `${x.holdId}:${x.status}`).sort()).toEqual(
    [`${h.body.holdId}:HELD`, `${paidHold.body.holdId}:PURCHASED`].sort(),
  );
  const purchases = await c.me('purchases', kim);
  expect(purchases.body.purchases.map((p: { purchaseId: string; status: string }) => `${p.purchaseId}:${p.status}`)).toEqual([
    `${paid.body.purchaseId}:CONFIRMED`,
  ]);
  expect((await c.me('holds', { user: uid('lou') })).body.holds).toEqual([]);
  expect(await c.me('holds')).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
});
