/**
 * The seat-map bitmap (`bitmap-msb-base64`): seat k, counted row-major from 0, is sold when
 * bit (7 - k % 8) of byte floor(k / 8) is 1. Pure functions, no DOM.
 */

export function decodeBitmap(base64: string, capacity: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(capacity / 8));
  const raw = atob(base64);
  const n = Math.min(raw.length, bytes.length);
  for (let i = 0; i < n; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export function isSold(bits: Uint8Array, k: number): boolean {
  return (((bits[k >> 3] ?? 0) >> (7 - (k & 7))) & 1) === 1;
}

export function setSold(bits: Uint8Array, k: number, sold: boolean): void {
  const mask = 1 << (7 - (k & 7));
  const i = k >> 3;
  bits[i] = sold ? (bits[i] ?? 0) | mask : (bits[i] ?? 0) & ~mask;
}

/** Seats whose sold bit differs between two bitmaps, by comparing whole bytes first. */
export function changedSeats(prev: Uint8Array, next: Uint8Array, capacity: number): number[] {
  const changed: number[] = [];
  const bytes = Math.ceil(capacity / 8);
  for (let i = 0; i < bytes; i++) {
    const diff = (prev[i] ?? 0) ^ (next[i] ?? 0);
    if (diff === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      const k = i * 8 + bit;
      if (k < capacity && (diff >> (7 - bit)) & 1) changed.push(k);
    }
  }
  return changed;
}

/** Row-major offsets: where each row starts, and which row/column a seat index is. */
export class SeatLayout {
  readonly rowStart: number[] = [];
  readonly capacity: number;

  constructor(
    readonly rows: string[],
    readonly seatCounts: number[],
  ) {
    let at = 0;
    for (const n of seatCounts) {
      this.rowStart.push(at);
      at += n;
    }
    this.capacity = at;
  }

  /** Whether another layout is the same shape (a changed layout needs a fresh grid). */
  sameAs(rows: string[], seatCounts: number[]): boolean {
    return rows.join('\u0000') === this.rows.join('\u0000') && seatCounts.join(',') === this.seatCounts.join(',');
  }

  indexOf(row: string, column: number): number | undefined {
    const r = this.rows.indexOf(row);
    if (r < 0 || column < 1 || column > (this.seatCounts[r] ?? 0)) return undefined;
    return (this.rowStart[r] ?? 0) + column - 1;
  }

  seatAt(k: number): { rowIdx: number; row: string; column: number } {
    let lo = 0;
    let hi = this.rowStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.rowStart[mid] ?? 0) <= k) lo = mid;
      else hi = mid - 1;
    }
    return { rowIdx: lo, row: this.rows[lo] ?? '', column: k - (this.rowStart[lo] ?? 0) + 1 };
  }
}
