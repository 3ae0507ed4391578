/**
 * What this process saw taken a moment ago, so a storm of buyers for seats already sold is
 * refused without a Redis round trip (the hot-seat and replay-duplicate cases).
 *
 * Entries are facts about the recent past and expire after `ttlMs`: a seat is only ever freed
 * again by a void (Kafka unreachable) or an admin reset, so for at most `ttlMs` such a seat can
 * still be answered "taken". Nothing is ever sold on the strength of this cache: a seat it does
 * not know goes to reserve.lua, which alone decides.
 */
export class RecentlyTaken {
  private readonly zones = new Map<string, { base: number; until: Int32Array; soldOutUntil: number }>();

  constructor(private readonly ttlMs: number) {}

  /** Indexes (into `offsets`) of seats seen taken within the TTL. */
  taken(zoneKey: string, offsets: number[], now = Date.now()): number[] {
    const z = this.zones.get(zoneKey);
    if (!z) return [];
    const t = now - z.base;
    const hits: number[] = [];
    offsets.forEach((o, i) => {
      if ((z.until[o] ?? 0) > t) hits.push(i);
    });
    return hits;
  }

  soldOut(zoneKey: string, now = Date.now()): boolean {
    return (this.zones.get(zoneKey)?.soldOutUntil ?? 0) > now;
  }

  markTaken(zoneKey: string, capacity: number, offsets: number[], now = Date.now()): void {
    const z = this.zone(zoneKey, capacity, now);
    const until = now - z.base + this.ttlMs;
    for (const o of offsets) if (o < z.until.length) z.until[o] = until;
  }

  markSoldOut(zoneKey: string, capacity: number, now = Date.now()): void {
    this.zone(zoneKey, capacity, now).soldOutUntil = now + this.ttlMs;
  }

  private zone(zoneKey: string, capacity: number, now: number) {
    let z = this.zones.get(zoneKey);
    // Times are kept relative to a base so they fit 32 bits; a process running ~24 days rebases.
    if (!z || z.until.length !== capacity || now - z.base > 2 ** 31 - 1 - this.ttlMs) {
      z = { base: now, until: new Int32Array(capacity), soldOutUntil: 0 };
      this.zones.set(zoneKey, z);
    }
    return z;
  }
}
