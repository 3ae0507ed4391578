import { createHash } from 'node:crypto';
import type { ZoneDef } from './model';

/**
 * A zone's seat layout: rows of seats mapped row-major onto bit offsets of the zone bitmap.
 * The hash is passed to every script so a stale layout in a process is detected, never used.
 */
export class ZoneLayout {
  readonly capacity: number;
  readonly hash: string;
  private readonly rowIndex = new Map<string, number>();
  private readonly rowStart: number[] = [];

  constructor(
    readonly rows: readonly string[],
    readonly seatCounts: readonly number[],
  ) {
    let offset = 0;
    rows.forEach((label, i) => {
      this.rowIndex.set(label, i);
      this.rowStart.push(offset);
      offset += seatCounts[i] ?? 0;
    });
    this.capacity = offset;
    this.hash = createHash('sha1')
      .update(JSON.stringify([rows, seatCounts]))
      .digest('hex')
      .slice(0, 16);
  }

  static of(zone: Pick<ZoneDef, 'rows' | 'seatCounts'>): ZoneLayout {
    return new ZoneLayout(zone.rows, zone.seatCounts);
  }

  /** Bit offset and row index of a seat, or undefined when the seat is not in the layout. */
  locate(row: string, column: number): { offset: number; rowIdx: number } | undefined {
    const rowIdx = this.rowIndex.get(row);
    if (rowIdx === undefined) return undefined;
    if (!Number.isInteger(column) || column < 1 || column > (this.seatCounts[rowIdx] ?? 0)) return undefined;
    return { offset: (this.rowStart[rowIdx] ?? 0) + column - 1, rowIdx };
  }

  /** The seat at a bit offset (inverse of locate). */
  seatAt(offset: number): { row: string; column: number } {
    let lo = 0;
    let hi = this.rowStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.rowStart[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: this.rows[lo] ?? '', column: offset - (this.rowStart[lo] ?? 0) + 1 };
  }
}
