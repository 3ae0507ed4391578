import { ZoneLayout } from '../inventory/layout';
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

  constructor(
    private readonly store: CatalogStore,
    private readonly ttlMs = 1000,
  ) {}

  get(eventId: string): Promise<CachedEvent | undefined> {
    const hit = this.cache.get(eventId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.store.getEvent(eventId).then((entry) => (entry ? index(entry) : undefined));
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
