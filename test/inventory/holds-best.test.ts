import { nextToEachOther } from '../../src/inventory/holds';
import type { ZoneLayout } from '../../src/inventory/layout';
import { HoldCode } from '../../src/commands/scripts';
import type { SeatPosition } from '../../src/inventory/inventory';
import { holdsHarness, zoneDef } from './holds-support';

/** best.lua's picks (docs/purchase-state-machine.md, "Holds"; issue 13, item 4). */
const t = holdsHarness();
const { holds, clock, seat } = t;
afterAll(() => t.close());

const label = (layout: ZoneLayout, seats: SeatPosition[]) => seats.map((s) => layout.seatAt(s.offset)).map((s) => `${s.row}${s.column}`);

/** A zone with the given seats taken (held by a long hold). */
async function zoneWith(rows: string[], perRow: number, taken: string[]) {
  const z = zoneDef(
    rows,
    rows.map(() => perRow),
  );
  const { eventId, layout } = await t.newZone(z);
  if (taken.length > 0) {
    const seats = taken.map((s) => seat(layout, s[0]!, Number(s.slice(1))));
    expect((await holds.hold(eventId, z.zoneId, layout, t.newHold(eventId, z.zoneId), seats)).code).toBe(HoldCode.OK);
  }
  const best = async (count: number) => {
    const r = await holds.best(eventId, z.zoneId, layout, t.newHold(eventId, z.zoneId), count);
    if (r.code !== HoldCode.OK) return r;
    return { code: r.code, seats: label(layout, r.seats), nextToEachOther: nextToEachOther(r.seats) };
  };
  return { eventId, z, layout, best };
}

test('an empty zone: the first row, the centre', async () => {
  const { best, eventId, z } = await zoneWith(['A', 'B'], 10, []);
  expect(await best(2)).toEqual({ code: HoldCode.OK, seats: ['A5', 'A6'], nextToEachOther: true });
  // The centre is taken now: the next pair goes beside it, leaving no orphan (A3-A4 or A7-A8).
  expect(await best(2)).toEqual({ code: HoldCode.OK, seats: ['A3', 'A4'], nextToEachOther: true });
  // Three in A7-A10 would strand A7 or A10: row B's centre wins over row A.
  expect(await best(3)).toEqual({ code: HoldCode.OK, seats: ['B4', 'B5', 'B6'], nextToEachOther: true });
  await t.expectConsistent(eventId, z);
});

test('closest to the centre among the no-orphan windows of a row', async () => {
  // Row of 10 with seat 5 taken: free runs 1-4 and 6-10. 6-7 is nearest the centre (between
  // seats 5 and 6) without stranding a seat; 3-4 is further, and 2-3 or 7-8 would strand one.
  const { best } = await zoneWith(['A'], 10, ['A5']);
  expect(await best(2)).toEqual({ code: HoldCode.OK, seats: ['A6', 'A7'], nextToEachOther: true });
});

test('a row whose every window strands a seat loses to a later row that strands none', async () => {
  // Row A: seats 1-5 free, 6-10 taken. Four seats there leave A1 or A5 alone: row B is picked.
  const { best } = await zoneWith(['A', 'B'], 10, ['A6', 'A7', 'A8', 'A9', 'A10']);
  expect(await best(4)).toEqual({ code: HoldCode.OK, seats: ['B4', 'B5', 'B6', 'B7'], nextToEachOther: true });
});

test('adjacent seats with an orphan when no row has better, closest to the stage', async () => {
  // Rows A and B: seats 1-5 free in each. Four adjacent seats always strand one: row A, as centred as it gets.
  const { best } = await zoneWith(['A', 'B'], 10, ['A6', 'A7', 'A8', 'A9', 'A10', 'B6', 'B7', 'B8', 'B9', 'B10']);
  expect(await best(4)).toEqual({ code: HoldCode.OK, seats: ['A2', 'A3', 'A4', 'A5'], nextToEachOther: true });
});

test('a seat alone between taken seats or at a row end counts as an orphan', async () => {
  // Row A: 1-3 free, 4 taken, 5-10 free. Three seats at 5-7 leave 8-10 (fine); at 1-3 none left (fine);
  // 6-8 would strand 5. The centre-most window without an orphan is 5-7 (A1-A3 is further away).
  const { best } = await zoneWith(['A'], 10, ['A4']);
  expect(await best(3)).toEqual({ code: HoldCode.OK, seats: ['A5', 'A6', 'A7'], nextToEachOther: true });
});

test('split across rows when no row has the seats side by side: nextToEachOther is false', async () => {
  const { best, eventId, z } = await zoneWith(['A', 'B'], 3, ['A2', 'B2']);
  expect(await best(3)).toEqual({ code: HoldCode.OK, seats: ['A1', 'A3', 'B1'], nextToEachOther: false });
  await t.expectConsistent(eventId, z);
});

test('fewer free seats than asked: NOT_ENOUGH_SEATS with the count left; none: SOLD_OUT', async () => {
  const { best, eventId, z } = await zoneWith(['A'], 4, ['A1']);
  expect(await best(4)).toEqual({ code: HoldCode.NOT_ENOUGH_SEATS, left: 3 });
  expect(await best(3)).toMatchObject({ code: HoldCode.OK, seats: ['A2', 'A3', 'A4'] });
  expect(await best(1)).toEqual({ code: HoldCode.SOLD_OUT, detail: undefined });
  await t.expectConsistent(eventId, z);
});

test('seats of expired holds are picked again; a re-run with the same hold id answers the same seats', async () => {
  const z = zoneDef(['A'], [4]);
  const { eventId, layout } = await t.newZone(z);
  expect((await holds.best(eventId, z.zoneId, layout, t.newHold(eventId, z.zoneId, 5), 4)).code).toBe(HoldCode.OK);
  clock.advance(5_000);
  const again = t.newHold(eventId, z.zoneId);
  const first = await holds.best(eventId, z.zoneId, layout, again, 2);
  expect(first).toMatchObject({ code: HoldCode.OK, available: 2 });
  expect(await holds.best(eventId, z.zoneId, layout, again, 2)).toEqual(first);
  await t.expectConsistent(eventId, z);
});
