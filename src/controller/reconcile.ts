import type { CatalogEntry, ZoneDef } from '../catalog/model';
import { toEventDef, toVenueDef, type EventResource, type VenueResource } from '../catalog/resources';
import type { CatalogStore } from '../catalog/store';
import type { Inventory, SeatPosition } from '../inventory/inventory';
import { InitZoneCode } from '../inventory/scripts';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';

export interface DesiredState {
  venues: VenueResource[];
  events: EventResource[];
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
  /** Sold seats of a zone in the write model (DynamoDB); a lost zone is rebuilt from them. */
  /**
   * Sold seats of a zone in the write model (DynamoDB); a lost zone is rebuilt from them.
   * `seededBefore`: the zone existed before, so its absence is a loss, not a first seeding.
   */
  soldSeatsInWriteModel?: (eventId: string, zone: ZoneDef, seededBefore: boolean) => Promise<SeatPosition[] | 'not-caught-up'>;
  /** Mirrors catalog entries into the MySQL read model. */
  onCatalogEntry?: (entry: CatalogEntry) => Promise<void>;
  /** An event left the source: the MySQL catalog forgets it too when it never sold. */
  onEventRemoved?: (entry: CatalogEntry, sold: number) => Promise<void>;
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
    if (existing.source === source && !wanted.has(existing.event.eventId)) await removeEvent(existing, deps);
  }
  return reports;
}

async function reconcileEvent(ev: EventResource, venueRes: VenueResource | undefined, source: string, deps: ReconcileDeps): Promise<EventReport> {
  const base = { eventId: ev.spec.eventId, resourceName: ev.metadata.name, namespace: ev.metadata.namespace, generation: ev.metadata.generation };
  if (!venueRes) {
    return {
      ...base, seatsSold: 0, seatsAvailable: 0,
      conditions: [cond('Seeded', false, 'VenueNotFound', `Venue ${ev.spec.venueRef.name} does not exist; apply it first`), cond('Degraded', true, 'VenueNotFound', `Venue ${ev.spec.venueRef.name} does not exist`)],
    };
  }
  const venue = toVenueDef(venueRes);
  const event = toEventDef(ev, venue.venueId);
  const previous = await deps.catalog.getEvent(event.eventId);
  const refused: string[] = [];
  const rebuilding: string[] = [];
  const zones: ZoneDef[] = [];
  for (const zone of venue.zones) {
    const outcome = await ensureZone(event.eventId, zone, deps, previous?.venue.zones.some((z) => z.zoneId === zone.zoneId) ?? false);
    if (outcome === 'refused') {
      refused.push(zone.zoneId);
      // Keep selling on the layout the inventory has, not on the refused one.
      zones.push(previous?.venue.zones.find((z) => z.zoneId === zone.zoneId) ?? zone);
    } else {
      if (outcome === 'rebuilding') rebuilding.push(zone.zoneId);
      zones.push(zone);
    }
  }
  const entry: CatalogEntry = { event, venue: { ...venue, zones }, source };
  await deps.catalog.putEvent(entry);
  await deps.onCatalogEntry?.(entry);

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

  const now = deps.now?.() ?? Date.now();
  const inWindow =
    (!event.salesOpensAt || now >= Date.parse(event.salesOpensAt)) && (!event.salesClosesAt || now < Date.parse(event.salesClosesAt));
  const degraded = refused.length > 0 || rebuilding.length > 0;
  const conditions = [
    cond('Seeded', rebuilding.length === 0, rebuilding.length ? 'Rebuilding' : 'InventoryReady', rebuilding.length ? `zones ${rebuilding.join(', ')} wait for the writer to catch up before they are rebuilt` : `${zones.length} zones seeded`),
    cond('OnSale', event.state === 'OnSale' && inWindow, event.state !== 'OnSale' ? event.state : inWindow ? 'OnSale' : 'OutsideSalesWindow', `state ${event.state}`),
    cond('SoldOut', available === 0 && sold > 0, available === 0 && sold > 0 ? 'SoldOut' : 'SeatsAvailable', `${sold} sold, ${available} available`),
    cond('Degraded', degraded, refused.length ? 'LayoutChangeRefused' : degraded ? 'Rebuilding' : 'Healthy',
      refused.length ? `zones ${refused.join(', ')} have sales, so their layout cannot change; the old layout stays in force` : degraded ? 'rebuilding inventory' : 'all zones match the spec'),
  ];
  if (refused.length) deps.log.warn({ eventId: event.eventId, zones: refused }, 'layout change refused: the zones have sales');
  return { ...base, conditions, seatsSold: sold, seatsAvailable: available };
}

/** Creates a zone's inventory when absent, rebuilding it from the write model when that holds sales. */
async function ensureZone(eventId: string, zone: ZoneDef, deps: ReconcileDeps, seededBefore: boolean): Promise<'ok' | 'refused' | 'rebuilding'> {
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

/** An event gone from the source: its inventory is removed only if it never sold. */
async function removeEvent(entry: CatalogEntry, deps: ReconcileDeps): Promise<void> {
  const eventId = entry.event.eventId;
  let sold = 0;
  let pending = 0;
  for (const zone of entry.venue.zones) {
    const st = await deps.inventory.zoneState(eventId, zone.zoneId);
    sold += st ? st.capacity - st.available : 0;
    pending += await deps.inventory.pendingCount(eventId, zone.zoneId);
  }
  if (pending > 0) {
    // The recovery sweep walks the catalog: keep the entry, closed to buyers, until every
    // pending purchase is settled; a later reconcile removes it.
    if (entry.event.state !== 'Closed') await deps.catalog.putEvent({ ...entry, event: { ...entry.event, state: 'Closed' } });
    deps.log.warn({ eventId, pending }, 'event removed from the source; kept closed until its pending purchases are settled');
    return;
  }
  await deps.catalog.deleteEvent(eventId);
  if (sold === 0) {
    for (const zone of entry.venue.zones) await deps.inventory.deleteZone(eventId, zone.zoneId);
    deps.log.info({ eventId }, 'event removed; it never sold, so its inventory was deleted');
  } else {
    deps.log.warn({ eventId, sold }, 'event removed from the catalog; it has sales, so its inventory and records are kept');
  }
  await deps.onEventRemoved?.(entry, sold);
  metrics.eventCapacity.remove({ event_id: eventId });
  metrics.eventSold.remove({ event_id: eventId });
}

function cond(type: Condition['type'], ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

