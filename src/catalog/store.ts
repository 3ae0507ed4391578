import { isDeepStrictEqual } from 'node:util';
import type { RedisClient } from '../shared/redis';
import { SettleClosedZoneCode, withScripts, type ScriptedRedis } from '../commands/scripts';
import { catalogKeys } from './keys';
import type { CatalogEntry, ClosedZone, EventStatus, VenueDef } from './model';

const zoneField = (eventId: string, zoneId: string) => `${eventId}/${zoneId}`;

/**
 * The catalog snapshot the purchase path reads: one JSON entry per event (with its venue)
 * in Redis, written by the controller's reconcile. MySQL holds the same catalog for queries.
 * Next to it: the zones that left the catalog but keep inventory (closed zones), and what the
 * controller reported per event. All share one hash tag, so changes to them go in one MULTI.
 */
export class CatalogStore {
  private readonly keys;
  private readonly redis: ScriptedRedis;
  constructor(redis: RedisClient, prefix: string) {
    this.redis = withScripts(redis);
    this.keys = catalogKeys(prefix);
  }

  /**
   * Writes an entry; in the same MULTI, `close` remembers zones that left it (fenced by the
   * caller first) and `reopen` forgets closed zones that are back in it.
   */
  async putEvent(entry: CatalogEntry, zones: { close?: ClosedZone[]; reopen?: string[] } = {}): Promise<void> {
    const m = this.redis
      .multi()
      .hset(this.keys.events, entry.event.eventId, JSON.stringify(entry))
      .hset(this.keys.venues, entry.venue.venueId, JSON.stringify(entry.venue));
    for (const c of zones.close ?? []) m.hset(this.keys.closedZones, zoneField(c.eventId, c.zone.zoneId), JSON.stringify(c));
    for (const zoneId of zones.reopen ?? []) m.hdel(this.keys.closedZones, zoneField(entry.event.eventId, zoneId));
    await m.exec();
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

  /** Removes an entry (and its status); `close`: its zones that keep inventory, remembered in the same MULTI. */
  async deleteEvent(eventId: string, close: ClosedZone[] = []): Promise<void> {
    const m = this.redis.multi().hdel(this.keys.events, eventId).hdel(this.keys.status, eventId);
    for (const c of close) m.hset(this.keys.closedZones, zoneField(c.eventId, c.zone.zoneId), JSON.stringify(c));
    await m.exec();
  }

  async deleteVenue(venueId: string): Promise<void> {
    await this.redis.hdel(this.keys.venues, venueId);
  }

  async listClosedZones(): Promise<ClosedZone[]> {
    return (await this.redis.hvals(this.keys.closedZones)).map((raw) => JSON.parse(raw) as ClosedZone);
  }

  async closedZonesOf(eventId: string): Promise<ClosedZone[]> {
    const out: ClosedZone[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.closedZones, cursor, 'MATCH', `${eventId}/*`, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) out.push(JSON.parse(flat[i]!) as ClosedZone);
    } while (cursor !== '0');
    return out.filter((c) => c.eventId === eventId);
  }

  /**
   * The audit found the closed zone settled: nothing pending, compared once more. `zone` is the
   * closing the audit read; it is marked only while the catalog still holds that very closing.
   * If reconcile re-opened the zone meanwhile (and perhaps closed it again, with new pending
   * purchases), nothing is written and false returned: the next pass audits what is there now.
   */
  async settleClosedZone(zone: ClosedZone, at: Date): Promise<boolean> {
    const field = zoneField(zone.eventId, zone.zone.zoneId);
    const raw = await this.redis.hget(this.keys.closedZones, field);
    if (raw === null || !isDeepStrictEqual(JSON.parse(raw), zone)) return false;
    const settled: ClosedZone = { ...zone, settledAt: at.toISOString() };
    // Compared with what was just read and written in one script: a change in between wins.
    return (
      (await this.redis.tpSettleClosedZone(this.keys.closedZones, field, raw, JSON.stringify(settled))) === SettleClosedZoneCode.SETTLED
    );
  }

  async forgetClosedZone(eventId: string, zoneId: string): Promise<void> {
    await this.redis.hdel(this.keys.closedZones, zoneField(eventId, zoneId));
  }

  /**
   * Every zone whose pending purchases the recovery sweep must settle: the catalog's zones,
   * and the closed zones not yet settled (a removed zone must not strand its sales).
   */
  async zonesToSweep(): Promise<{ eventId: string; zoneId: string }[]> {
    const zones = (await this.listEvents()).flatMap(({ event, venue }) =>
      venue.zones.map((z) => ({ eventId: event.eventId, zoneId: z.zoneId })),
    );
    const seen = new Set(zones.map((z) => zoneField(z.eventId, z.zoneId)));
    for (const c of await this.listClosedZones()) {
      if (!c.settledAt && !seen.has(zoneField(c.eventId, c.zone.zoneId))) zones.push({ eventId: c.eventId, zoneId: c.zone.zoneId });
    }
    return zones;
  }

  async getStatus(eventId: string): Promise<EventStatus | undefined> {
    const raw = await this.redis.hget(this.keys.status, eventId);
    return raw ? (JSON.parse(raw) as EventStatus) : undefined;
  }

  async listStatuses(): Promise<Map<string, EventStatus>> {
    const all = await this.redis.hgetall(this.keys.status);
    return new Map(Object.entries(all).map(([id, raw]) => [id, JSON.parse(raw) as EventStatus]));
  }

  async putStatus(eventId: string, status: EventStatus): Promise<void> {
    await this.redis.hset(this.keys.status, eventId, JSON.stringify(status));
  }

  async deleteStatus(eventId: string): Promise<void> {
    await this.redis.hdel(this.keys.status, eventId);
  }
}
