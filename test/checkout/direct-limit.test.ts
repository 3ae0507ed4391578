import { resetEvent } from '../../src/admin/reset';
import { CatalogStore } from '../../src/catalog/store';
import { BuyerAllowance } from '../../src/inventory/allowance';
import { Holds } from '../../src/inventory/holds';
import { Inventory, isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform } from '../support/platform';
import { checkoutClient } from './support';

/**
 * The per-buyer limit on the direct routes (issue 13, item 5): a declared buyer's purchases count
 * with their holds across zones and routes; a cancellation gives its seats back; the prototype's
 * anonymous routes keep the per-request limit, so the seed load test runs unchanged.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('Lim');
const LIMIT = 4;
const entry = testEntry({ eventId, perUserLimit: LIMIT, zones: [{ zoneId: 'a' }, { zoneId: 'b' }] });
let cleanup: () => Promise<void>;
let c: ReturnType<typeof checkoutClient>;
let allowance: BuyerAllowance;
let inventory: Inventory;

beforeAll(async () => {
  platform = await startTestPlatform(['api']);
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  cleanup = await seedTestEvent(redis, prefix, entry);
  c = checkoutClient(platform.url, eventId);
  allowance = new BuyerAllowance(redis, prefix, new Holds(redis, prefix));
  inventory = new Inventory(redis, prefix);
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

type Seat = { row: string; column: number };
const seatsOf = (row: string, ...columns: number[]): Seat[] => columns.map((column) => ({ row, column }));
const cancel = (purchaseId: string, userId: string) => http(platform.url, 'POST', `/api/v1/purchases/${purchaseId}/cancel`, { userId });
const taken = async (zoneId: string, seats: Seat[]) => {
  const st = (await inventory.zoneState(eventId, zoneId))!;
  const layout = ZoneLayout.of(entry.venue.zones.find((z) => z.zoneId === zoneId)!);
  return seats.map((s) => isTaken(st.bits, layout.locate(s.row, s.column)!.offset));
};

test('direct purchases and holds of one buyer count together across zones: 409 BUYER_LIMIT_REACHED with the number left', async () => {
  const max = uid('max');
  expect((await c.buy({ zoneId: 'a', seats: seatsOf('A', 1, 2), userId: max })).status).toBe(201);
  expect((await c.hold({ zoneId: 'b', seats: seatsOf('A', 1), userId: max })).status).toBe(201);
  const over = await c.buy({ zoneId: 'b', seats: seatsOf('B', 1, 2), userId: max });
  expect(over).toMatchObject({ status: 409, body: { code: 'BUYER_LIMIT_REACHED', left: 1, limit: LIMIT } });
  expect(over.contentType).toContain('application/problem+json');
  expect(over.body.detail).toMatch(/1 more seat\(s\).*ask for fewer seats, or release a hold/);
  expect((await c.buy({ zoneId: 'b', seats: seatsOf('B', 1), userId: max })).status).toBe(201);
  expect(await c.hold({ zoneId: 'a', seats: seatsOf('C', 1), userId: max })).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });
  // The refused purchase sold nothing: another buyer gets those seats.
  expect(await taken('b', seatsOf('B', 1, 2))).toEqual([true, false]);
  expect((await c.buy({ zoneId: 'b', seats: seatsOf('B', 2), userId: uid('other') })).status).toBe(201);
  expect(await allowance.used(eventId, max)).toBe(LIMIT);
});

test('the single-seat routes count a named buyer (body, query or X-User-Id) the same; a refused seat costs no allowance', async () => {
  const ann = uid('ann');
  const sold = [
    await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'a', row: 'D', column: 1, userId: ann }),
    await http(platform.url, 'POST', `/ticket?eventId=${eventId}&zoneId=a&row=D&column=2&userId=${ann}`),
    await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'b', row: 'D', column: 3 }, { 'x-user-id': ann }),
  ];
  expect(sold.map((r) => r.status)).toEqual([201, 201, 201]);
  // D1 is taken: refused, and the buyer still has one seat left.
  expect(await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'a', row: 'D', column: 1, userId: ann })).toMatchObject({
    status: 409,
    body: { code: 'SEATS_TAKEN' },
  });
  expect((await c.buy({ zoneId: 'b', seats: seatsOf('D', 4), userId: ann })).status).toBe(201);
  expect(await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'a', row: 'D', column: 5, userId: ann })).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });
  expect(await taken('a', seatsOf('D', 5))).toEqual([false]);
});

test('cancelling a purchase gives its seats back to the buyer, once; so does cancelling a paid hold', async () => {
  const bea = uid('bea');
  const direct = await c.buy({ zoneId: 'a', seats: seatsOf('E', 1, 2, 3), userId: bea });
  expect(direct.status).toBe(201);
  const h = await c.hold({ zoneId: 'b', seats: seatsOf('E', 1), userId: bea });
  expect(h.status).toBe(201);
  const paid = await c.pay(h.body.holdId, 'tok_visa', { user: bea });
  expect(paid).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
  expect(await c.buy({ zoneId: 'a', seats: seatsOf('E', 4), userId: bea })).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });

  // The 200 comes after the release: the seats are on sale and the allowance has them back.
  expect(await cancel(direct.body.purchaseId, bea)).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
  expect(await allowance.used(eventId, bea)).toBe(1);
  // A repeat changes nothing: the three seats are not given back twice.
  expect((await cancel(direct.body.purchaseId, bea)).status).toBe(200);
  expect(await allowance.used(eventId, bea)).toBe(1);
  const again = await c.buy({ zoneId: 'a', seats: seatsOf('E', 1, 2, 3), userId: bea });
  expect(again.status).toBe(201);
  expect(again.body.tickets.map((t: { ticketId: string }) => t.ticketId)).not.toEqual(
    direct.body.tickets.map((t: { ticketId: string }) => t.ticketId),
  );
  expect(await c.buy({ zoneId: 'a', seats: seatsOf('E', 4), userId: bea })).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });

  // The paid hold's purchase counts for good until it is cancelled too.
  expect(await cancel(paid.body.purchaseId, bea)).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
  expect((await c.buy({ zoneId: 'b', seats: seatsOf('E', 2), userId: bea })).status).toBe(201);
  expect(await allowance.used(eventId, bea)).toBe(LIMIT);
});

test('the anonymous seed routes keep the per-request limit only, and leave no allowance behind', async () => {
  for (let column = 1; column <= 6; column++) {
    expect((await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'a', row: 'Z', column })).status).toBe(201);
  }
  expect(await allowance.entries(eventId, 'anonymous')).toEqual([]);
  // The per-request limit still holds for everyone.
  expect(await c.buy({ zoneId: 'a', seats: seatsOf('Y', 1, 2, 3, 4, 5), userId: uid('big') })).toMatchObject({
    status: 400,
    body: { code: 'TOO_MANY_SEATS', limit: LIMIT },
  });
});

// Last: it resets the event.
test("the admin reset deletes the buyers' allowances with the sales they counted; other events keep theirs", async () => {
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  const otherId = uid('LimOther');
  const cleanupOther = await seedTestEvent(redis, prefix, testEntry({ eventId: otherId, perUserLimit: LIMIT }));
  try {
    const cy = uid('cy');
    expect((await c.buy({ zoneId: 'a', seats: seatsOf('F', 1, 2, 3, 4), userId: cy })).status).toBe(201);
    const other = await http(platform.url, 'POST', `/api/v1/events/${otherId}/purchases`, {
      userId: cy,
      zoneId: '1',
      seats: seatsOf('A', 1),
    });
    expect(other.status).toBe(201);
    expect(await c.buy({ zoneId: 'b', seats: seatsOf('F', 1), userId: cy })).toMatchObject({
      status: 409,
      body: { code: 'BUYER_LIMIT_REACHED' },
    });

    await resetEvent(eventId, { catalog: new CatalogStore(redis, prefix), inventory });
    expect(await allowance.entries(eventId, cy)).toEqual([]);
    expect(await allowance.used(otherId, cy)).toBe(1);
    // Other seats: this api's recently-taken cache still remembers F1-F4 for a moment.
    expect((await c.buy({ zoneId: 'a', seats: seatsOf('G', 1, 2, 3, 4), userId: cy })).status).toBe(201);
  } finally {
    await cleanupOther();
  }
});
