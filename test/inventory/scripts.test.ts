import { Inventory, isTaken, type SeatPosition } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { ConfirmCode, InitZoneCode, ReserveCode } from '../../src/commands/scripts';
import type { ZoneDef } from '../../src/catalog/model';
import { testConfig, uid } from '../support/env';
import { testRedis } from '../support/platform';

const redis = testRedis();
const prefix = testConfig().REDIS_KEY_PREFIX;
const inventory = new Inventory(redis, prefix);
const created: [string, string][] = [];

function zone(rows: string[], seatCounts: number[], zoneId = 'z1'): ZoneDef {
  return { zoneId, name: 'Zone', rows, seatCounts, priceCents: 100 };
}

async function newZone(z: ZoneDef) {
  const eventId = uid('inv');
  created.push([eventId, z.zoneId]);
  expect((await inventory.initZone(eventId, z)).code).toBe(InitZoneCode.CREATED);
  return { eventId, layout: ZoneLayout.of(z) };
}

/** Counters must equal capacity minus the bitmap's popcount, for the zone and for every row. */
async function expectCountersMatchBitmap(eventId: string, z: ZoneDef) {
  const st = (await inventory.zoneState(eventId, z.zoneId))!;
  const layout = ZoneLayout.of(z);
  let sold = 0;
  const rowSold = z.rows.map(() => 0);
  for (let k = 0; k < layout.capacity; k++) {
    if (isTaken(st.bits, k)) {
      sold++;
      rowSold[z.rows.indexOf(layout.seatAt(k).row)]!++;
    }
  }
  const popcount = await redis.bitcount(inventory.keys(eventId, z.zoneId).bits);
  expect(popcount).toBe(sold);
  expect(st.available).toBe(layout.capacity - sold);
  expect(st.rowAvailable).toEqual(z.seatCounts.map((n, r) => n - rowSold[r]!));
}

const seat = (layout: ZoneLayout, row: string, col: number): SeatPosition => layout.locate(row, col)!;
let n = 0;
const reserve = (eventId: string, z: ZoneDef, layout: ZoneLayout, seats: SeatPosition[]) =>
  inventory.reserve(eventId, z.zoneId, layout, `${eventId}.${z.zoneId}.p${String(++n).padStart(15, '0')}`, seats, '{}');

afterAll(async () => {
  for (const [e, z] of created) await inventory.deleteZone(e, z);
  await redis.quit();
});

describe('reserve.lua', () => {
  const z = zone(['A', 'B', 'C'], [4, 5, 6]);

  test('is all-or-nothing: one taken seat refuses the whole request and changes nothing', async () => {
    const { eventId, layout } = await newZone(z);
    expect((await reserve(eventId, z, layout, [seat(layout, 'B', 2)])).code).toBe(ReserveCode.OK);
    const before = await inventory.zoneState(eventId, z.zoneId);
    const r = await reserve(eventId, z, layout, [seat(layout, 'A', 1), seat(layout, 'B', 2), seat(layout, 'C', 6)]);
    expect(r).toEqual({ code: ReserveCode.SEATS_TAKEN, takenIndexes: [2] });
    expect(await inventory.zoneState(eventId, z.zoneId)).toEqual(before);
    await expectCountersMatchBitmap(eventId, z);
  });

  test('rejects a full zone at once, and seats outside the layout', async () => {
    const small = zone(['A'], [2], 'tiny');
    const { eventId, layout } = await newZone(small);
    expect((await reserve(eventId, small, layout, [seat(layout, 'A', 1), seat(layout, 'A', 2)])).code).toBe(ReserveCode.OK);
    expect((await reserve(eventId, small, layout, [seat(layout, 'A', 1)])).code).toBe(ReserveCode.SOLD_OUT);
    const big = zone(['A', 'B'], [3, 3], 'other');
    const other = await newZone(big);
    expect((await reserve(other.eventId, big, other.layout, [{ offset: 6, rowIdx: 1 }])).code).toBe(ReserveCode.OUT_OF_LAYOUT);
    expect(
      (
        await reserve(other.eventId, big, other.layout, [
          { offset: 0, rowIdx: 0 },
          { offset: 0, rowIdx: 0 },
        ])
      ).code,
    ).toBe(ReserveCode.DUPLICATE);
  });

  test('refuses a caller with a stale layout, and a zone without inventory', async () => {
    const { eventId } = await newZone(z);
    const stale = new ZoneLayout(['A', 'B', 'C'], [4, 5, 7]);
    expect((await reserve(eventId, z, stale, [{ offset: 0, rowIdx: 0 }])).code).toBe(ReserveCode.LAYOUT_MISMATCH);
    expect((await reserve(uid('none'), z, ZoneLayout.of(z), [{ offset: 0, rowIdx: 0 }])).code).toBe(ReserveCode.NO_INVENTORY);
  });

  test('a re-run of the same purchase id changes nothing (lost reply retried)', async () => {
    const { eventId, layout } = await newZone(z);
    const id = `${eventId}.${z.zoneId}.rerun0000000000`;
    const seats = [seat(layout, 'C', 3)];
    expect((await inventory.reserve(eventId, z.zoneId, layout, id, seats, '{}')).code).toBe(ReserveCode.OK);
    expect((await inventory.reserve(eventId, z.zoneId, layout, id, seats, '{}')).code).toBe(ReserveCode.OK);
    await expectCountersMatchBitmap(eventId, z);
    expect((await inventory.zoneState(eventId, z.zoneId))!.available).toBe(14);
  });

  test('counters equal the popcount after a random sequence of reserves, refusals and confirms', async () => {
    const { eventId, layout } = await newZone(z);
    const held: { id: string; seats: SeatPosition[] }[] = [];
    let rnd = 42;
    const rand = (m: number) => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31), rnd % m);
    for (let i = 0; i < 300; i++) {
      if (held.length > 0 && rand(3) === 0) {
        await inventory.confirm(eventId, z.zoneId, held[rand(held.length)]!.id);
        continue;
      }
      const count = 1 + rand(3);
      const offsets = new Set<number>();
      while (offsets.size < count) offsets.add(rand(layout.capacity));
      const seats = [...offsets].map((o) => {
        const s = layout.seatAt(o);
        return layout.locate(s.row, s.column)!;
      });
      const id = `${eventId}.${z.zoneId}.r${String(i).padStart(15, '0')}`;
      const r = await inventory.reserve(eventId, z.zoneId, layout, id, seats, '{}');
      if (r.code === ReserveCode.OK) held.push({ id, seats });
    }
    await expectCountersMatchBitmap(eventId, z);
    // Every held purchase owns exactly its bits, and nothing else is set.
    const st = (await inventory.zoneState(eventId, z.zoneId))!;
    const expected = new Set(held.flatMap((h) => h.seats.map((s) => s.offset)));
    const actual = new Set([...Array(layout.capacity).keys()].filter((k) => isTaken(st.bits, k)));
    expect(actual).toEqual(expected);
  });
});

describe('confirm.lua', () => {
  const z = zone(['A'], [10]);

  test('settles a reserved purchase once and never frees a seat', async () => {
    const { eventId, layout } = await newZone(z);
    const a = `${eventId}.${z.zoneId}.confA00000000000`;
    await inventory.reserve(eventId, z.zoneId, layout, a, [seat(layout, 'A', 1)], '{}');
    expect(await inventory.confirm(eventId, z.zoneId, a)).toBe(ConfirmCode.CONFIRMED);
    expect(await inventory.confirm(eventId, z.zoneId, a)).toBe(ConfirmCode.ALREADY_CONFIRMED);
    expect(await inventory.confirm(eventId, z.zoneId, `${eventId}.${z.zoneId}.none000000000000`)).toBe(ConfirmCode.UNKNOWN);
    expect((await inventory.getPurchase(eventId, z.zoneId, a))!.status).toBe('confirmed');
    expect(isTaken((await inventory.zoneState(eventId, z.zoneId))!.bits, 0)).toBe(true);
    // A confirmed id cannot reserve again.
    expect((await inventory.reserve(eventId, z.zoneId, layout, a, [seat(layout, 'A', 5)], '{}')).code).toBe(ReserveCode.DUPLICATE);
    expect(await inventory.pendingCount(eventId, z.zoneId)).toBe(0);
    await expectCountersMatchBitmap(eventId, z);
  });

  test('never confirms a record an older version voided (its seats may be sold again)', async () => {
    const { eventId, layout } = await newZone(z);
    const v = `${eventId}.${z.zoneId}.voidA00000000000`;
    await inventory.reserve(eventId, z.zoneId, layout, v, [seat(layout, 'A', 2)], '{}');
    await redis.hset(inventory.keys(eventId, z.zoneId).purchase(v), 'status', 'voided'); // as the removed void.lua left it
    expect(await inventory.confirm(eventId, z.zoneId, v)).toBe(ConfirmCode.VOIDED);
    expect((await inventory.getPurchase(eventId, z.zoneId, v))!.status).toBe('voided');
    expect((await inventory.reserve(eventId, z.zoneId, layout, v, [seat(layout, 'A', 3)], '{}')).code).toBe(ReserveCode.DUPLICATE);
  });
});

describe('init-zone.lua', () => {
  test('never resets a zone that exists; refuses a layout change after sales', async () => {
    const z = zone(['A', 'B'], [5, 5]);
    const { eventId, layout } = await newZone(z);
    await reserve(eventId, z, layout, [seat(layout, 'B', 5)]);
    expect(await inventory.initZone(eventId, z)).toEqual({ code: InitZoneCode.UNCHANGED, sold: 1 });
    expect(await inventory.initZone(eventId, zone(['A', 'B', 'C'], [5, 5, 5]))).toEqual({
      code: InitZoneCode.LAYOUT_CHANGE_REFUSED,
      sold: 1,
    });
    const st = (await inventory.zoneState(eventId, z.zoneId))!;
    expect(st.capacity).toBe(10);
    expect(isTaken(st.bits, layout.locate('B', 5)!.offset)).toBe(true);
  });

  test('re-creates an unsold zone with a new layout', async () => {
    const z = zone(['A'], [5]);
    const { eventId } = await newZone(z);
    const bigger = zone(['A', 'B'], [5, 7]);
    expect((await inventory.initZone(eventId, bigger)).code).toBe(InitZoneCode.RECREATED);
    expect((await inventory.zoneState(eventId, z.zoneId))!.capacity).toBe(12);
  });

  test('restore-zone rebuilds a large sold-out zone in one call, counters matching the bitmap', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => `R${i}`);
    const z = zone(
      rows,
      rows.map(() => 1000),
      'restored',
    );
    const eventId = uid('inv');
    created.push([eventId, z.zoneId]);
    const layout = ZoneLayout.of(z);
    // 70,000 sold seats: one argument per seat would overflow the call's argument list.
    const sold = Array.from({ length: 70_000 }, (_, i) => layout.locate(`R${i % 100}`, 1 + Math.floor(i / 100))!);
    expect(await inventory.restoreZone(eventId, z, sold)).toEqual({ restored: true, sold: 70_000 });
    expect((await inventory.restoreZone(eventId, z, sold)).restored).toBe(false);
    await expectCountersMatchBitmap(eventId, z);
    const st = (await inventory.zoneState(eventId, z.zoneId))!;
    expect(st.available).toBe(30_000);
    expect(isTaken(st.bits, layout.locate('R99', 700)!.offset)).toBe(true);
    expect(isTaken(st.bits, layout.locate('R0', 701)!.offset)).toBe(false);
  });

  test('a 100,000-seat zone uses at most 1.25 bits per seat', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => `R${i}`);
    const z = zone(
      rows,
      rows.map(() => 1000),
      'huge',
    );
    const { eventId, layout } = await newZone(z);
    await reserve(eventId, z, layout, [seat(layout, 'R99', 1000), seat(layout, 'R0', 1)]);
    const k = inventory.keys(eventId, z.zoneId);
    let bytes = 0;
    for (const key of [k.bits, k.counts, k.meta]) bytes += Number(await redis.memory('USAGE', key));
    expect(layout.capacity).toBe(100_000);
    expect((bytes * 8) / layout.capacity).toBeLessThanOrEqual(1.25);
    await expectCountersMatchBitmap(eventId, z);
  });
});

describe('close-zone.lua: the fence of a zone that leaves the catalog', () => {
  const z = zone(['A', 'B'], [3, 3], 'fenced');

  test('a closed zone refuses every new reservation, changes nothing, and still settles the purchases reserved before', async () => {
    const { eventId, layout } = await newZone(z);
    const before = `${eventId}.${z.zoneId}.before000000000`;
    const seats = [seat(layout, 'A', 1)];
    expect((await inventory.reserve(eventId, z.zoneId, layout, before, seats, '{}')).code).toBe(ReserveCode.OK);
    expect(await inventory.closeZone(eventId, z.zoneId)).toBe(true);
    const state = await inventory.zoneState(eventId, z.zoneId);

    expect((await reserve(eventId, z, layout, [seat(layout, 'B', 2)])).code).toBe(ReserveCode.ZONE_CLOSED);
    expect(await inventory.zoneState(eventId, z.zoneId)).toEqual(state);
    expect(await inventory.pendingCount(eventId, z.zoneId)).toBe(1);
    // A lost reply of the purchase reserved before the fence is retried: it stands, nothing more.
    expect((await inventory.reserve(eventId, z.zoneId, layout, before, seats, '{}')).code).toBe(ReserveCode.OK);
    expect(await inventory.confirm(eventId, z.zoneId, before)).toBe(0);
    expect(await inventory.pendingCount(eventId, z.zoneId)).toBe(0);
    await expectCountersMatchBitmap(eventId, z);
    expect(await redis.hmget(inventory.keys(eventId, z.zoneId).meta, 'layout', 'closed')).toEqual([
      layout.hash,
      expect.stringMatching(/^\d+$/),
    ]);
  });

  test('init-zone re-opens a closed zone that is wanted again, also when it refuses its layout change', async () => {
    const { eventId, layout } = await newZone(z);
    await inventory.closeZone(eventId, z.zoneId);
    expect((await inventory.initZone(eventId, z)).code).toBe(InitZoneCode.UNCHANGED);
    expect((await reserve(eventId, z, layout, [seat(layout, 'B', 3)])).code).toBe(ReserveCode.OK);

    await inventory.closeZone(eventId, z.zoneId);
    expect((await inventory.initZone(eventId, zone(['A', 'B'], [4, 4], 'fenced'))).code).toBe(InitZoneCode.LAYOUT_CHANGE_REFUSED);
    expect((await reserve(eventId, z, layout, [seat(layout, 'A', 3)])).code).toBe(ReserveCode.OK); // sells on the layout it has
    await expectCountersMatchBitmap(eventId, z);
  });

  test('a zone without inventory is not fenced (no meta hash is created)', async () => {
    const eventId = uid('inv');
    expect(await inventory.closeZone(eventId, 'nothing')).toBe(false);
    expect(await inventory.zoneExists(eventId, 'nothing')).toBe(false);
  });
});
