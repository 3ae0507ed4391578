import { BuyerAllowance } from '../../src/inventory/allowance';
import { effectiveStatus } from '../../src/inventory/holds';
import { ZoneLayout } from '../../src/inventory/layout';
import { AllowanceCode, ConfirmCode, FenceCode, HoldCode, ReserveCode } from '../../src/commands/scripts';
import { holdsHarness, zoneDef } from './holds-support';

/** The hold scripts' codes and state changes, against the real Redis (docs/purchase-state-machine.md, "Holds"). */
const t = holdsHarness();
const { holds, inventory, clock, seat } = t;
afterAll(() => t.close());

const z = zoneDef(['A', 'B', 'C'], [4, 5, 6]);

describe('hold.lua', () => {
  test('holds named seats all or nothing; held seats are taken for everyone and told apart from sold ones', async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId, 600, 'alice');
    const r = await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'A', 1), seat(layout, 'A', 2)]);
    expect(r).toMatchObject({ code: HoldCode.OK, available: 13, expiresAt: h.expiresAt });
    // A re-run (lost reply) changes nothing and answers the same hold.
    expect(await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'A', 1), seat(layout, 'A', 2)])).toMatchObject({
      code: HoldCode.OK,
      available: 13,
    });
    // Someone else: a direct purchase and another hold are refused, and nothing changes.
    const before = await inventory.zoneState(eventId, z.zoneId);
    const other = t.newHold(eventId, z.zoneId);
    expect(await holds.hold(eventId, z.zoneId, layout, other, [seat(layout, 'B', 1), seat(layout, 'A', 2)])).toEqual({
      code: HoldCode.SEATS_TAKEN,
      takenIndexes: [2],
    });
    expect((await inventory.reserve(eventId, z.zoneId, layout, t.purchaseId(eventId, z.zoneId), [seat(layout, 'A', 1)], '{}')).code).toBe(
      ReserveCode.SEATS_TAKEN,
    );
    expect(await inventory.zoneState(eventId, z.zoneId)).toEqual(before);
    expect(await holds.get(other.holdId)).toBeUndefined();
    // Sold vs held.
    expect((await inventory.reserve(eventId, z.zoneId, layout, t.purchaseId(eventId, z.zoneId), [seat(layout, 'C', 6)], '{}')).code).toBe(
      ReserveCode.OK,
    );
    expect(await holds.heldSeats(eventId, z.zoneId)).toEqual(
      new Map([
        [0, h.holdId],
        [1, h.holdId],
      ]),
    );
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set([0, 1, 14]));
    expect(await holds.heldBits(eventId, z.zoneId, layout.capacity)).toEqual(Buffer.from([0b11000000, 0]));
    const rec = (await holds.get(h.holdId))!;
    expect(rec).toMatchObject({
      status: 'held',
      buyer: 'alice',
      expiresAt: h.expiresAt,
      maxUntil: h.maxUntil,
      seats: [seat(layout, 'A', 1), seat(layout, 'A', 2)],
    });
    await t.expectConsistent(eventId, z);
  });

  test('refuses like reserve.lua: sold out, outside the layout, repeated seat, stale layout, no inventory, closed zone', async () => {
    const tiny = zoneDef(['A'], [2], 'tiny');
    const { eventId, layout } = await t.newZone(tiny);
    expect((await holds.hold(eventId, 'tiny', layout, t.newHold(eventId, 'tiny'), [seat(layout, 'A', 1), seat(layout, 'A', 2)])).code).toBe(
      HoldCode.OK,
    );
    expect((await holds.hold(eventId, 'tiny', layout, t.newHold(eventId, 'tiny'), [seat(layout, 'A', 1)])).code).toBe(HoldCode.SOLD_OUT);

    const other = await t.newZone(z);
    const h = () => t.newHold(other.eventId, z.zoneId);
    expect(await holds.hold(other.eventId, z.zoneId, other.layout, h(), [{ offset: 15, rowIdx: 2 }])).toEqual({
      code: HoldCode.OUT_OF_LAYOUT,
      detail: 1,
    });
    expect(
      (await holds.hold(other.eventId, z.zoneId, other.layout, h(), [seat(other.layout, 'A', 1), seat(other.layout, 'A', 1)])).code,
    ).toBe(HoldCode.DUPLICATE);
    expect((await holds.hold(other.eventId, z.zoneId, layout, h(), [{ offset: 0, rowIdx: 0 }])).code).toBe(HoldCode.LAYOUT_MISMATCH);
    expect((await holds.hold('NoSuchEvent', z.zoneId, other.layout, h(), [{ offset: 0, rowIdx: 0 }])).code).toBe(HoldCode.NO_INVENTORY);
    await t.redis.hset(inventory.keys(other.eventId, z.zoneId).meta, 'closed', '1');
    expect((await holds.hold(other.eventId, z.zoneId, other.layout, h(), [{ offset: 0, rowIdx: 0 }])).code).toBe(HoldCode.ZONE_CLOSED);
    await t.expectConsistent(other.eventId, z);
  });

  test('an expired hold never blocks a buyer: hold.lua and reserve.lua release it in the same call', async () => {
    const { eventId, layout } = await t.newZone(z);
    const a = t.newHold(eventId, z.zoneId, 5);
    await holds.hold(eventId, z.zoneId, layout, a, [seat(layout, 'B', 1), seat(layout, 'B', 2)]);
    const b = t.newHold(eventId, z.zoneId, 5);
    await holds.hold(eventId, z.zoneId, layout, b, [seat(layout, 'C', 1)]);
    clock.advance(5_000); // both expired, nobody swept them
    expect(effectiveStatus((await holds.get(a.holdId))!, clock.now)).toBe('expired');

    const c = t.newHold(eventId, z.zoneId);
    expect((await holds.hold(eventId, z.zoneId, layout, c, [seat(layout, 'B', 2)])).code).toBe(HoldCode.OK);
    expect((await holds.get(a.holdId))!.status).toBe('expired'); // the whole hold went, B1 too
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set([5, 9]));

    const p = t.purchaseId(eventId, z.zoneId);
    const reserveWithClock = await t.redis.tpReserve(
      ...reserveKeys(eventId, z.zoneId, p),
      layout.hash,
      p,
      clock.now,
      '{}',
      seat(layout, 'C', 1).offset,
      2,
    );
    expect(reserveWithClock[0]).toBe(ReserveCode.OK);
    expect((await holds.get(b.holdId))!.status).toBe('expired');
    expect(await holds.heldSeats(eventId, z.zoneId)).toEqual(new Map([[5, c.holdId]]));
    await t.expectConsistent(eventId, z);
  });

  test('a zone whose every seat is in expired holds is not sold out', async () => {
    const tiny = zoneDef(['A'], [3], 'tiny');
    const { eventId, layout } = await t.newZone(tiny);
    await holds.hold(eventId, 'tiny', layout, t.newHold(eventId, 'tiny', 5), [
      seat(layout, 'A', 1),
      seat(layout, 'A', 2),
      seat(layout, 'A', 3),
    ]);
    clock.advance(5_001);
    const p = t.purchaseId(eventId, 'tiny');
    expect((await t.redis.tpReserve(...reserveKeys(eventId, 'tiny', p), layout.hash, p, clock.now, '{}', 1, 0))[0]).toBe(ReserveCode.OK);
    await t.expectConsistent(eventId, tiny);
  });
});

describe('extend.lua and release.lua', () => {
  test('extend adds to the current expiry, capped at createdAt + max; never revives an expired hold', async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = { ...t.newHold(eventId, z.zoneId, 10), maxUntil: clock.now + 60_000 };
    await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'A', 3)]);
    expect(await holds.extend(eventId, z.zoneId, h.holdId, 20_000)).toEqual({ code: HoldCode.OK, expiresAt: h.expiresAt + 20_000 });
    expect(await holds.extend(eventId, z.zoneId, h.holdId, 30_001)).toEqual({ code: HoldCode.HOLD_LIMIT_REACHED, maxUntil: h.maxUntil });
    expect((await holds.get(h.holdId))!.expiresAt).toBe(h.expiresAt + 20_000); // unchanged by the refusal
    expect(await holds.extend(eventId, z.zoneId, h.holdId, 30_000)).toEqual({ code: HoldCode.OK, expiresAt: h.maxUntil });
    expect(Number(await t.redis.zscore(inventory.keys(eventId, z.zoneId).heldUntil, h.holdId))).toBe(h.maxUntil);
    clock.advance(60_000);
    expect(await holds.extend(eventId, z.zoneId, h.holdId, 1_000)).toEqual({ code: HoldCode.HOLD_EXPIRED });
    expect(await holds.extend(eventId, z.zoneId, `${eventId}.${z.zoneId}.hnone000000000000`, 1_000)).toEqual({
      code: HoldCode.HOLD_NOT_FOUND,
    });
  });

  test('release frees the seats now, once; a released hold cannot be extended', async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId);
    await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'C', 2), seat(layout, 'C', 3)]);
    expect(await holds.release(eventId, z.zoneId, h.holdId)).toEqual({ code: HoldCode.OK, freed: 2 });
    expect(await holds.release(eventId, z.zoneId, h.holdId)).toEqual({ code: HoldCode.OK, freed: 0 });
    expect((await holds.get(h.holdId))!.status).toBe('released');
    expect(await holds.extend(eventId, z.zoneId, h.holdId, 1_000)).toEqual({ code: HoldCode.HOLD_NOT_ACTIVE });
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set());
    expect(await t.redis.zcard(inventory.keys(eventId, z.zoneId).heldUntil)).toBe(0);
    await t.expectConsistent(eventId, z);

    const late = t.newHold(eventId, z.zoneId, 5);
    await holds.hold(eventId, z.zoneId, layout, late, [seat(layout, 'C', 2)]);
    clock.advance(5_000);
    expect(await holds.release(eventId, z.zoneId, late.holdId)).toEqual({ code: HoldCode.HOLD_EXPIRED });
    expect((await holds.get(late.holdId))!.status).toBe('expired');
    await t.expectConsistent(eventId, z);
  });
});

describe('expire.lua', () => {
  test('releases due holds up to a batch and tells the next expiry', async () => {
    const { eventId, layout } = await t.newZone(z);
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const h = t.newHold(eventId, z.zoneId, 10 * i);
      ids.push(h.holdId);
      await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'A', i)]);
    }
    clock.advance(30_000); // three are due
    const first = await holds.expire(eventId, z.zoneId, 2);
    expect(first.expired).toEqual(ids.slice(0, 2));
    expect(first.next).toBeLessThanOrEqual(clock.now); // more due than one batch took
    const second = await holds.expire(eventId, z.zoneId, 2);
    expect(second).toEqual({ expired: [ids[2]], next: clock.now + 10_000 });
    expect(await holds.expire(eventId, z.zoneId, 2)).toEqual({ expired: [], next: clock.now + 10_000 });
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set([3]));
    await t.expectConsistent(eventId, z);
    clock.advance(10_000);
    expect(await holds.expire(eventId, z.zoneId)).toEqual({ expired: [ids[3]], next: undefined });
  });
});

describe('convert.lua', () => {
  test('a live hold becomes the same pending record reserve.lua writes, without touching the bits; confirm.lua confirms it', async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId, 600, 'bob');
    const seats = [seat(layout, 'B', 3), seat(layout, 'B', 4)];
    await holds.hold(eventId, z.zoneId, layout, h, seats);
    const bitsBefore = (await inventory.zoneState(eventId, z.zoneId))!;
    const p = t.purchaseId(eventId, z.zoneId);
    expect(await holds.convert(eventId, z.zoneId, layout, h.holdId, p, seats, '{"body":1}')).toEqual({ code: HoldCode.OK, available: 13 });
    expect(await inventory.zoneState(eventId, z.zoneId)).toEqual(bitsBefore);
    expect(await inventory.getPurchase(eventId, z.zoneId, p)).toEqual({ status: 'reserved', body: '{"body":1}', reservedAt: clock.now });
    expect(await t.redis.zscore(inventory.keys(eventId, z.zoneId).pending, p)).toBe(String(clock.now));
    expect(await holds.get(h.holdId)).toMatchObject({ status: 'purchased', purchaseId: p });
    expect(await holds.heldSeats(eventId, z.zoneId)).toEqual(new Map()); // sold now, not held
    // A re-run answers the same; the purchase confirms through the existing machinery.
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, p, seats, '{"body":1}')).code).toBe(HoldCode.OK);
    expect(await inventory.confirm(eventId, z.zoneId, p)).toBe(ConfirmCode.CONFIRMED);
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, p, seats, '{"body":1}')).code).toBe(HoldCode.OK);
    // Paying it again under another purchase id, or releasing it, is refused.
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, t.purchaseId(eventId, z.zoneId), seats, '{}')).code).toBe(
      HoldCode.DUPLICATE,
    );
    expect(await holds.release(eventId, z.zoneId, h.holdId)).toEqual({ code: HoldCode.HOLD_NOT_ACTIVE });
    // Its expiry passing changes nothing: it is no hold any more.
    clock.advance(700_000);
    expect((await holds.expire(eventId, z.zoneId)).expired).toEqual([]);
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set(seats.map((s) => s.offset)));
    await t.expectConsistent(eventId, z);
  });

  test("the seats given must be the live hold's seats", async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId);
    await holds.hold(eventId, z.zoneId, layout, h, [seat(layout, 'A', 1), seat(layout, 'A', 2)]);
    const p = t.purchaseId(eventId, z.zoneId);
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, p, [seat(layout, 'A', 1)], '{}')).code).toBe(
      HoldCode.HOLD_SEATS_MISMATCH,
    );
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, p, [seat(layout, 'A', 1), seat(layout, 'A', 3)], '{}')).code).toBe(
      HoldCode.HOLD_SEATS_MISMATCH,
    );
    expect((await holds.get(h.holdId))!.status).toBe('held');
  });

  test('a late payment takes the seats again when they are all free, and refuses (nothing changes) when one is taken', async () => {
    const { eventId, layout } = await t.newZone(z);
    const seats = [seat(layout, 'C', 4), seat(layout, 'C', 5)];
    // Expired but not swept yet: released inside convert.lua, then retaken.
    const a = t.newHold(eventId, z.zoneId, 5);
    await holds.hold(eventId, z.zoneId, layout, a, seats);
    clock.advance(5_000);
    const pa = t.purchaseId(eventId, z.zoneId);
    expect(await holds.convert(eventId, z.zoneId, layout, a.holdId, pa, seats, '{}')).toEqual({
      code: HoldCode.LATE_RETAKEN,
      available: 13,
    });
    expect((await inventory.getPurchase(eventId, z.zoneId, pa))!.status).toBe('reserved');
    expect((await holds.get(a.holdId))!.status).toBe('expired');
    expect((await holds.convert(eventId, z.zoneId, layout, a.holdId, pa, seats, '{}')).code).toBe(HoldCode.LATE_RETAKEN); // re-run
    await t.expectConsistent(eventId, z);

    // Expired and swept, one seat sold meanwhile: refused, nothing changes.
    const b = t.newHold(eventId, z.zoneId, 5);
    const bSeats = [seat(layout, 'A', 1), seat(layout, 'A', 2)];
    await holds.hold(eventId, z.zoneId, layout, b, bSeats);
    clock.advance(5_000);
    await holds.expire(eventId, z.zoneId);
    const other = t.purchaseId(eventId, z.zoneId);
    expect(
      (await t.redis.tpReserve(...reserveKeys(eventId, z.zoneId, other), layout.hash, other, clock.now, '{}', bSeats[1]!.offset, 0))[0],
    ).toBe(ReserveCode.OK);
    const before = await inventory.zoneState(eventId, z.zoneId);
    const pb = t.purchaseId(eventId, z.zoneId);
    expect(await holds.convert(eventId, z.zoneId, layout, b.holdId, pb, bSeats, '{}')).toEqual({
      code: HoldCode.SEATS_TAKEN,
      takenIndexes: [2],
    });
    expect(await inventory.zoneState(eventId, z.zoneId)).toEqual(before);
    expect(await inventory.getPurchase(eventId, z.zoneId, pb)).toBeUndefined();

    // Gone (Redis lost it): a late payment too.
    const gone = `${eventId}.${z.zoneId}.hgone000000000000`;
    expect((await holds.convert(eventId, z.zoneId, layout, gone, t.purchaseId(eventId, z.zoneId), [seat(layout, 'B', 5)], '{}')).code).toBe(
      HoldCode.LATE_RETAKEN,
    );
    await t.expectConsistent(eventId, z);
  });

  test('a released hold is not paid (the caller refunds)', async () => {
    const { eventId, layout } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId);
    const seats = [seat(layout, 'B', 1)];
    await holds.hold(eventId, z.zoneId, layout, h, seats);
    await holds.release(eventId, z.zoneId, h.holdId);
    expect((await holds.convert(eventId, z.zoneId, layout, h.holdId, t.purchaseId(eventId, z.zoneId), seats, '{}')).code).toBe(
      HoldCode.HOLD_NOT_ACTIVE,
    );
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set());
  });

  test('a seat the write model says is sold (mark-sold repair) leaves the hold: its expiry never frees that seat', async () => {
    const { eventId, layout, zone } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId, 5);
    const seats = [seat(layout, 'A', 1), seat(layout, 'A', 2)];
    await holds.hold(eventId, z.zoneId, layout, h, seats);
    expect(await inventory.markSold(eventId, zone, [seats[0]!])).toBe(0); // already taken: only the held-by entry goes
    // Paying it now refuses: the hold lost a seat.
    expect(await holds.convert(eventId, z.zoneId, layout, h.holdId, t.purchaseId(eventId, z.zoneId), seats, '{}')).toEqual({
      code: HoldCode.SEATS_TAKEN,
      takenIndexes: [1],
    });
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set([seats[0]!.offset]));
    await t.expectConsistent(eventId, z);
  });
});

describe('the remaining codes', () => {
  test('best.lua, release.lua and convert.lua refuse a stale layout, a missing zone, a tombstoned id and a closed zone', async () => {
    const { eventId, layout } = await t.newZone(z);
    const stale = new ZoneLayout(['A', 'B', 'C'], [4, 5, 7]);
    expect((await holds.best(eventId, z.zoneId, stale, t.newHold(eventId, z.zoneId), 1)).code).toBe(HoldCode.LAYOUT_MISMATCH);
    expect((await holds.best('NoSuchEvent', z.zoneId, layout, t.newHold('NoSuchEvent', z.zoneId), 1)).code).toBe(HoldCode.NO_INVENTORY);
    expect(await holds.release(eventId, z.zoneId, `${eventId}.${z.zoneId}.hnone000000000000`)).toEqual({ code: HoldCode.HOLD_NOT_FOUND });
    const p = () => t.purchaseId(eventId, z.zoneId);
    const gone = `${eventId}.${z.zoneId}.hgone000000000000`;
    expect(await holds.convert(eventId, z.zoneId, layout, gone, p(), [{ offset: 99, rowIdx: 0 }], '{}')).toEqual({
      code: HoldCode.OUT_OF_LAYOUT,
      detail: 1,
    });
    expect((await holds.convert(eventId, z.zoneId, stale, gone, p(), [seat(layout, 'A', 1)], '{}')).code).toBe(HoldCode.LAYOUT_MISMATCH);
    expect((await holds.convert('NoSuchEvent', z.zoneId, layout, gone, p(), [seat(layout, 'A', 1)], '{}')).code).toBe(
      HoldCode.NO_INVENTORY,
    );
    // fence.lua tombstones ids that never happened; the scripts refuse them from then on.
    const never = t.newHold(eventId, z.zoneId);
    expect(await holds.fence(eventId, z.zoneId, 'hold', { holdId: never.holdId }, 60)).toEqual({ code: FenceCode.GONE, expiresAt: 0 });
    expect((await holds.best(eventId, z.zoneId, layout, never, 1)).code).toBe(HoldCode.DUPLICATE);
    const neverBought = p();
    expect(await holds.fence(eventId, z.zoneId, 'purchase', { purchaseId: neverBought }, 60)).toEqual({
      code: FenceCode.GONE,
      expiresAt: 0,
    });
    expect(
      (await t.redis.tpReserve(...reserveKeys(eventId, z.zoneId, neverBought), layout.hash, neverBought, clock.now, '{}', 0, 0))[0],
    ).toBe(ReserveCode.DUPLICATE);
    expect((await holds.convert(eventId, z.zoneId, layout, gone, neverBought, [seat(layout, 'A', 1)], '{}')).code).toBe(HoldCode.DUPLICATE);
    // fence.lua on what did happen: HELD with its expiry, PURCHASED.
    const live = t.newHold(eventId, z.zoneId);
    await holds.hold(eventId, z.zoneId, layout, live, [seat(layout, 'C', 1)]);
    expect(await holds.fence(eventId, z.zoneId, 'hold', { holdId: live.holdId }, 60)).toEqual({
      code: FenceCode.HELD,
      expiresAt: live.expiresAt,
    });
    const bought = p();
    expect(await holds.fence(eventId, z.zoneId, 'convert', { holdId: live.holdId, purchaseId: bought }, 60)).toEqual({
      code: FenceCode.HELD,
      expiresAt: live.expiresAt,
    });
    expect((await holds.convert(eventId, z.zoneId, layout, live.holdId, bought, [seat(layout, 'C', 1)], '{}')).code).toBe(
      HoldCode.DUPLICATE,
    ); // fenced purchase id
    const bought2 = p();
    expect((await holds.convert(eventId, z.zoneId, layout, live.holdId, bought2, [seat(layout, 'C', 1)], '{}')).code).toBe(HoldCode.OK);
    expect(await holds.fence(eventId, z.zoneId, 'convert', { holdId: live.holdId, purchaseId: bought2 }, 60)).toEqual({
      code: FenceCode.PURCHASED,
      expiresAt: 0,
    });
    expect(await holds.fence(eventId, z.zoneId, 'hold', { holdId: live.holdId }, 60)).toEqual({ code: FenceCode.PURCHASED, expiresAt: 0 });
    // A closed zone: no new holds (hold.lua is tested above), no best, no payment.
    const open = t.newHold(eventId, z.zoneId);
    await holds.hold(eventId, z.zoneId, layout, open, [seat(layout, 'C', 2)]);
    await t.redis.hset(inventory.keys(eventId, z.zoneId).meta, 'closed', '1');
    expect((await holds.best(eventId, z.zoneId, layout, t.newHold(eventId, z.zoneId), 1)).code).toBe(HoldCode.ZONE_CLOSED);
    expect((await holds.convert(eventId, z.zoneId, layout, open.holdId, p(), [seat(layout, 'C', 2)], '{}')).code).toBe(
      HoldCode.ZONE_CLOSED,
    );
    await t.expectConsistent(eventId, z);
  });

  test('allowance-settle.lua refuses a stale token and changes nothing', async () => {
    const allowance = new BuyerAllowance(t.redis, t.prefix, holds);
    const claim = { eventId: 'E', buyer: 'kim', entryId: 'E.z.h0000000000000001', seats: 2, limit: 4, kind: 'hold' as const, zoneId: 'z' };
    const got = await allowance.acquire(claim);
    if (!got.ok) throw new Error('acquire refused');
    expect(await allowance.settle({ ...got.ticket, token: 'someone-else' }, { firm: 'none' })).toBe(false);
    expect(await t.redis.tpAllowanceSettle(allowance.key('E', 'kim'), claim.entryId, 'drop', 'someone-else', clock.now, 0, '')).toBe(
      AllowanceCode.STALE,
    );
    expect((await allowance.entries('E', 'kim')).map((e) => e.state)).toEqual(['provisional']);
    expect(await allowance.settle(got.ticket, { firm: 'none' })).toBe(true);
    expect(await allowance.entries('E', 'kim')).toEqual([]);
  });
});

describe('zones made anew', () => {
  test('a zone rebuilt from the write model drops the holds it had: an old hold expiring never frees a restored sale', async () => {
    const { eventId, layout, zone } = await t.newZone(z);
    const h = t.newHold(eventId, z.zoneId, 5);
    const seats = [seat(layout, 'A', 1), seat(layout, 'A', 2)];
    await holds.hold(eventId, z.zoneId, layout, h, seats);
    // The zone's inventory keys are lost, its hold keys are not (a partial loss); the write model
    // says A1 was sold.
    const k = inventory.keys(eventId, z.zoneId);
    await t.redis.del(k.bits, k.counts, k.meta);
    expect(await inventory.restoreZone(eventId, zone, [seats[0]!])).toEqual({ restored: true, sold: 1 });
    clock.advance(5_000);
    await holds.expire(eventId, z.zoneId);
    expect(await t.takenOffsets(eventId, z)).toEqual(new Set([seats[0]!.offset]));
    await t.expectConsistent(eventId, z);
  });
});

function reserveKeys(eventId: string, zoneId: string, purchaseId: string) {
  const k = inventory.keys(eventId, zoneId);
  return [k.bits, k.counts, k.meta, k.pending, k.purchase(purchaseId), k.held, k.heldUntil] as const;
}
