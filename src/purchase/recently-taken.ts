interface ZoneEntry {
  base: number;
  until: Int32Array;
  soldOutUntil: number;
  /** When the last fact about this zone expires (absolute ms): after that it holds nothing. */
  expiresAt: number;
}

/**
 * What this process saw taken a moment ago, so a storm of buyers for seats already sold is
 * refused without a Redis round trip (the hot-seat and replay-duplicate cases).
 *
 * Entries are facts about the recent past and expire after `ttlMs`. A seat is freed again by a
 * cancellation (or an admin reset); a cancellation makes every instance forget its seats
 * (`forgetEverywhere`, in this process, and through released-seats.ts in the other api
 * processes), so the seats are on sale when the buyer hears the cancel's 200; otherwise such a
 * seat could be answered "taken" for at most `ttlMs`. Nothing is ever sold on the strength of
 * this cache: a seat it does not know goes to reserve.lua, which alone decides.
 *
 * Bounded: one entry costs 4 bytes per seat of the zone, so at most `maxZones` zones are kept,
 * the one seen least recently (by a sale or a refusal from Redis) dropped first, and zones whose
 * facts have all expired are dropped whenever a new zone comes in.
 */
export class RecentlyTaken {
  /** 64 zones of 100,000 seats (the largest a zone may be) are 25 MB at most. */
  static readonly DEFAULT_MAX_ZONES = 64;
  /** Every instance of this process, so that a release reaches each one (held weakly). */
  private static readonly instances = new Set<WeakRef<RecentlyTaken>>();

  /** Makes every instance of this process forget these seats (and the zone's sold-out mark): they were freed. */
  static forgetEverywhere(zoneKey: string, offsets: number[]): void {
    for (const ref of RecentlyTaken.instances) {
      const instance = ref.deref();
      if (instance) instance.forget(zoneKey, offsets);
      else RecentlyTaken.instances.delete(ref);
    }
  }
  // A Map iterates in insertion order: re-inserting a zone on every mark keeps it in LRU order.
  private readonly zones = new Map<string, ZoneEntry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxZones = RecentlyTaken.DEFAULT_MAX_ZONES,
  ) {
    RecentlyTaken.instances.add(new WeakRef(this));
  }

  /** Zones held now. */
  get size(): number {
    return this.zones.size;
  }

  /** Indexes (into `offsets`) of seats seen taken within the TTL. */
  taken(zoneKey: string, offsets: number[], now = Date.now()): number[] {
    const z = this.zones.get(zoneKey);
    if (!z || z.expiresAt <= now) return [];
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

  /** The seats were freed (a cancellation): they and the zone are no longer known taken. */
  forget(zoneKey: string, offsets: number[]): void {
    const z = this.zones.get(zoneKey);
    if (!z) return;
    z.soldOutUntil = 0;
    for (const o of offsets) if (o < z.until.length) z.until[o] = 0;
  }

  markSoldOut(zoneKey: string, capacity: number, now = Date.now()): void {
    this.zone(zoneKey, capacity, now).soldOutUntil = now + this.ttlMs;
  }

  /** The zone's entry, made the most recently seen one (and created when new). */
  private zone(zoneKey: string, capacity: number, now: number): ZoneEntry {
    let z = this.zones.get(zoneKey);
    if (z) this.zones.delete(zoneKey);
    // Times are kept relative to a base so they fit 32 bits; a process running ~24 days rebases.
    if (!z || z.until.length !== capacity || now - z.base > 2 ** 31 - 1 - this.ttlMs) {
      z = { base: now, until: new Int32Array(capacity), soldOutUntil: 0, expiresAt: 0 };
      this.evict(now);
    }
    z.expiresAt = now + this.ttlMs;
    this.zones.set(zoneKey, z);
    return z;
  }

  /** Before a zone is added: drops expired zones, then the least recently seen beyond the bound. */
  private evict(now: number): void {
    for (const [key, z] of this.zones) if (z.expiresAt <= now) this.zones.delete(key);
    for (const key of this.zones.keys()) {
      if (this.zones.size < this.maxZones) break;
      this.zones.delete(key);
    }
  }
}

/** The key a zone's seats are known under (the purchase engine's `zoneKeyOf` is the same). */
export const recentZoneKey = (eventId: string, zoneId: string) => `${eventId}\u0000${zoneId}`;
