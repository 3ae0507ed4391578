import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ZoneLayout } from '../../src/inventory/layout';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { SCHEMA_VERSION } from '../../src/purchase/record';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { testStores } from '../cqrs/support';

/**
 * `GET /api/v1/purchases/{id}` is the route buyers poll after a 503: it must keep answering
 * once the Redis record is gone (a Redis loss, or the record's 7-day TTL), from DynamoDB and
 * then MySQL, the way the ticket route does.
 */
const eventId = uid('ById');
const rows = ['A', 'B', 'C'];
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows, seatCounts: rows.map(() => 10), priceCents: 4200 }] });
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let stores: ReturnType<typeof testStores>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  // The sweep must not send the hand-made pending record of the last test.
  platform = await startTestPlatform(['api', 'writer', 'projector'], { PENDING_RESEND_AFTER_MS: '3600000' });
  stores = testStores(platform.cfg);
  cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
});

afterAll(async () => {
  await stores?.writeModel.dropEvent(eventId).catch(() => undefined);
  await stores?.readModel.deleteEvent(eventId).catch(() => undefined);
  await cleanup?.();
  await stores?.closeAll();
  await platform?.stop();
});

const get = (path: string) => http(platform.url, 'GET', path);
const recordKey = (purchaseId: string) => stores.inventory.keys(eventId, 'z').purchase(purchaseId);

/** Buys seats and waits until both stores hold every ticket of the purchase. */
async function soldAndStored(seats: { row: string; column: number }[]) {
  // A buyer per purchase: one buyer's purchases together would pass the event's perUserLimit.
  const buyer = uid('by-id');
  const sold = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: buyer, zoneId: 'z', seats });
  expect(sold.status).toBe(201);
  const ids = (sold.body.tickets as { ticketId: string }[]).map((t) => t.ticketId);
  await waitFor(
    async () => {
      const inDynamo = await Promise.all(ids.map((id) => stores.writeModel.findTicket(id)));
      const inMysql = await Promise.all(ids.map((id) => stores.readModel.findTicket(id).catch(() => undefined)));
      return [...inDynamo, ...inMysql].every(Boolean);
    },
    'the writer and the projector to store the tickets',
    60000,
    200,
  );
  // What GET answered while the Redis record was there: the answer must not change without it.
  const before = await get(`/api/v1/purchases/${sold.body.purchaseId}`);
  expect(before).toMatchObject({ status: 200, body: { status: 'CONFIRMED' } });
  return { purchaseId: sold.body.purchaseId as string, ids, before: before.body, buyer };
}

/** Waits until both stores hold every ticket of the purchase as cancelled. */
async function cancelledInStores(ids: string[]) {
  await waitFor(
    async () => {
      const inDynamo = await Promise.all(ids.map((id) => stores.writeModel.findTicket(id)));
      const inMysql = await Promise.all(ids.map((id) => stores.readModel.findTicket(id).catch(() => undefined)));
      return [...inDynamo, ...inMysql].every((t) => t?.status === 'CANCELLED');
    },
    'the writer and the projector to store the cancellation',
    60000,
    200,
  );
}

test('with the Redis record gone, a confirmed purchase is read from DynamoDB', async () => {
  const { purchaseId, before } = await soldAndStored([
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
    { row: 'B', column: 5 },
  ]);
  expect(await platform.ctx.redis.del(recordKey(purchaseId))).toBe(1);

  const after = await get(`/api/v1/purchases/${purchaseId}`);
  expect(after.status).toBe(200);
  expect(after.body).toEqual(before);
  expect(
    after.body.tickets.map((t: { ticketId: string; row: string; column: number; priceCents: number; status: string }) => [
      t.ticketId,
      `${t.row}${t.column}`,
      t.priceCents,
      t.status,
    ]),
  ).toEqual([
    [`${purchaseId}.1`, 'A1', 4200, 'CONFIRMED'],
    [`${purchaseId}.2`, 'A2', 4200, 'CONFIRMED'],
    [`${purchaseId}.3`, 'B5', 4200, 'CONFIRMED'],
  ]);
});

test('with the Redis record and the DynamoDB tickets gone, it is read from MySQL', async () => {
  const { purchaseId, ids, before } = await soldAndStored([
    { row: 'C', column: 3 },
    { row: 'C', column: 4 },
  ]);
  await platform.ctx.redis.del(recordKey(purchaseId));
  for (const id of ids)
    await stores.ctx.dynamo.send(
      new DeleteItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Key: { ticketId: { S: id } } }),
    );

  const after = await get(`/api/v1/purchases/${purchaseId}`);
  expect(after.status).toBe(200);
  expect(after.body).toEqual(before);
});

test('a record left reserved in Redis whose tickets the stores hold is confirmed (the confirm write was lost)', async () => {
  const { purchaseId, before } = await soldAndStored([{ row: 'B', column: 9 }]);
  await platform.ctx.redis.hset(recordKey(purchaseId), 'status', 'reserved');
  const after = await get(`/api/v1/purchases/${purchaseId}`);
  expect(after).toMatchObject({ status: 200, body: before });
});

test('a cancelled purchase reads CANCELLED: from its Redis record, then from DynamoDB, then from MySQL', async () => {
  const { purchaseId, ids, before, buyer } = await soldAndStored([
    { row: 'A', column: 4 },
    { row: 'A', column: 5 },
  ]);
  const cancelled = await http(platform.url, 'POST', `/api/v1/purchases/${purchaseId}/cancel`, { userId: buyer });
  expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
  const asCancelled = {
    ...before,
    status: 'CANCELLED',
    tickets: (before.tickets as { status: string }[]).map((t) => ({ ...t, status: 'CANCELLED' })),
  };
  // The Redis record (cancel = cancelled) answers at once, before any store has the cancellation.
  expect(await get(`/api/v1/purchases/${purchaseId}`)).toMatchObject({ status: 200, body: asCancelled });

  await cancelledInStores(ids);
  await platform.ctx.redis.del(recordKey(purchaseId));
  const fromDynamo = await get(`/api/v1/purchases/${purchaseId}`);
  expect(fromDynamo.status).toBe(200);
  expect(fromDynamo.body).toEqual(asCancelled);

  for (const id of ids)
    await stores.ctx.dynamo.send(
      new DeleteItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Key: { ticketId: { S: id } } }),
    );
  const fromMysql = await get(`/api/v1/purchases/${purchaseId}`);
  expect(fromMysql.status).toBe(200);
  expect(fromMysql.body).toEqual(asCancelled);
});

test('a purchase whose cancellation is still under way (CANCELLING) reads CONFIRMED: its seats are still taken', async () => {
  const { purchaseId, before } = await soldAndStored([{ row: 'B', column: 1 }]);
  await platform.ctx.redis.hset(recordKey(purchaseId), 'cancel', 'cancelling');
  expect(await get(`/api/v1/purchases/${purchaseId}`)).toMatchObject({ status: 200, body: before });
});

test('a purchase found nowhere is 404; one only pending in Redis stays PENDING', async () => {
  const missing = await get(`/api/v1/purchases/${newPurchaseId(eventId, 'z')}`);
  expect(missing).toMatchObject({ status: 404, body: { code: 'PURCHASE_NOT_FOUND' } });

  // A reservation whose record never reached Kafka (as after a 503 PURCHASE_OUTCOME_UNKNOWN).
  const layout = ZoneLayout.of(entry.venue.zones[0]!);
  const purchaseId = newPurchaseId(eventId, 'z');
  const seat = { row: 'C', column: 10 };
  const body = {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: entry.venue.venueId,
    zoneId: 'z',
    userId: 'p',
    tickets: [{ ticketId: ticketIdOf(purchaseId, 1), ...seat, priceCents: 4200 }],
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
  expect(
    (await stores.inventory.reserve(eventId, 'z', layout, purchaseId, [layout.locate(seat.row, seat.column)!], JSON.stringify(body))).code,
  ).toBe(0);
  const pending = await get(`/api/v1/purchases/${purchaseId}`);
  expect(pending).toMatchObject({
    status: 200,
    body: { purchaseId, status: 'PENDING', tickets: [{ ticketId: `${purchaseId}.1`, row: 'C', column: 10, status: 'PENDING' }] },
  });
});

test('a purchase DynamoDB holds only some tickets of (a partial batch write) is read whole from MySQL, never smaller', async () => {
  const { purchaseId, ids, before } = await soldAndStored([
    { row: 'A', column: 7 },
    { row: 'A', column: 8 },
    { row: 'B', column: 8 },
  ]);
  await platform.ctx.redis.del(recordKey(purchaseId));
  await stores.ctx.dynamo.send(
    new DeleteItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Key: { ticketId: { S: ids[2]! } } }),
  );

  const after = await get(`/api/v1/purchases/${purchaseId}`);
  expect(after).toMatchObject({ status: 200 });
  expect(after.body).toEqual(before);
});

test('a purchase no store holds whole yet is still unknown (503 with its id), then whole once the writer stored it', async () => {
  const { purchaseId, ids, before } = await soldAndStored([
    { row: 'C', column: 7 },
    { row: 'C', column: 8 },
  ]);
  await platform.ctx.redis.del(recordKey(purchaseId));
  // DynamoDB holds the first ticket only (the writer's batch stored it, not yet the second), MySQL none.
  const key = { ticketId: { S: ids[1]! } };
  const second = (
    await stores.ctx.dynamo.send(
      new GetItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Key: key, ConsistentRead: true }),
    )
  ).Item!;
  await stores.ctx.dynamo.send(new DeleteItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Key: key }));
  await stores.ctx.mysql.run(`DELETE FROM tickets WHERE ticket_id IN (${ids.map(() => '?').join(',')})`, ids);

  const partial = await get(`/api/v1/purchases/${purchaseId}`);
  expect(partial).toMatchObject({ status: 503, body: { code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId } });

  await stores.ctx.dynamo.send(new PutItemCommand({ TableName: stores.writeModel.tablesOf(eventId, 0).tickets, Item: second }));
  const whole = await get(`/api/v1/purchases/${purchaseId}`);
  expect(whole).toMatchObject({ status: 200 });
  expect(whole.body).toEqual(before);
});

test('a purchase id fenced by an Idempotency-Key take-over (status fenced) sold nothing: 404', async () => {
  const purchaseId = newPurchaseId(eventId, 'z');
  await platform.ctx.redis.tpFence(recordKey(purchaseId), recordKey(purchaseId), 'purchase', Date.now(), 60);
  expect(await platform.ctx.redis.hget(recordKey(purchaseId), 'status')).toBe('fenced');
  expect(await get(`/api/v1/purchases/${purchaseId}`)).toMatchObject({ status: 404, body: { code: 'PURCHASE_NOT_FOUND' } });
});
