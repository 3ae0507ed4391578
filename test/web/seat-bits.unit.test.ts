import { changedSeats, decodeBitmap, isSold, SeatLayout, setSold } from '../../src/web/app/src/seat-bits';

/** The seat map's bitmap helpers must agree with the API's encoding (docs/web.md, src/http/openapi.ts). */
describe('seat map bitmap', () => {
  const toBase64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

  it('reads seat k from bit 7 - k % 8 of byte k / 8 (most significant bit first)', () => {
    // Seats 0, 7, 8 and 18 sold.
    const bits = decodeBitmap(toBase64([0b1000_0001, 0b1000_0000, 0b0010_0000]), 20);
    const sold = Array.from({ length: 20 }, (_, k) => k).filter((k) => isSold(bits, k));
    expect(sold).toEqual([0, 7, 8, 18]);
  });

  it('ignores bytes beyond the capacity and pads a short bitmap with free seats', () => {
    expect(decodeBitmap(toBase64([0xff, 0xff, 0xff]), 9)).toEqual(new Uint8Array([0xff, 0xff]));
    expect(decodeBitmap(toBase64([]), 12)).toEqual(new Uint8Array([0, 0]));
  });

  it('lists exactly the seats whose state changed, in both directions', () => {
    const before = new Uint8Array(1250);
    const after = before.slice();
    for (const k of [0, 9, 4321, 9999]) setSold(after, k, true);
    setSold(before, 500, true); // released again (a void or a reset)
    expect(changedSeats(before, after, 10_000)).toEqual([0, 9, 500, 4321, 9999]);
    expect(changedSeats(after, after, 10_000)).toEqual([]);
  });

  it('maps seat indexes to rows and columns for uneven rows', () => {
    const layout = new SeatLayout(['A', 'B', 'C'], [8, 10, 12]);
    expect(layout.capacity).toBe(30);
    expect(layout.seatAt(0)).toEqual({ rowIdx: 0, row: 'A', column: 1 });
    expect(layout.seatAt(8)).toEqual({ rowIdx: 1, row: 'B', column: 1 });
    expect(layout.seatAt(29)).toEqual({ rowIdx: 2, row: 'C', column: 12 });
    expect(layout.indexOf('B', 10)).toBe(17);
    expect(layout.indexOf('B', 11)).toBeUndefined();
    expect(layout.indexOf('Z', 1)).toBeUndefined();
    for (let k = 0; k < 30; k++) {
      const { row, column } = layout.seatAt(k);
      expect(layout.indexOf(row, column)).toBe(k);
    }
  });
});
