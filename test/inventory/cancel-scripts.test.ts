import type { ZoneDef } from '../../src/catalog/model';
import { CancelInventory } from '../../src/inventory/cancellations';
import { Inventory, isTaken, type SeatPosition } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { CancelCode, ReleaseCancelledCode, ReserveCode } from '../../src/commands/scripts';
import { testConfig, uid } from '../support/env';
import { testRedis } from '../support/platform';

/** cancel.lua and release-cancelled.lua: the Redis half of a cancellation (docs/purchase-state-machine.md). */
const redis = testRedis();
const prefix = testConfig().REDIS_KEY_PREFIX;
const inventory = new Inventory(redis, prefix);
const cancels = new CancelInventory(redis, prefix, 3600);
const created: string[] = [];
const z: ZoneDef = { zoneId: 'z', name: 'Zone', rows: ['A', 'B'], seatCounts: [4, 6], priceCents: 100 };
const layout = ZoneLayout.of(z);
const seat = (row: string, col: number): SeatPosition => layout.locate(row, col)!;

afterAll(async () => {
  for (const e of created) await inventory.deleteZone(e, z.zoneId);
  await redis.quit();
});

async function newZone() {
  const eventId = uid('cxl');
  created.push(eventId);
  await inventory.initZone(eventId, z);
  return eventId;
}

let n = 0;
/** A purchase reserved and (unless `confirm` is false) confirmed, as the purchase path leaves it. */
async function sold(eventId: string, seats: SeatPosition[], confirm = true) {
  const purchaseId = `${eventId}.z.p${String(++n).padStart(15, '0')}`;
  expect((await inventory.reserve(eventId, 'z', layout, purchaseId, seats, '{"body":1}')).code).toBe(ReserveCode.OK);
  if (confirm) await inventory.confirm(eventId, 'z', purchaseId);
  return purchaseId;
}

/** Counters equal capacity minus the bitmap's popcount, for the zone and each row. */
async function expectCountersMatchBitmap(eventId: string) {
  const st = (await inventory.zoneState(eventId, 'z'))!;
  let taken = 0;
  const rowTaken = z.rows.map(() => 0);
  for (let k = 0; k < layout.capacity; k++) {
    if (!isTaken(st.bits, k)) continue;
    taken++;
    rowTaken[z.rows.indexOf(layout.seatAt(k).row)]!++;
  }
  expect(await redis.bitcount(inventory.keys(eventId, 'z').bits)).toBe(taken);
  expect(st.available).toBe(layout.capacity - taken);
  expect(st.rowAvailable).toEqual(z.seatCounts.map((c, r) => c - rowTaken[r]!));
  return taken;
}

test('mark, then release: the seats are freed once, counters equal the popcount, and a repeat frees nothing', async () => {
  const eventId = await newZone();
  const seats = [seat('A', 2), seat('B', 5)];
  const purchaseId = await sold(eventId, seats);
  await sold(eventId, [seat('A', 3)]);
  expect(await expectCountersMatchBitmap(eventId)).toBe(3);

  const marked = await cancels.markCancelling(eventId, 'z', purchaseId, '{"cancel":1}');
  expect(marked).toEqual({ code: CancelCode.CANCELLING, cancelBody: '{"cancel":1}' });
  // Marking frees nothing: the event is not in the log yet.
  expect(await expectCountersMatchBitmap(eventId)).toBe(3);
  expect(await cancels.cancellingIds(eventId, 'z')).toEqual([purchaseId]);
  expect(await redis.ttl(inventory.keys(eventId, 'z').purchase(purchaseId))).toBe(-1);
  // A second cancel finds it under way, with the first one's event.
  expect(await cancels.markCancelling(eventId, 'z', purchaseId, '{"cancel":2}')).toEqual({
    code: CancelCode.ALREADY_CANCELLING,
    cancelBody: '{"cancel":1}',
  });

  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, seats)).toEqual({
    code: ReleaseCancelledCode.RELEASED,
    released: 2,
  });
  expect(await expectCountersMatchBitmap(eventId)).toBe(1);
  const st = (await inventory.zoneState(eventId, 'z'))!;
  expect(seats.map((s) => isTaken(st.bits, s.offset))).toEqual([false, false]);
  expect(isTaken(st.bits, seat('A', 3).offset)).toBe(true);
  expect(await cancels.cancellingIds(eventId, 'z')).toEqual([]);
  expect(await redis.ttl(inventory.keys(eventId, 'z').purchase(purchaseId))).toBeGreaterThan(3000);
  // The record keeps its purchase status, so reserve.lua and confirm.lua are unaffected.
  expect((await inventory.getPurchase(eventId, 'z', purchaseId))?.status).toBe('confirmed');

  // Concurrent twins (or the sweep) calling release again free nothing more.
  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, seats)).toEqual({
    code: ReleaseCancelledCode.ALREADY_CANCELLED,
    released: 0,
  });
  expect(await cancels.markCancelling(eventId, 'z', purchaseId, '{"cancel":3}')).toEqual({
    code: CancelCode.ALREADY_CANCELLED,
    cancelBody: '{"cancel":1}',
  });
  expect(await expectCountersMatchBitmap(eventId)).toBe(1);
});

test('a freed seat is sold again, and a late release of the old purchase never frees the resale', async () => {
  const eventId = await newZone();
  const first = await sold(eventId, [seat('B', 1)]);
  await cancels.markCancelling(eventId, 'z', first, '{}');
  await cancels.releaseCancelled(eventId, 'z', layout, first, [seat('B', 1)]);
  const resale = await sold(eventId, [seat('B', 1)]);
  expect(resale).not.toBe(first);
  expect(await cancels.releaseCancelled(eventId, 'z', layout, first, [seat('B', 1)])).toEqual({
    code: ReleaseCancelledCode.ALREADY_CANCELLED,
    released: 0,
  });
  expect(isTaken((await inventory.zoneState(eventId, 'z'))!.bits, seat('B', 1).offset)).toBe(true);
  expect(await expectCountersMatchBitmap(eventId)).toBe(1);
});

test('release refuses a purchase that is not being cancelled; cancel refuses one that is not confirmed', async () => {
  const eventId = await newZone();
  const confirmed = await sold(eventId, [seat('A', 1)]);
  expect(await cancels.releaseCancelled(eventId, 'z', layout, confirmed, [seat('A', 1)])).toEqual({
    code: ReleaseCancelledCode.NOT_CANCELLING,
    released: 0,
  });
  const pending = await sold(eventId, [seat('A', 4)], false);
  expect((await cancels.markCancelling(eventId, 'z', pending, '{}')).code).toBe(CancelCode.NOT_CONFIRMED);
  expect((await cancels.markCancelling(eventId, 'z', `${eventId}.z.nothing000000000`, '{}')).code).toBe(CancelCode.NO_RECORD);
  expect(await expectCountersMatchBitmap(eventId)).toBe(2);
  expect(await cancels.cancellingIds(eventId, 'z')).toEqual([]);
});

test('a record Redis no longer has is re-created from the stores’ copy, then cancelled as usual', async () => {
  const eventId = await newZone();
  const purchaseId = await sold(eventId, [seat('B', 6)]);
  await redis.del(inventory.keys(eventId, 'z').purchase(purchaseId)); // its TTL ended
  expect((await cancels.markCancelling(eventId, 'z', purchaseId, '{"c":1}', '{"from":"stores"}')).code).toBe(CancelCode.CANCELLING);
  expect(await cancels.state(eventId, 'z', purchaseId)).toMatchObject({
    status: 'confirmed',
    cancel: 'cancelling',
    body: '{"from":"stores"}',
    cancelBody: '{"c":1}',
  });
  expect((await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, [seat('B', 6)])).released).toBe(1);
  expect(await expectCountersMatchBitmap(eventId)).toBe(0);
});

test('a zone without inventory (lost, reset) settles the cancellation and frees nothing: its rebuild reads the cancelled seats as free', async () => {
  const eventId = await newZone();
  const purchaseId = await sold(eventId, [seat('A', 1)]);
  await cancels.markCancelling(eventId, 'z', purchaseId, '{}');
  const k = inventory.keys(eventId, 'z');
  await redis.del(k.bits, k.counts, k.meta);
  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, [seat('A', 1)])).toEqual({
    code: ReleaseCancelledCode.NO_INVENTORY,
    released: 0,
  });
  expect((await cancels.state(eventId, 'z', purchaseId))?.cancel).toBe('cancelled');
  expect(await redis.exists(k.bits, k.counts, k.meta)).toBe(0);
});

test('stale cancellations are claimed once at a time for the sweep', async () => {
  const eventId = await newZone();
  const purchaseId = await sold(eventId, [seat('A', 2)]);
  await cancels.markCancelling(eventId, 'z', purchaseId, '{}');
  expect(await cancels.claimStale(eventId, 'z', 60_000, 10)).toEqual([]);
  expect(await cancels.claimStale(eventId, 'z', 0, 10)).toEqual([purchaseId]);
  // Re-scored by the claim: another replica does not take it again at once.
  expect(await cancels.claimStale(eventId, 'z', 1000, 10)).toEqual([]);
});

test('in a fenced zone (its state not from this node’s history) a release frees nothing; the re-mark’s release, given only the seats nobody owns, frees those', async () => {
  const eventId = await newZone();
  const seats = [seat('A', 1), seat('B', 2)];
  const purchaseId = await sold(eventId, seats);
  await cancels.markCancelling(eventId, 'z', purchaseId, '{"cancel":1}');
  // As after a failover: the zone's trusted replication id is another node's.
  await redis.hset(inventory.keys(eventId, 'z').meta, 'replid', 'a-history-this-node-does-not-have');

  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, seats)).toEqual({
    code: ReleaseCancelledCode.FENCED,
    released: 0,
  });
  expect(await expectCountersMatchBitmap(eventId)).toBe(2);
  expect(await cancels.cancellingIds(eventId, 'z')).toEqual([purchaseId]);

  // The re-mark found B2 resold (DynamoDB owns it to another ticket): it frees A1 only, and settles the record.
  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, [seat('A', 1)], 'remark')).toEqual({
    code: ReleaseCancelledCode.RELEASED,
    released: 1,
  });
  const st = (await inventory.zoneState(eventId, 'z'))!;
  expect([isTaken(st.bits, seat('A', 1).offset), isTaken(st.bits, seat('B', 2).offset)]).toEqual([false, true]);
  expect(await expectCountersMatchBitmap(eventId)).toBe(1);
  expect(await cancels.cancellingIds(eventId, 'z')).toEqual([]);
  // The sweep, once the zone is trusted again, finds it settled: nothing more is freed.
  expect(await cancels.releaseCancelled(eventId, 'z', layout, purchaseId, seats)).toEqual({
    code: ReleaseCancelledCode.ALREADY_CANCELLED,
    released: 0,
  });
});
