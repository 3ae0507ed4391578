import { ZoneLayout } from './layout';
import type { CatalogEntry, ZoneDef } from './model';
import type { CatalogStore } from './store';

export interface CachedZone {
  zone: ZoneDef;
  layout: ZoneLayout;
}

export interface CachedEvent {
  entry: CatalogEntry;
  zones: Map<string, CachedZone>;
}

/**
 * In-process cache of catalog entries so the purchase path does not read the catalog on
 * every request. Entries live `ttlMs`; a layout mismatch reported by a script forces a reload.
 */
export class CatalogCache {
  private readonly cache = new Map<string, { at: number; value: Promise<CachedEvent | undefined> }>();
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly store: CatalogStore,
    private readonly ttlMs = 1000,
    private readonly forgetAfterMs = 60_000,
  ) {}

  /**
   * Whether the event was in the catalog recently. An event that vanishes from Redis (lost
   * state, being rebuilt by the controller) is answered with 503, not 404, for a while.
   */
  recentlyKnown(eventId: string): boolean {
    const at = this.lastSeen.get(eventId);
    return at !== undefined && Date.now() - at < this.forgetAfterMs;
  }

  get(eventId: string): Promise<CachedEvent | undefined> {
    const hit = this.cache.get(eventId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.store.getEvent(eventId).then((entry) => {
      if (!entry) {
        this.cache.delete(eventId);
        return undefined;
      }
      this.lastSeen.set(eventId, Date.now());
      return index(entry);
    });
    this.cache.set(eventId, { at: Date.now(), value });
    value.catch(() => this.cache.delete(eventId));
    return value;
  }

  invalidate(eventId: string): void {
    this.cache.delete(eventId);
  }
}

function index(entry: CatalogEntry): CachedEvent {
  const zones = new Map<string, CachedZone>();
  for (const zone of entry.venue.zones) zones.set(zone.zoneId, { zone, layout: ZoneLayout.of(zone) });
  return { entry, zones };
}
