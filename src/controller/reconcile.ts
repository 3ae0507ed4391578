import type { CatalogEntry, ClosedZone, ZoneDef } from '../catalog/model';
import { toEventDef, toVenueDef, type EventResource, type VenueResource } from '../catalog/resources';
import type { CatalogStore } from '../catalog/store';
import type { Inventory, SeatPosition } from '../inventory/inventory';
import { InitZoneCode } from '../commands/scripts';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';

export interface DesiredState {
  venues: VenueResource[];
  events: EventResource[];
  /**
   * Catalog entries of the source to keep although their Event is not in `events`: its
   * resource exists but cannot be read now (a bad edit must not delete an event).
   */
  keep?: (entry: CatalogEntry) => boolean;
}

export interface Condition {
  type: 'Seeded' | 'OnSale' | 'SoldOut' | 'Degraded';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface EventReport {
  eventId: string;
  resourceName: string;
  namespace?: string;
  generation?: number;
  conditions: Condition[];
  seatsSold: number;
  seatsAvailable: number;
}

export interface ReconcileDeps {
  catalog: CatalogStore;
  inventory: Inventory;
  log: Logger;
  /**
   * Sold seats of a zone in the write model (DynamoDB); a lost zone is rebuilt from them.
   * `seededBefore`: the zone existed before, so its absence is a loss, not a first seeding.
   */
  soldSeatsInWriteModel?: (eventId: string, zone: ZoneDef, seededBefore: boolean) => Promise<SeatPosition[] | 'not-caught-up'>;
  /** Mirrors catalog entries into the MySQL read model. */
  onCatalogEntry?: (entry: CatalogEntry) => Promise<void>;
  /** An event left the source: the MySQL catalog forgets it too when it never sold. */
  onEventRemoved?: (entry: CatalogEntry, sold: number) => Promise<void>;
  /** Test hook: runs when an event's removal has checked its sales, right before anything is deleted. */
  beforeDelete?: (eventId: string) => Promise<void>;
  now?: () => number;
}

/**
 * The one reconcile function. Whatever feeds it (seed files or the Kubernetes API), it makes
 * the catalog and the Redis inventory match the desired Venues and Events, and reports each
 * event's conditions. It never resets a sold seat: a zone that exists is left alone, a layout
 * change of a zone with sales is refused, and a lost zone is rebuilt from the write model.
 */
export async function reconcile(desired: DesiredState, source: string, deps: ReconcileDeps): Promise<EventReport[]> {
  const venues = new Map(desired.venues.map((v) => [`${v.metadata.namespace ?? ''}/${v.metadata.name}`, v]));
  const reports: EventReport[] = [];
  const wanted = new Set<string>();
  for (const ev of desired.events) {
    if (ev.metadata.deletionTimestamp) continue;
    wanted.add(ev.spec.eventId);
    const venue = venues.get(`${ev.metadata.namespace ?? ''}/${ev.spec.venueRef.name}`);
    reports.push(await reconcileEvent(ev, venue, source, deps));
  }
  for (const existing of await deps.catalog.listEvents()) {
    if (existing.source === source && !wanted.has(existing.event.eventId) && !desired.keep?.(existing)) await removeEvent(existing, deps);
  }
  return reports;
}

async function reconcileEvent(
  ev: EventResource,
  venueRes: VenueResource | undefined,
  source: string,
  deps: ReconcileDeps,
): Promise<EventReport> {
  const base = {
    eventId: ev.spec.eventId,
    resourceName: ev.metadata.name,
    namespace: ev.metadata.namespace,
    generation: ev.metadata.generation,
  };
  if (!venueRes) {
    return {
      ...base,
      seatsSold: 0,
      seatsAvailable: 0,
      conditions: [
        cond('Seeded', false, 'VenueNotFound', `Venue ${ev.spec.venueRef.name} does not exist; apply it first`),
        cond('Degraded', true, 'VenueNotFound', `Venue ${ev.spec.venueRef.name} does not exist`),
      ],
    };
  }
  const venue = toVenueDef(venueRes);
  const event = toEventDef(ev, venue.venueId);
  const previous = await deps.catalog.getEvent(event.eventId);
  const closed = new Map((await deps.catalog.closedZonesOf(event.eventId)).map((c) => [c.zone.zoneId, c]));
  // The layout a zone's inventory has: from the catalog entry, or from the zone's closing when it was removed.
  const inForce = (zoneId: string) => previous?.venue.zones.find((z) => z.zoneId === zoneId) ?? closed.get(zoneId)?.zone;
  const refused: string[] = [];
  const unknownLayout: string[] = [];
  const rebuilding: string[] = [];
  const zones: ZoneDef[] = [];
  for (const zone of venue.zones) {
    const outcome = await ensureZone(event.eventId, zone, deps, inForce(zone.zoneId) !== undefined);
    if (outcome === 'refused') {
      refused.push(zone.zoneId);
      // Keep selling on the layout the inventory has, not on the refused one.
      const old = inForce(zone.zoneId);
      if (old) zones.push(old);
      else unknownLayout.push(zone.zoneId);
    } else {
      if (outcome === 'rebuilding') rebuilding.push(zone.zoneId);
      zones.push(zone);
    }
  }
  // Zones that left the venue are fenced before the catalog forgets them: from here on
  // reserve.lua refuses them, even for an api whose catalog cache still shows them.
  const now = deps.now?.() ?? Date.now();
  const removed = (previous?.venue.zones ?? []).filter((z) => !zones.some((k) => k.zoneId === z.zoneId));
  for (const z of removed) await deps.inventory.closeZone(event.eventId, z.zoneId);
  const entry: CatalogEntry = { event, venue: { ...venue, zones }, source };
  await deps.catalog.putEvent(entry, {
    close: removed.map((zone): ClosedZone => ({ eventId: event.eventId, zone, closedAt: new Date(now).toISOString() })),
    reopen: zones.filter((z) => closed.has(z.zoneId)).map((z) => z.zoneId),
  });
  await deps.onCatalogEntry?.(entry);
  await settleClosedZones(event.eventId, deps);

  let sold = 0;
  let available = 0;
  for (const zone of zones) {
    const st = await deps.inventory.zoneState(event.eventId, zone.zoneId);
    if (st) {
      sold += st.capacity - st.available;
      available += st.available;
    }
  }
  metrics.eventCapacity.set({ event_id: event.eventId }, sold + available);
  metrics.eventSold.set({ event_id: event.eventId }, sold);

  const inWindow =
    (!event.salesOpensAt || now >= Date.parse(event.salesOpensAt)) && (!event.salesClosesAt || now < Date.parse(event.salesClosesAt));
  const degraded = refused.length > 0 || rebuilding.length > 0;
  const conditions = [
    cond(
      'Seeded',
      rebuilding.length === 0,
      rebuilding.length ? 'Rebuilding' : 'InventoryReady',
      rebuilding.length
        ? `zones ${rebuilding.join(', ')} wait for the writer to catch up before they are rebuilt`
        : `${zones.length} zones seeded`,
    ),
    cond(
      'OnSale',
      event.state === 'OnSale' && inWindow,
      event.state !== 'OnSale' ? event.state : inWindow ? 'OnSale' : 'OutsideSalesWindow',
      `state ${event.state}`,
    ),
    cond(
      'SoldOut',
      available === 0 && sold > 0,
      available === 0 && sold > 0 ? 'SoldOut' : 'SeatsAvailable',
      `${sold} sold, ${available} available`,
    ),
    cond(
      'Degraded',
      degraded,
      refused.length ? 'LayoutChangeRefused' : degraded ? 'Rebuilding' : 'Healthy',
      refused.length ? refusalMessage(refused, unknownLayout) : degraded ? 'rebuilding inventory' : 'all zones match the spec',
    ),
  ];
  if (refused.length) deps.log.warn({ eventId: event.eventId, zones: refused }, 'layout change refused: the zones have sales');
  return { ...base, conditions, seatsSold: sold, seatsAvailable: available };
}

/** Creates a zone's inventory when absent, rebuilding it from the write model when that holds sales. */
async function ensureZone(
  eventId: string,
  zone: ZoneDef,
  deps: ReconcileDeps,
  seededBefore: boolean,
): Promise<'ok' | 'refused' | 'rebuilding'> {
  if (!(await deps.inventory.zoneExists(eventId, zone.zoneId)) && deps.soldSeatsInWriteModel) {
    const sold = await deps.soldSeatsInWriteModel(eventId, zone, seededBefore);
    if (sold === 'not-caught-up') return 'rebuilding';
    if (sold.length > 0) {
      const r = await deps.inventory.restoreZone(eventId, zone, sold);
      deps.log.warn({ eventId, zoneId: zone.zoneId, sold: r.sold }, 'zone inventory was missing; rebuilt from the write model');
      return 'ok';
    }
  }
  const { code } = await deps.inventory.initZone(eventId, zone);
  return code === InitZoneCode.LAYOUT_CHANGE_REFUSED ? 'refused' : 'ok';
}

function refusalMessage(refused: string[], unknownLayout: string[]): string {
  const known = refused.filter((z) => !unknownLayout.includes(z));
  return [
    known.length ? `zones ${known.join(', ')} have sales, so their layout cannot change; the old layout stays in force` : '',
    unknownLayout.length
      ? `zones ${unknownLayout.join(', ')} have sales under a layout the catalog no longer knows; they are not sold until the spec gives their old layout again`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * An event gone from the source. Fenced first: every zone is closed in Redis, so reserve.lua
 * refuses any sale from then on, even from an api whose catalog cache still shows the event on
 * sale. Then it waits (the entry stays in the catalog, Closed) until no purchase is pending;
 * only then are its sales final, and only then is anything deleted: the catalog entry, and the
 * inventory of the zones that never sold. Zones with sales keep their inventory and records.
 */
async function removeEvent(entry: CatalogEntry, deps: ReconcileDeps): Promise<void> {
  const eventId = entry.event.eventId;
  for (const zone of entry.venue.zones) await deps.inventory.closeZone(eventId, zone.zoneId);
  let pending = 0;
  for (const zone of entry.venue.zones) pending += await deps.inventory.pendingCount(eventId, zone.zoneId);
  if (pending > 0) {
    // The recovery sweep walks the catalog: keep the entry, closed to buyers, until every
    // pending purchase is settled; a later reconcile removes it.
    if (entry.event.state !== 'Closed') await deps.catalog.putEvent({ ...entry, event: { ...entry.event, state: 'Closed' } });
    deps.log.warn({ eventId, pending }, 'event removed from the source; kept closed until its pending purchases are settled');
    return;
  }
  const soldIn = new Map<string, number>();
  for (const zone of entry.venue.zones) {
    const st = await deps.inventory.zoneState(eventId, zone.zoneId);
    soldIn.set(zone.zoneId, st ? st.capacity - st.available : 0);
  }
  const sold = [...soldIn.values()].reduce((a, b) => a + b, 0);
  await deps.beforeDelete?.(eventId);
  // Zones with sales stay known as closed zones (their layout, for the audit and a later re-add).
  const closedAt = new Date(deps.now?.() ?? Date.now()).toISOString();
  await deps.catalog.deleteEvent(
    eventId,
    entry.venue.zones.filter((z) => soldIn.get(z.zoneId)! > 0).map((zone) => ({ eventId, zone, closedAt })),
  );
  for (const zone of entry.venue.zones) if (soldIn.get(zone.zoneId) === 0) await deps.inventory.deleteZone(eventId, zone.zoneId);
  await settleClosedZones(eventId, deps);
  if (sold === 0) deps.log.info({ eventId }, 'event removed; it never sold, so its inventory was deleted');
  else
    deps.log.warn(
      { eventId, sold },
      'event removed from the catalog; it has sales, so the inventory of its sold zones and their records are kept',
    );
  await deps.onEventRemoved?.(entry, sold);
  metrics.eventCapacity.remove({ event_id: eventId });
  metrics.eventSold.remove({ event_id: eventId });
}

/**
 * Closed zones of an event (removed from the catalog, fenced) that hold nothing any more: no
 * pending purchase and no seat sold. Their inventory is deleted and they are forgotten; the
 * others stay known to the sweep and the audit until the audit finds them settled.
 */
async function settleClosedZones(eventId: string, deps: ReconcileDeps): Promise<void> {
  for (const { zone } of await deps.catalog.closedZonesOf(eventId)) {
    if ((await deps.inventory.pendingCount(eventId, zone.zoneId)) > 0) continue;
    const st = await deps.inventory.zoneState(eventId, zone.zoneId);
    if (st && st.capacity - st.available > 0) continue;
    await deps.inventory.deleteZone(eventId, zone.zoneId);
    await deps.catalog.forgetClosedZone(eventId, zone.zoneId);
    deps.log.info({ eventId, zoneId: zone.zoneId }, 'removed zone never sold; its inventory was deleted');
  }
}

function cond(type: Condition['type'], ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}
