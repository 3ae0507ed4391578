import { problemOf } from '../../src/http/outcomes';
import { OutcomeError } from '../../src/purchase/engine';
import { CatalogCache } from '../../src/catalog/cache';
import { CatalogStore } from '../../src/catalog/store';
import { reserveWithinBuyerLimit } from '../../src/checkout/buyer-limit';
import { HoldService } from '../../src/checkout/holds';
import { BuyerAllowance } from '../../src/inventory/allowance';
import { CancelInventory } from '../../src/inventory/cancellations';
import { ZoneLayout } from '../../src/inventory/layout';
import { AllowanceCode, HoldCode, ReleaseCancelledCode, ReserveCode } from '../../src/commands/scripts';
import { ApiError } from '../../src/shared/errors';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { holdsHarness } from './holds-support';

/**
 * The per-buyer limit across requests and zones, and its crash analysis
 * (docs/purchase-state-machine.md, "Per-buyer limit"): a crash between the buyer step and the
 * zone step never lets a buyer pass the limit, and the allowance comes back after the lease.
 */
const t = holdsHarness();
const { holds, clock } = t;
const allowance = new BuyerAllowance(t.redis, t.prefix, holds, { leaseMs: 30_000 });
const service = new HoldService(holds, allowance, new CatalogCache(new CatalogStore(t.redis, t.prefix)), {
  HOLD_DEFAULT_SECONDS: 600,
  HOLD_MAX_SECONDS: 7200,
  MAX_SEATS_PER_PURCHASE: 10,
});
afterAll(() => t.close());

const LIMIT = 4;
async function event() {
  const eventId = uid('Lim');
  const entry = testEntry({
    eventId,
    perUserLimit: LIMIT,
    zones: [
      { zoneId: 'z1', rows: ['A', 'B'], seatCounts: [10, 10] },
      { zoneId: 'z2', rows: ['A'], seatCounts: [10] },
    ],
  });
  await seedTestEvent(t.redis, t.prefix, entry);
  return { eventId, entry };
}

/** The ApiError code a call fails with (and its `left`), or 'ok'. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (thrown) {
    // The domain throws outcomes (OutcomeError) or registry errors; the HTTP table maps the former.
    const err = thrown instanceof OutcomeError ? problemOf(thrown.outcome) : thrown;
    if (!(err instanceof ApiError)) throw err;
    return err.extra.left === undefined ? err.code : `${err.code}:${String(err.extra.left)}`;
  }
}

test('counts what a buyer holds and bought across zones and requests; release and expiry give it back; anonymous keeps the per-request limit', async () => {
  const { eventId, entry } = await event();
  const a1 = await service.create({ eventId, zoneId: 'z1', buyer: 'alice', best: { count: 2 } });
  const a2 = await service.create({ eventId, zoneId: 'z2', buyer: 'alice', seats: [{ row: 'A', column: 1 }], expiresInSeconds: 60 });
  expect(a1).toMatchObject({
    status: 'HELD',
    seats: [
      { row: 'A', column: 5 },
      { row: 'A', column: 6 },
    ],
    nextToEachOther: true,
    amountCents: 10_000,
    currency: 'USD',
    buyer: 'alice',
  });
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'alice', best: { count: 2 } }))).toBe('BUYER_LIMIT_REACHED:1');
  // A direct purchase counts too, and is counted for good.
  const z1 = entry.venue.zones[0]!;
  const layout = ZoneLayout.of(z1);
  const direct = (n: number) =>
    reserveWithinBuyerLimit(t.inventory, allowance, {
      eventId,
      zoneId: 'z1',
      layout,
      purchaseId: t.purchaseId(eventId, 'z1'),
      seats: Array.from({ length: n }, (_, i) => layout.locate('B', i + 1)!),
      body: '{}',
      buyer: 'alice',
      limit: LIMIT,
    });
  expect(await direct(2)).toEqual({ code: 'BUYER_LIMIT_REACHED', left: 1 });
  expect((await direct(1)).code).toBe(ReserveCode.OK);
  expect(await allowance.used(eventId, 'alice')).toBe(LIMIT);
  // Other buyers and the anonymous buyer are not affected.
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'bob', best: { count: 4 } }))).toBe('ok');
  for (let i = 0; i < 2; i++) expect(await codeOf(service.create({ eventId, zoneId: 'z1', best: { count: 4 } }))).toBe('ok');
  expect(await codeOf(service.create({ eventId, zoneId: 'z1', best: { count: 5 } }))).toBe('TOO_MANY_SEATS');

  // Release gives its seats back to the allowance; expiry too, with nobody sweeping.
  expect((await service.release(a1.holdId)).status).toBe('RELEASED');
  expect(await allowance.used(eventId, 'alice')).toBe(2);
  clock.advance(60_000);
  expect((await service.get(a2.holdId)).status).toBe('EXPIRED');
  clock.advance(allowance.graceMs); // the entry outlives the hold by the grace (clock skew errs on counting)
  expect(await allowance.used(eventId, 'alice')).toBe(1); // the direct purchase stays counted
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'alice', best: { count: 3 } }))).toBe('ok');
});

test('paying a hold keeps its seats counted once, for good', async () => {
  const { eventId } = await event();
  const h = await service.create({ eventId, zoneId: 'z1', buyer: 'carol', best: { count: LIMIT } });
  const paid = await service.convert({ holdId: h.holdId });
  expect(paid).toMatchObject({
    outcome: 'converted',
    record: { userId: 'carol', tickets: h.seats.map((s) => ({ ...s, priceCents: 5000 })) },
  });
  const entries = await allowance.entries(eventId, 'carol');
  expect(entries).toEqual([
    expect.objectContaining({ id: paid.outcome === 'converted' ? paid.record.purchaseId : '', seats: LIMIT, state: 'bought' }),
  ]);
  clock.advance(700_000); // the hold's expiry passes: no change, it is a purchase now
  expect(await allowance.used(eventId, 'carol')).toBe(LIMIT);
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'carol', best: { count: 1 } }))).toBe('BUYER_LIMIT_REACHED:0');
  expect((await service.get(h.holdId)).status).toBe('PURCHASED');
});

test('a crash between the buyer step and the zone step: the limit holds meanwhile, the allowance returns after the lease, a late zone step is fenced off', async () => {
  const { eventId, entry } = await event();
  const z1 = entry.venue.zones[0]!;
  const layout = ZoneLayout.of(z1);
  const stuck = t.newHold(eventId, 'z1', 600, 'dave');
  // Step 1 for 3 seats, then the process "dies": no zone step, no step 3.
  const step1 = await allowance.acquire({
    eventId,
    buyer: 'dave',
    entryId: stuck.holdId,
    seats: 3,
    limit: LIMIT,
    kind: 'hold',
    zoneId: 'z1',
    holdId: stuck.holdId,
  });
  expect(step1).toMatchObject({ ok: true, ticket: { left: 1 } });

  // Within the lease the provisional entry counts: at most 1 more seat.
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'dave', best: { count: 2 } }))).toBe('BUYER_LIMIT_REACHED:1');
  const one = await service.create({ eventId, zoneId: 'z2', buyer: 'dave', best: { count: 1 } });
  expect(await allowance.used(eventId, 'dave')).toBe(LIMIT);
  clock.advance(29_000);
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'dave', best: { count: 1 } }))).toBe('BUYER_LIMIT_REACHED:0');

  // After the lease, the next request resolves it: fence.lua finds no hold, tombstones the id,
  // and the allowance is back.
  clock.advance(1_000);
  const after = await service.create({ eventId, zoneId: 'z1', buyer: 'dave', best: { count: 3 } });
  expect(after.status).toBe('HELD');
  expect(await allowance.used(eventId, 'dave')).toBe(LIMIT);
  expect((await allowance.entries(eventId, 'dave')).map((e) => e.id).sort()).toEqual([one.holdId, after.holdId].sort());

  // The stuck request's zone step finally arrives: refused, so the buyer never holds 3 + 4 seats.
  expect((await holds.hold(eventId, 'z1', layout, stuck, [layout.locate('B', 1)!])).code).toBe(HoldCode.DUPLICATE);
  expect((await holds.get(stuck.holdId))!.status).toBe('fenced');
  expect(await t.takenOffsets(eventId, z1)).toEqual(new Set(after.seats.map((s) => layout.locate(s.row, s.column)!.offset)));
  await t.expectConsistent(eventId, z1);
});

test('a crash between the zone step and step 3: the hold stays counted, and resolution makes its entry firm', async () => {
  const { eventId, entry } = await event();
  const z1 = entry.venue.zones[0]!;
  const layout = ZoneLayout.of(z1);
  const h = t.newHold(eventId, 'z1', 120, 'erin');
  const step1 = await allowance.acquire({
    eventId,
    buyer: 'erin',
    entryId: h.holdId,
    seats: 3,
    limit: LIMIT,
    kind: 'hold',
    zoneId: 'z1',
    holdId: h.holdId,
  });
  expect(step1.ok).toBe(true);
  expect(
    (
      await holds.hold(
        eventId,
        'z1',
        layout,
        h,
        [1, 2, 3].map((c) => layout.locate('A', c)!),
      )
    ).code,
  ).toBe(HoldCode.OK);
  // "crash": no step 3.
  clock.advance(31_000);
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'erin', best: { count: 2 } }))).toBe('BUYER_LIMIT_REACHED:1');
  expect(await allowance.entries(eventId, 'erin')).toEqual([
    expect.objectContaining({ id: h.holdId, state: 'hold', until: h.expiresAt + allowance.graceMs }),
  ]);
  // When the hold expires, the allowance comes back.
  clock.advance(120_000);
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'erin', best: { count: LIMIT } }))).toBe('ok');
});

test('extending a hold extends its allowance; paying the same hold twice at once is refused for one of them', async () => {
  const { eventId } = await event();
  const h = await service.create({ eventId, zoneId: 'z1', buyer: 'fay', best: { count: 3 }, expiresInSeconds: 10 });
  const extended = await service.extend(h.holdId, 20);
  expect(Date.parse(extended.expiresAt)).toBe(Date.parse(h.expiresAt) + 20_000);
  clock.advance(15_000);
  expect(await codeOf(service.create({ eventId, zoneId: 'z2', buyer: 'fay', best: { count: 2 } }))).toBe('BUYER_LIMIT_REACHED:1');
  expect(await codeOf(service.extend(h.holdId, 7200))).toBe('HOLD_LIMIT_REACHED');

  const busy = await allowance.acquire({
    eventId,
    buyer: 'fay',
    entryId: h.holdId,
    seats: 3,
    limit: LIMIT,
    kind: 'convert',
    zoneId: 'z1',
    holdId: h.holdId,
    purchaseId: t.purchaseId(eventId, 'z1'),
  });
  expect(busy.ok).toBe(true);
  expect(await codeOf(service.convert({ holdId: h.holdId }))).toBe('HOLD_IN_PROGRESS');
  expect(
    await allowance.acquire({
      eventId,
      buyer: 'fay',
      entryId: h.holdId,
      seats: 3,
      limit: LIMIT,
      kind: 'convert',
      zoneId: 'z1',
      holdId: h.holdId,
    }),
  ).toEqual({ ok: false, code: AllowanceCode.BUSY });
});

test('concurrent requests of one buyer never pass the limit', async () => {
  const { eventId } = await event();
  const tries = Array.from({ length: 60 }, (_, i) =>
    service.create({ eventId, zoneId: i % 2 ? 'z1' : 'z2', buyer: 'gail', best: { count: 1 + (i % 2) } }).then(
      (h) => h.seats.length,
      () => 0,
    ),
  );
  const held = (await Promise.all(tries)).reduce((a, b) => a + b, 0);
  expect(held).toBeLessThanOrEqual(LIMIT);
  expect(held).toBeGreaterThanOrEqual(LIMIT - 1); // one 2-seat request may not fit the last seat
  expect(await allowance.used(eventId, 'gail')).toBe(held);
});

test('a cancelled purchase stops counting: its firm or provisional entry is deleted, and resolution drops what a crash left', async () => {
  const { eventId, entry } = await event();
  const layout = ZoneLayout.of(entry.venue.zones[0]!);
  const cancels = new CancelInventory(t.redis, t.prefix);
  const claim = (purchaseId: string, seats: number) =>
    ({ eventId, buyer: 'hal', entryId: purchaseId, seats, limit: LIMIT, kind: 'purchase', zoneId: 'z1', purchaseId }) as const;
  let column = 0;
  /** Steps 1 and 2 (and 3 unless `crash`), then the confirmation and a finished cancellation (CANCELLED). */
  async function boughtThenCancelled(seats: number, { crash = false } = {}) {
    const purchaseId = t.purchaseId(eventId, 'z1');
    const positions = Array.from({ length: seats }, () => layout.locate('B', ++column)!);
    const step1 = await allowance.acquire(claim(purchaseId, seats));
    if (!step1.ok) throw new Error('step 1 refused');
    expect((await t.inventory.reserve(eventId, 'z1', layout, purchaseId, positions, '{}')).code).toBe(ReserveCode.OK);
    if (!crash) expect(await allowance.settle(step1.ticket, { firm: 'purchase', purchaseId })).toBe(true);
    await t.inventory.confirm(eventId, 'z1', purchaseId);
    await cancels.markCancelling(eventId, 'z1', purchaseId, '{}');
    expect((await cancels.releaseCancelled(eventId, 'z1', layout, purchaseId, positions)).code).toBe(ReleaseCancelledCode.RELEASED);
    return { purchaseId, ticket: step1.ticket };
  }

  const firm = await boughtThenCancelled(2);
  expect(await allowance.used(eventId, 'hal')).toBe(2);
  await allowance.cancel(eventId, 'hal', firm.purchaseId);
  expect(await allowance.entries(eventId, 'hal')).toEqual([]);
  await allowance.cancel(eventId, 'hal', firm.purchaseId); // a repeat: nothing changes
  expect(await allowance.used(eventId, 'hal')).toBe(0);

  // Step 3 never ran (its outcome was unknown): the cancellation deletes the provisional entry,
  // and the owner's late step 3 changes nothing.
  const unsettled = await boughtThenCancelled(3, { crash: true });
  expect(await allowance.entries(eventId, 'hal')).toEqual([expect.objectContaining({ id: unsettled.purchaseId, state: 'provisional' })]);
  await allowance.cancel(eventId, 'hal', unsettled.purchaseId);
  expect(await allowance.used(eventId, 'hal')).toBe(0);
  expect(await allowance.settle(unsettled.ticket, { firm: 'purchase', purchaseId: unsettled.purchaseId })).toBe(false);
  expect(await allowance.used(eventId, 'hal')).toBe(0);

  // A crash before the cancellation's own step too: once the lease ends, fence.lua answers
  // CANCELLED and resolution drops the entry instead of counting the seats for good.
  const lost = await boughtThenCancelled(4, { crash: true });
  expect(await allowance.used(eventId, 'hal')).toBe(4);
  clock.advance(allowance.leaseMs + 1);
  expect(await allowance.resolve(eventId, 'hal', lost.purchaseId)).toBe('dropped');
  expect(await allowance.used(eventId, 'hal')).toBe(0);

  // A hold's entry is not a purchase: a cancel naming it changes nothing.
  const h = await service.create({ eventId, zoneId: 'z2', buyer: 'hal', best: { count: 1 } });
  await allowance.cancel(eventId, 'hal', h.holdId);
  expect(await allowance.used(eventId, 'hal')).toBe(1);
  await t.expectConsistent(eventId, entry.venue.zones[0]!);
});
