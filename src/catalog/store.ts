import type { Redis } from 'ioredis';
import { catalogKeys } from '../inventory/keys';
import type { CatalogEntry, VenueDef } from './model';

/**
 * The catalog snapshot the purchase path reads: one JSON entry per event (with its venue)
 * in Redis, written by the controller's reconcile. MySQL holds the same catalog for queries.
 */
export class CatalogStore {
  private readonly keys;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = catalogKeys(prefix);
  }

  async putEvent(entry: CatalogEntry): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.events, entry.event.eventId, JSON.stringify(entry))
      .hset(this.keys.venues, entry.venue.venueId, JSON.stringify(entry.venue))
      .exec();
  }

  async getEvent(eventId: string): Promise<CatalogEntry | undefined> {
    const raw = await this.redis.hget(this.keys.events, eventId);
    return raw ? (JSON.parse(raw) as CatalogEntry) : undefined;
  }

  async getVenue(venueId: string): Promise<VenueDef | undefined> {
    const raw = await this.redis.hget(this.keys.venues, venueId);
    return raw ? (JSON.parse(raw) as VenueDef) : undefined;
  }

  async listEvents(): Promise<CatalogEntry[]> {
    const all = await this.redis.hvals(this.keys.events);
    return all.map((raw) => JSON.parse(raw) as CatalogEntry).sort((a, b) => a.event.eventId.localeCompare(b.event.eventId));
  }

  async deleteEvent(eventId: string): Promise<void> {
    await this.redis.hdel(this.keys.events, eventId);
  }

  async deleteVenue(venueId: string): Promise<void> {
    await this.redis.hdel(this.keys.venues, venueId);
  }
}
