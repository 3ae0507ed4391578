import type { SeatChanges } from './zone-log';

/**
 * Pure bitmap work of the change stream (docs/live-seat-map.md): bitmaps are the zone bitmap's
 * layout, most significant bit first, one bit per seat index. A seat is free (taken bit 0),
 * held (taken and held bits 1) or sold (taken 1, held 0); a held bit on a free seat means nothing.
 */

const SOLD = 2;
const HELD = 1;

/** `bits` cut or zero-padded to exactly the zone's bytes (Redis returns a bitmap only up to its last set byte). */
export function sized(bits: Buffer, capacity: number): Buffer {
  const out = Buffer.alloc(Math.ceil(capacity / 8));
  bits.copy(out, 0, 0, Math.min(bits.length, out.length));
  return out;
}

export function bitmapOf(offsets: Iterable<number>, capacity: number): Buffer {
  const out = Buffer.alloc(Math.ceil(capacity / 8));
  for (const o of offsets) if (o >= 0 && o < capacity) out[o >> 3]! |= 0x80 >> (o & 7);
  return out;
}

const bit = (b: Buffer, i: number) => ((b[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

function seatState(taken: Buffer, held: Buffer, i: number): number {
  if (!bit(taken, i)) return 0;
  return bit(held, i) ? HELD : SOLD;
}

/** The seats whose state differs between two pictures, by their new state. Skips unchanged bytes. */
export function diff(before: { taken: Buffer; held: Buffer }, after: { taken: Buffer; held: Buffer }, capacity: number): SeatChanges {
  const out: SeatChanges = { taken: [], freed: [], held: [] };
  const bytes = Math.ceil(capacity / 8);
  for (let byte = 0; byte < bytes; byte++) {
    const bt = before.taken[byte] ?? 0;
    const at = after.taken[byte] ?? 0;
    // Held bits count only on taken seats.
    if (bt === at && ((before.held[byte] ?? 0) & bt) === ((after.held[byte] ?? 0) & at)) continue;
    for (let i = byte * 8; i < Math.min(capacity, byte * 8 + 8); i++) {
      const was = seatState(before.taken, before.held, i);
      const now = seatState(after.taken, after.held, i);
      if (was === now) continue;
      (now === 0 ? out.freed : now === HELD ? out.held : out.taken).push(i);
    }
  }
  return out;
}

export const isEmpty = (c: SeatChanges) => c.taken.length + c.freed.length + c.held.length === 0;

/** Applies a change event to a picture's bitmaps in place. */
export function apply(picture: { taken: Buffer; held: Buffer }, c: SeatChanges): void {
  const set = (b: Buffer, i: number, on: boolean) => {
    if (i >> 3 >= b.length) return;
    if (on) b[i >> 3]! |= 0x80 >> (i & 7);
    else b[i >> 3]! &= ~(0x80 >> (i & 7));
  };
  const to = (seats: number[], taken: boolean, held: boolean) => {
    for (const i of seats) {
      set(picture.taken, i, taken);
      set(picture.held, i, held);
    }
  };
  to(c.taken, true, false);
  to(c.held, true, true);
  to(c.freed, false, false);
}

/** Free seats in all and per row (rows are consecutive runs of `seatCounts` seats). */
export function availability(taken: Buffer, seatCounts: readonly number[]): { available: number; rowAvailable: number[] } {
  let start = 0;
  const rowAvailable = seatCounts.map((n) => {
    let free = 0;
    for (let i = start; i < start + n; i++) free += bit(taken, i) ? 0 : 1;
    start += n;
    return free;
  });
  return { available: rowAvailable.reduce((a, b) => a + b, 0), rowAvailable };
}
