import { problemOf } from '../../src/http/outcomes';
import { OutcomeError } from '../../src/purchase/engine';
import { CatalogCache } from '../../src/catalog/cache';
import { CatalogStore } from '../../src/catalog/store';
import { HoldService, type CreateHoldRequest } from '../../src/checkout/holds';
import { BuyerAllowance } from '../../src/inventory/allowance';
import { ZoneLayout } from '../../src/inventory/layout';
import { ReserveCode } from '../../src/commands/scripts';
import { metrics } from '../../src/observability/metrics';
import { ApiError } from '../../src/shared/errors';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { holdsHarness } from './holds-support';

/** The checkout's hold surface the routes call: the contract's fields and codes (issue 13, item 1). */
const t = holdsHarness();
const { holds, clock } = t;
const allowance = new BuyerAllowance(t.redis, t.prefix, holds);
const service = new HoldService(holds, allowance, new CatalogCache(new CatalogStore(t.redis, t.prefix)), {
  HOLD_DEFAULT_SECONDS: 600,
  HOLD_MAX_SECONDS: 7200,
  MAX_SEATS_PER_PURCHASE: 10,
});
afterAll(() => t.close());

const eventId = uid('Svc');
const entry = testEntry({
  eventId,
  perUserLimit: 6,
  zones: [
    { zoneId: 'z', rows: ['A', 'B'], seatCounts: [6, 6], priceCents: 2500 },
    { zoneId: 'tiny', rows: ['A'], seatCounts: [2] },
  ],
});
beforeAll(() => seedTestEvent(t.redis, t.prefix, entry));

async function refusal(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    // The domain throws outcomes (OutcomeError) or registry errors; the HTTP table maps the former.
    const e = err instanceof OutcomeError ? problemOf(err.outcome) : err;
    if (e instanceof ApiError) return { code: e.code, status: e.status, ...e.extra };
    throw err;
  }
  throw new Error('expected a refusal');
}
const create = (r: Partial<CreateHoldRequest>) => service.create({ eventId, zoneId: 'z', ...r });
const counter = async (transition: string) =>
  (await metrics.holds.get()).values.find((v) => v.labels.transition === transition)?.value ?? 0;

test('create answers the contract fields; another buyer then gets 409 SEATS_TAKEN', async () => {
  const createdBefore = await counter('created');
  const h = await create({
    buyer: 'ann',
    seats: [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ],
  });
  expect(h).toEqual({
    holdId: expect.stringMatching(new RegExp(`^${eventId}\\.z\\.h[A-Za-z0-9_-]{16}$`)),
    eventId,
    zoneId: 'z',
    seats: [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ],
    expiresAt: new Date(clock.now + 600_000).toISOString(),
    maxExpiresAt: new Date(clock.now + 7_200_000).toISOString(),
    amountCents: 5000,
    currency: 'USD',
    nextToEachOther: true,
    status: 'HELD',
    buyer: 'ann',
  });
  expect(await service.get(h.holdId)).toEqual(h);
  expect(await counter('created')).toBe(createdBefore + 1);
  expect(await refusal(create({ buyer: 'ben', seats: [{ row: 'A', column: 2 }] }))).toEqual({
    code: 'SEATS_TAKEN',
    status: 409,
    seats: [{ row: 'A', column: 2 }],
  });
  await service.release(h.holdId);
});

test('client mistakes are 4xx with stable codes', async () => {
  expect(await refusal(create({ seats: [{ row: 'A', column: 1 }], best: { count: 1 } }))).toMatchObject({
    code: 'VALIDATION_FAILED',
    status: 400,
  });
  expect(await refusal(create({}))).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect(await refusal(create({ best: { count: 1 }, expiresInSeconds: 4 }))).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect(await refusal(create({ best: { count: 1 }, expiresInSeconds: 7201 }))).toMatchObject({ code: 'HOLD_LIMIT_REACHED', status: 409 });
  expect(await refusal(create({ best: { count: 0 } }))).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect(await refusal(create({ best: { count: 7 } }))).toMatchObject({ code: 'TOO_MANY_SEATS', status: 400, limit: 6 });
  expect(await refusal(create({ seats: [{ row: 'Z', column: 1 }] }))).toMatchObject({ code: 'SEAT_OUTSIDE_LAYOUT' });
  expect(
    await refusal(
      create({
        seats: [
          { row: 'A', column: 1 },
          { row: 'A', column: 1 },
        ],
      }),
    ),
  ).toMatchObject({ code: 'DUPLICATE_SEAT' });
  expect(await refusal(create({ zoneId: 'nope', best: { count: 1 } }))).toMatchObject({ code: 'ZONE_NOT_FOUND', status: 404 });
  expect(await refusal(service.create({ eventId: 'NoSuchEvent', zoneId: 'z', best: { count: 1 } }))).toMatchObject({
    code: 'EVENT_NOT_FOUND',
  });
  expect(await refusal(service.get('not-a-hold'))).toMatchObject({ code: 'HOLD_NOT_FOUND', status: 404 });
  expect(await refusal(service.get(`${eventId}.z.h0000000000000000`))).toMatchObject({ code: 'HOLD_NOT_FOUND' });
  expect(await refusal(service.extend(`${eventId}.z.h0000000000000000`, 10))).toMatchObject({ code: 'HOLD_NOT_FOUND' });
  // Best available in a small zone: not enough seats (with the count left), then sold out.
  const one = await service.create({ eventId, zoneId: 'tiny', best: { count: 1 } });
  expect(await refusal(service.create({ eventId, zoneId: 'tiny', best: { count: 2 } }))).toEqual({
    code: 'NOT_ENOUGH_SEATS',
    status: 409,
    left: 1,
  });
  const two = await service.create({ eventId, zoneId: 'tiny', best: { count: 1 } });
  expect(await refusal(service.create({ eventId, zoneId: 'tiny', best: { count: 1 } }))).toEqual({
    code: 'ZONE_SOLD_OUT',
    status: 409,
    left: 0,
  });
  for (const h of [one, two]) await service.release(h.holdId);
});

test('a 5-second hold expires and someone else buys its seats; a hold is extended past its first expiry', async () => {
  const short = await create({ buyer: 'cat', seats: [{ row: 'B', column: 3 }], expiresInSeconds: 5 });
  const long = await create({ buyer: 'cat', best: { count: 2 }, expiresInSeconds: 5 });
  expect(long).toMatchObject({
    seats: [
      { row: 'A', column: 3 },
      { row: 'A', column: 4 },
    ],
    nextToEachOther: true,
  });
  clock.advance(4_000);
  const extended = await service.extend(long.holdId, 60);
  expect(extended.expiresAt).toBe(new Date(Date.parse(long.expiresAt) + 60_000).toISOString());
  clock.advance(1_000);
  expect((await service.get(short.holdId)).status).toBe('EXPIRED');
  expect((await service.get(long.holdId)).status).toBe('HELD');
  expect(await refusal(service.extend(short.holdId, 60))).toMatchObject({ code: 'HOLD_EXPIRED', status: 409 });
  const layout = ZoneLayout.of(entry.venue.zones[0]!);
  const bought = await t.redis.tpReserve(
    ...reserveKeys('z', 'dan'),
    layout.hash,
    `${eventId}.z.dan0000000000000`,
    clock.now,
    '{}',
    layout.locate('B', 3)!.offset,
    1,
  );
  expect(bought[0]).toBe(ReserveCode.OK);
  // Extensions stop at createdAt + HOLD_MAX_SECONDS.
  expect(await refusal(service.extend(long.holdId, 7200))).toMatchObject({ code: 'HOLD_LIMIT_REACHED', status: 409 });
  await service.release(long.holdId);
});

test('release frees the seats now and answers the same twice; a released hold can be neither extended nor paid', async () => {
  const releasedBefore = await counter('released');
  const h = await create({
    buyer: 'eve',
    seats: [
      { row: 'B', column: 5 },
      { row: 'B', column: 6 },
    ],
  });
  expect((await service.release(h.holdId)).status).toBe('RELEASED');
  expect((await service.release(h.holdId)).status).toBe('RELEASED');
  expect(await counter('released')).toBe(releasedBefore + 1);
  expect(await refusal(service.extend(h.holdId, 10))).toMatchObject({ code: 'HOLD_NOT_ACTIVE', status: 409 });
  expect(await service.convert({ holdId: h.holdId })).toMatchObject({ outcome: 'refund', reason: 'HOLD_RELEASED' });
  const again = await create({
    buyer: 'fin',
    seats: [
      { row: 'B', column: 5 },
      { row: 'B', column: 6 },
    ],
  });
  await service.release(again.holdId);
});

test('paying: a live hold converts; a late payment retakes free seats or is a refund; a gone hold is paid late from the seats given', async () => {
  const convertedBefore = await counter('converted');
  const live = await create({ buyer: 'gus', seats: [{ row: 'A', column: 5 }] });
  const paid = await service.convert({ holdId: live.holdId });
  expect(paid).toMatchObject({
    outcome: 'converted',
    record: {
      type: 'TicketPurchased',
      eventId,
      zoneId: 'z',
      userId: 'gus',
      currency: 'USD',
      tickets: [{ row: 'A', column: 5, priceCents: 2500 }],
    },
  });
  if (paid.outcome !== 'converted') throw new Error('not converted');
  expect(paid.record.tickets[0]!.ticketId).toBe(`${paid.record.purchaseId}.1`);
  expect((await t.inventory.getPurchase(eventId, 'z', paid.record.purchaseId))!.status).toBe('reserved');
  expect(await service.get(live.holdId)).toMatchObject({ status: 'PURCHASED', purchaseId: paid.record.purchaseId });
  expect(await counter('converted')).toBe(convertedBefore + 1);
  expect(await service.convert({ holdId: live.holdId })).toMatchObject({ outcome: 'refund', reason: 'HOLD_ALREADY_PURCHASED' });

  const late = await create({ seats: [{ row: 'A', column: 6 }], expiresInSeconds: 5 });
  const lost = await create({ seats: [{ row: 'B', column: 1 }], expiresInSeconds: 5 });
  clock.advance(5_000);
  expect(await service.convert({ holdId: late.holdId })).toMatchObject({
    outcome: 'late',
    record: { userId: 'anonymous', tickets: [{ row: 'A', column: 6 }] },
  });
  const layout = ZoneLayout.of(entry.venue.zones[0]!);
  const other = await t.redis.tpReserve(
    ...reserveKeys('z', 'hal'),
    layout.hash,
    `${eventId}.z.hal0000000000000`,
    clock.now,
    '{}',
    layout.locate('B', 1)!.offset,
    1,
  );
  expect(other[0]).toBe(ReserveCode.OK);
  expect(await service.convert({ holdId: lost.holdId })).toMatchObject({ outcome: 'refund', reason: 'SEATS_TAKEN' });

  const gone = `${eventId}.z.h${'g'.repeat(16)}`;
  expect(await refusal(service.convert({ holdId: gone }))).toMatchObject({ code: 'HOLD_NOT_FOUND' });
  expect(await service.convert({ holdId: gone, seats: [{ row: 'B', column: 2 }], buyer: 'ivy' })).toMatchObject({
    outcome: 'late',
    record: { userId: 'ivy', tickets: [{ row: 'B', column: 2 }] },
  });
});

test('a retried create with the same hold id holds once', async () => {
  const holdId = `${eventId}.z.h${'r'.repeat(16)}`;
  const first = await create({ buyer: 'joe', seats: [{ row: 'B', column: 4 }], holdId });
  expect(await create({ buyer: 'joe', seats: [{ row: 'B', column: 4 }], holdId })).toEqual(first);
  expect(await allowance.used(eventId, 'joe')).toBe(1);
  await service.release(holdId);
  expect(await refusal(create({ buyer: 'joe', seats: [{ row: 'B', column: 4 }], holdId }))).toMatchObject({ code: 'HOLD_NOT_ACTIVE' });
});

function reserveKeys(zoneId: string, who: string) {
  const k = t.inventory.keys(eventId, zoneId);
  return [k.bits, k.counts, k.meta, k.pending, k.purchase(`${eventId}.${zoneId}.${who}0000000000000`), k.held, k.heldUntil] as const;
}
