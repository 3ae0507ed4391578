import type { SeatMap } from '../../src/web/app/src/api';
import { SeatLayout, setSold } from '../../src/web/app/src/seat-bits';
import { ZoneState, type SeatStatus } from '../../src/web/app/src/zone-state';

/**
 * The seat-map page's merge rules (src/web/app/src/zone-state.ts), as pure functions: snapshots
 * (polls), changes (a live source), purchase answers and the selection. Times are plain numbers
 * standing for performance.now(). Seat indexes: rows A, B, C of 4 seats, A1 = 0 … C4 = 11.
 */
const ROWS = ['A', 'B', 'C'];
const COUNTS = [4, 4, 4];
const A1 = 0,
  A2 = 1,
  A3 = 2,
  B1 = 4,
  B2 = 5,
  C1 = 8,
  C4 = 11;

/**
 * A seat map as the API answers it: `sold` is the zone bitmap (every taken seat, sold or held),
 * `held` the held ones, and the counts agree with the bitmap (MULTI read, invariant 3).
 */
function seatMap(sold: number[], rows = ROWS, seatCounts = COUNTS, held: number[] = []): SeatMap {
  const layout = new SeatLayout(rows, seatCounts);
  const bitmap = (ks: number[]) => {
    const bits = new Uint8Array(Math.ceil(layout.capacity / 8));
    for (const k of ks) setSold(bits, k, true);
    return { encoding: 'bitmap-msb-base64' as const, data: Buffer.from(bits).toString('base64') };
  };
  const taken = [...new Set([...sold, ...held])];
  const rowAvailable = seatCounts.map((n, r) => n - taken.filter((k) => layout.seatAt(k).rowIdx === r).length);
  return {
    eventId: 'E',
    zoneId: 'z',
    name: 'Zone z',
    priceCents: 100,
    rows,
    seatCounts,
    capacity: layout.capacity,
    available: layout.capacity - taken.length,
    rowAvailable,
    sold: bitmap(taken),
    held: bitmap(held),
  };
}
/** A seat map with holds, on the default layout. */
const withHeld = (sold: number[], held: number[]) => seatMap(sold, ROWS, COUNTS, held);

const seatsIn = (s: ZoneState, status: SeatStatus) =>
  Array.from({ length: s.capacity }, (_, k) => k).filter((k) => s.statusOf(k) === status);

/** The figures the page shows must count exactly the seats it shows free. */
function expectCountsMatchSeats(s: ZoneState): void {
  const free = seatsIn(s, 'free');
  expect(s.available).toBe(free.length);
  expect(s.rowAvailable).toEqual(s.layout.seatCounts.map((_, r) => free.filter((k) => s.layout.seatAt(k).rowIdx === r).length));
}

function merged(s: ZoneState, map: SeatMap, startedAt: number) {
  const r = s.applySnapshot(map, startedAt);
  if (r.relaid) throw new Error('expected a merge, got a relayout');
  return r;
}

describe('ZoneState: snapshots', () => {
  it('reports exactly the seats a poll changed, and takes its counts', () => {
    const s = new ZoneState(seatMap([A1]), 6);
    expect(merged(s, seatMap([A1, B2, C4]), 10)).toEqual({ relaid: false, changed: [B2, C4], lost: [] });
    expect(seatsIn(s, 'sold')).toEqual([A1, B2, C4]);
    expect(s.available).toBe(9);
    expect(s.rowAvailable).toEqual([3, 3, 3]);
    expect(merged(s, seatMap([A1, B2, C4]), 20).changed).toEqual([]);
  });

  it('a poll that started before a purchase answer never flips the bought seats back to free', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A1);
    s.toggle(A2);
    const start = s.startPurchase();
    expect(start).toEqual({ ok: true, picked: [A1, A2] });
    expect(s.purchased([A1, A2], 100)).toEqual([A1, A2]);
    s.finishPurchase();
    expect(s.lookOf(A1)).toEqual({ status: 'sold', selected: false, mark: 'mine' });
    expect([s.available, s.rowAvailable]).toEqual([10, [2, 4, 4]]);

    // Started at 90, answered after the purchase: it does not show the sale yet.
    expect(merged(s, seatMap([]), 90).changed).toEqual([]);
    expect(seatsIn(s, 'sold')).toEqual([A1, A2]);
    expect([s.available, s.rowAvailable]).toEqual([10, [2, 4, 4]]);

    // Started after the purchase: it is the truth, even if the seats were freed since (a void).
    expect(merged(s, seatMap([A2]), 101).changed).toEqual([A1]);
    expect(s.lookOf(A1)).toEqual({ status: 'free', selected: false, mark: undefined });
    expect(s.lookOf(A2).mark).toBe('mine');
    expect([s.available, s.rowAvailable]).toEqual([11, [3, 4, 4]]);
    // What the page learned has been superseded: an older answer is now just older.
    expect(merged(s, seatMap([]), 95).changed).toEqual([A2]);
  });

  it('an older poll keeps the page counts but moves them by the seats it changes', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A1);
    s.startPurchase();
    s.purchased([A1], 100);
    s.finishPurchase();
    // Started before the purchase, it shows another buyer's C1: counted on top of the page's A1.
    expect(merged(s, seatMap([C1]), 50).changed).toEqual([C1]);
    expect([s.available, s.rowAvailable]).toEqual([10, [3, 4, 3]]);
    expectCountsMatchSeats(s);
  });

  it('seats a poll showed sold during the purchase are counted once when its answer arrives', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A1);
    s.toggle(A2);
    s.startPurchase();
    // The sale was committed before this poll read Redis: the purchase's own seats show sold.
    expect(merged(s, seatMap([A1, A2]), 50)).toEqual({ relaid: false, changed: [A1, A2], lost: [] });
    expect(s.selection).toEqual([A1, A2]);
    s.purchased([A1, A2], 60);
    s.finishPurchase();
    expect(s.selection).toEqual([]);
    expect([s.available, s.rowAvailable]).toEqual([10, [2, 4, 4]]);
  });

  it('a seat sold to someone else leaves the selection, but not while a purchase is in flight', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(B1);
    s.toggle(B2);
    expect(merged(s, seatMap([B2]), 10)).toEqual({ relaid: false, changed: [B2], lost: [B2] });
    expect(s.selection).toEqual([B1]);
    expect(s.lookOf(B2)).toEqual({ status: 'sold', selected: false, mark: undefined });

    s.startPurchase();
    expect(merged(s, seatMap([B1, B2]), 20).lost).toEqual([]);
    expect(s.selection).toEqual([B1]);
  });

  it('a changed layout resets the seats, the selection, the counts and what the page learned', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A3);
    s.seatsTaken([{ row: 'A', column: 1 }], 100);
    expect(s.applySnapshot(seatMap([0], ['A', 'B'], [5, 5]), 50)).toEqual({ relaid: true });
    expect(s.capacity).toBe(10);
    expect(s.selection).toEqual([]);
    expect(seatsIn(s, 'sold')).toEqual([0]);
    expect(s.lookOf(0).mark).toBeUndefined();
    expect([s.available, s.rowAvailable]).toEqual([9, [4, 5]]);
    // Nothing learned on the old layout protects a seat of the new one.
    expect(merged(s, seatMap([], ['A', 'B'], [5, 5]), 60).changed).toEqual([0]);
  });
});

describe('ZoneState: selection', () => {
  it('toggles free seats up to the limit, and refuses sold seats and changes during a purchase', () => {
    const s = new ZoneState(seatMap([C4]), 2);
    expect(s.toggle(A1)).toEqual({ ok: true, selected: true });
    expect(s.toggle(A2)).toEqual({ ok: true, selected: true });
    expect(s.toggle(A3)).toEqual({ ok: false, reason: 'limit' });
    expect(s.toggle(C4)).toEqual({ ok: false, reason: 'sold' });
    expect(s.toggle(A1)).toEqual({ ok: true, selected: false });
    expect(s.toggle(A3)).toEqual({ ok: true, selected: true });
    expect(s.selection).toEqual([A2, A3]);

    expect(s.startPurchase()).toEqual({ ok: true, picked: [A2, A3] });
    expect(s.startPurchase()).toEqual({ ok: false, reason: 'busy' });
    expect(s.toggle(B1)).toEqual({ ok: false, reason: 'busy' });
    expect(s.clearSelection()).toEqual([]);
    s.finishPurchase();
    expect(s.clearSelection()).toEqual([A2, A3]);
    expect(s.startPurchase()).toEqual({ ok: false, reason: 'empty' });
    expect(s.busy).toBe(false);
  });

  it('adopts a lower limit from TOO_MANY_SEATS, ignoring anything but a positive integer', () => {
    const s = new ZoneState(seatMap([]), 6);
    for (const bad of [NaN, 0, -2, 2.5]) s.adoptLimit(bad);
    expect(s.limit).toBe(6);
    s.adoptLimit(1);
    s.toggle(A1);
    expect(s.toggle(A2)).toEqual({ ok: false, reason: 'limit' });
  });
});

describe('ZoneState: SEATS_TAKEN', () => {
  it('marks the named seats taken, drops them from the selection, counts only those not known sold', () => {
    const s = new ZoneState(seatMap([B1]), 6);
    for (const k of [A1, A2, B2]) s.toggle(k);
    s.startPurchase();
    const taken = s.seatsTaken(
      [
        { row: 'A', column: 2 },
        { row: 'B', column: 1 },
        { row: 'Z', column: 1 },
        { row: 'A', column: 99 },
      ],
      100,
    );
    s.finishPurchase();
    expect(taken).toEqual([A2, B1]);
    expect(s.selection).toEqual([A1, B2]);
    expect(s.lookOf(A2)).toEqual({ status: 'sold', selected: false, mark: 'taken' });
    expect(s.lookOf(B1).mark).toBe('taken');
    expect([s.available, s.rowAvailable]).toEqual([10, [3, 3, 4]]);
    expectCountsMatchSeats(s);
    // The poll held back while the conflict happened does not show A2 yet: it stays taken.
    expect(merged(s, seatMap([B1]), 90).changed).toEqual([]);
    expect(s.lookOf(A2).mark).toBe('taken');
  });
});

describe('ZoneState: changes from a live source', () => {
  it('applies taken, held and freed seats, counting each seat once however often it is reported', () => {
    const s = new ZoneState(seatMap([]), 6);
    expect(s.applyChange({ taken: [A1], held: [B1, B2] }, 10)).toEqual({ changed: [A1, B1, B2], lost: [] });
    expect([seatsIn(s, 'sold'), seatsIn(s, 'held')]).toEqual([[A1], [B1, B2]]);
    expect([s.available, s.rowAvailable]).toEqual([9, [3, 2, 4]]);
    // The hold on B1 becomes a sale; A1 reported again changes nothing.
    expect(s.applyChange({ taken: [A1, B1], freed: [B2] }, 20)).toEqual({ changed: [B1, B2], lost: [] });
    expect([seatsIn(s, 'sold'), seatsIn(s, 'held')]).toEqual([[A1, B1], []]);
    expect([s.available, s.rowAvailable]).toEqual([10, [3, 3, 4]]);
    expectCountsMatchSeats(s);
    // A poll that started later agrees and changes nothing.
    expect(merged(s, seatMap([A1, B1]), 30).changed).toEqual([]);
    expectCountsMatchSeats(s);
  });

  it('ignores a replayed or out-of-order seq, and seats outside the zone', () => {
    const s = new ZoneState(seatMap([]), 6);
    expect(s.applyChange({ seq: 5, taken: [A1] }, 10).changed).toEqual([A1]);
    expect(s.applyChange({ seq: 5, freed: [A1] }, 11)).toEqual({ changed: [], lost: [] });
    expect(s.applyChange({ seq: 4, freed: [A1] }, 12)).toEqual({ changed: [], lost: [] });
    expect(s.applyChange({ seq: 6, taken: [-1, 12, 1.5, C4] }, 13).changed).toEqual([C4]);
    expect([s.available, seatsIn(s, 'sold')]).toEqual([10, [A1, C4]]);
  });

  it('a seat another buyer holds leaves the selection and cannot be selected until freed', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A1);
    s.toggle(A2);
    expect(s.applyChange({ held: [A2] }, 10)).toEqual({ changed: [A2], lost: [A2] });
    expect(s.lookOf(A2)).toEqual({ status: 'held', selected: false, mark: undefined });
    expect(s.toggle(A2)).toEqual({ ok: false, reason: 'held' });
    s.applyChange({ freed: [A2] }, 20);
    expect(s.toggle(A2)).toEqual({ ok: true, selected: true });
  });

  it('one change naming a seat twice: a sale wins over a hold, a hold over a release', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.applyChange({ freed: [A1, A2], held: [A1, A2], taken: [A2] }, 10);
    expect([s.statusOf(A1), s.statusOf(A2)]).toEqual(['held', 'sold']);
    expectCountsMatchSeats(s);
  });

  it('a poll that started before a change does not undo it; one started after is the truth', () => {
    const s = new ZoneState(seatMap([B1]), 6);
    s.applyChange({ taken: [A1], held: [A2], freed: [B1] }, 100);
    expect(merged(s, seatMap([B1]), 90).changed).toEqual([]);
    expect([seatsIn(s, 'sold'), seatsIn(s, 'held')]).toEqual([[A1], [A2]]);
    expectCountsMatchSeats(s);
    // A later seat map agrees: A2 stays held, and is not counted free.
    expect(merged(s, withHeld([A1], [A2]), 110).changed).toEqual([]);
    expect([s.available, s.rowAvailable]).toEqual([10, [2, 4, 4]]);
    expectCountsMatchSeats(s);
    // A later sale of the held seat ends the hold.
    expect(merged(s, seatMap([A1, A2]), 120).changed).toEqual([A2]);
    expect(seatsIn(s, 'held')).toEqual([]);
    expectCountsMatchSeats(s);
  });

  it('a bought seat freed later (a cancellation) turns free and loses its mark', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(C1);
    s.startPurchase();
    s.purchased([C1], 10);
    s.finishPurchase();
    expect(s.applyChange({ freed: [C1] }, 20)).toEqual({ changed: [C1], lost: [] });
    expect(s.lookOf(C1)).toEqual({ status: 'free', selected: false, mark: undefined });
    expectCountsMatchSeats(s);
  });
});

describe('ZoneState: held seats in snapshots', () => {
  it('tells held seats from sold ones, and counts neither as free', () => {
    const s = new ZoneState(withHeld([A1], [A2, B1]), 6);
    expect([seatsIn(s, 'sold'), seatsIn(s, 'held')]).toEqual([[A1], [A2, B1]]);
    expect([s.available, s.rowAvailable]).toEqual([9, [2, 3, 4]]);
    expectCountsMatchSeats(s);
    // B1's hold is paid, A2's released, C1 newly held.
    expect(merged(s, withHeld([A1, B1], [C1]), 10).changed).toEqual([A2, B1, C1]);
    expect([seatsIn(s, 'sold'), seatsIn(s, 'held')]).toEqual([[A1, B1], [C1]]);
    expectCountsMatchSeats(s);
    expect(s.toggle(C1)).toEqual({ ok: false, reason: 'held' });
  });

  it('a held bit on a seat not taken (a hold that ended between the two reads) is free', () => {
    const map = withHeld([], [A1]);
    const taken = seatMap([]);
    const s = new ZoneState({ ...map, sold: taken.sold, available: taken.available, rowAvailable: taken.rowAvailable }, 6);
    expect(s.statusOf(A1)).toBe('free');
    expectCountsMatchSeats(s);
  });
});

describe("ZoneState: this page's holds", () => {
  it('a hold takes the seats out of the selection and marks them held for this buyer, until a poll shows them otherwise', () => {
    const s = new ZoneState(seatMap([]), 6);
    s.toggle(A1);
    s.toggle(A2);
    s.toggle(B1);
    const seats = [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ];
    expect(s.heldByMe(seats, 100)).toEqual([A1, A2]);
    expect(s.selection).toEqual([B1]);
    expect(s.lookOf(A1)).toEqual({ status: 'held', selected: false, mark: 'mine' });
    expect([s.available, s.rowAvailable]).toEqual([10, [2, 4, 4]]);
    // A poll started before the hold does not free them; one after keeps the mark.
    expect(merged(s, seatMap([]), 90).changed).toEqual([]);
    expect(merged(s, withHeld([], [A1, A2]), 110).changed).toEqual([]);
    expect(s.lookOf(A2).mark).toBe('mine');
    expectCountsMatchSeats(s);
  });

  it('paying the hold makes the seats sold and still this buyer’s', () => {
    const s = new ZoneState(seatMap([]), 6);
    const ks = s.heldByMe([{ row: 'B', column: 2 }], 10);
    expect(s.purchased(ks, 20)).toEqual([B2]);
    expect(s.lookOf(B2)).toEqual({ status: 'sold', selected: false, mark: 'mine' });
    expect(merged(s, seatMap([B2]), 30).changed).toEqual([]);
    expect(s.lookOf(B2).mark).toBe('mine');
    expectCountsMatchSeats(s);
  });

  it('a release or a cancellation frees the seats at once; an older poll does not bring them back', () => {
    const s = new ZoneState(seatMap([]), 6);
    const seats = [{ row: 'C', column: 1 }];
    s.heldByMe(seats, 10);
    expect(s.freedByMe(seats, 20)).toEqual([C1]);
    expect(s.lookOf(C1)).toEqual({ status: 'free', selected: false, mark: undefined });
    expect(merged(s, withHeld([], [C1]), 15).changed).toEqual([]);
    expect(s.statusOf(C1)).toBe('free');
    expectCountsMatchSeats(s);
    // Bought, then cancelled.
    s.purchased(s.indexesOf(seats), 30);
    expect(s.freedByMe(seats, 40)).toEqual([C1]);
    expect(merged(s, seatMap([C1]), 35).changed).toEqual([]);
    expect(s.lookOf(C1)).toEqual({ status: 'free', selected: false, mark: undefined });
    expectCountsMatchSeats(s);
  });

  it('an expired hold stops being drawn as this buyer’s; a seat held again by someone else shows held, not mine', () => {
    const s = new ZoneState(seatMap([]), 6);
    const seats = [
      { row: 'A', column: 3 },
      { row: 'Z', column: 1 },
    ];
    expect(s.heldByMe(seats, 10)).toEqual([A3]);
    expect(s.holdEnded(seats)).toEqual([A3]);
    expect(s.lookOf(A3)).toEqual({ status: 'held', selected: false, mark: undefined });
    expect(s.holdEnded(seats)).toEqual([]);
    expect(merged(s, seatMap([]), 20).changed).toEqual([A3]);
    expect(s.statusOf(A3)).toBe('free');
    expectCountsMatchSeats(s);
  });
});

describe('ZoneState: any interleaving', () => {
  /** A small deterministic generator, so a failure replays. */
  function rng(seed: number): () => number {
    let x = seed;
    return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  }

  it('keeps its counts equal to the seats it shows, never un-sells a seat while nothing is freed, and ends at the truth', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const next = rng(seed);
      const pick = (n: number) => Math.floor(next() * n);
      const truth = new Set<number>();
      const s = new ZoneState(seatMap([]), 3);
      let now = 0;
      let polled: { map: SeatMap; startedAt: number } | undefined;
      for (let step = 0; step < 60; step++) {
        now += 1 + pick(5);
        const before = new Set(seatsIn(s, 'sold'));
        const op = pick(4);
        if (op === 0 && !polled)
          polled = { map: seatMap([...truth]), startedAt: now }; // a poll starts
        else if (op === 0 && polled) {
          s.applySnapshot(polled.map, polled.startedAt); // its answer arrives
          polled = undefined;
        } else if (op === 1)
          truth.add(pick(12)); // another buyer buys, unseen
        else if (op === 2) {
          const k = pick(12);
          truth.add(k);
          s.applyChange({ taken: [k] }, now);
        } else {
          // This page buys one seat it shows free (and, if the truth sold it, hears SEATS_TAKEN).
          const k = pick(12);
          if (s.toggle(k).ok && s.startPurchase().ok) {
            const [row, column] = [s.layout.seatAt(k).row, s.layout.seatAt(k).column];
            if (truth.has(k)) s.seatsTaken([{ row, column }], now);
            else {
              truth.add(k);
              s.purchased([k], now);
            }
            s.finishPurchase();
          }
        }
        for (const k of before) expect(s.statusOf(k)).toBe('sold');
        expectCountsMatchSeats(s);
      }
      s.applySnapshot(seatMap([...truth]), now + 1);
      expect(seatsIn(s, 'sold')).toEqual([...truth].sort((a, b) => a - b));
      expectCountsMatchSeats(s);
    }
  });
});
