import type { CatalogEntry, ZoneDef } from '../../src/catalog/model';
import { CatalogStore } from '../../src/catalog/store';
import { deleteEventAllowances } from '../../src/inventory/allowance';
import { Inventory } from '../../src/inventory/inventory';
import type { ScriptedRedis } from '../../src/commands/scripts';
import type { BaselineSeats } from '../../src/purchase/sql-store';
import type { Target, VenueLayout } from '../scenarios';

export type Backend = 'redis' | 'sql';

export interface BenchEvent extends Target {
  entry: CatalogEntry;
  /** Removes everything the fixture created: catalog entry, zone inventories, baseline rows. */
  remove(): Promise<void>;
}

export function benchEntry(eventId: string, layout: VenueLayout): CatalogEntry {
  const venueId = `V${eventId}`;
  const zones: ZoneDef[] = layout.zones.map((z) => ({
    zoneId: z.zoneId,
    name: `Zone ${z.zoneId}`,
    rows: z.rows,
    seatCounts: z.rows.map(() => z.seatsPerRow),
    priceCents: 20000,
    category: 'standard',
  }));
  return {
    event: {
      eventId,
      resourceName: eventId.toLowerCase(),
      venueId,
      name: `Load lab ${eventId}`,
      startsAt: '2030-01-01T00:00:00Z',
      state: 'OnSale',
      perUserLimit: 10,
      currency: 'USD',
    },
    venue: { venueId, resourceName: venueId.toLowerCase(), name: `Load lab venue ${venueId}`, zones },
    source: 'load-lab',
  };
}

/**
 * Creates an event of its own for one scenario run (never the shared seed event): the catalog
 * entry and, for the Redis backend, the zone inventories; for the SQL baseline, the seat rows
 * (so filling them is not measured).
 */
export async function createBenchEvent(
  redis: ScriptedRedis,
  prefix: string,
  eventId: string,
  layout: VenueLayout,
  backend: Backend,
  baseline?: BaselineSeats,
): Promise<BenchEvent> {
  const entry = benchEntry(eventId, layout);
  const catalog = new CatalogStore(redis, prefix);
  const inventory = new Inventory(redis, prefix);
  if (await catalog.getEvent(eventId))
    throw new Error(`Event ${eventId} exists already: the load lab only buys seats of events it created; pick another id`);
  await catalog.putEvent(entry);
  const remove = async () => {
    for (const zone of entry.venue.zones) await inventory.deleteZone(eventId, zone.zoneId);
    await deleteEventAllowances(redis, prefix, eventId); // the named buyers' per-buyer limit entries
    if (baseline) await baseline.deleteEvent(eventId);
    await catalog.deleteEvent(eventId);
    await catalog.deleteVenue(entry.venue.venueId);
  };
  try {
    if (backend === 'redis') {
      for (const zone of entry.venue.zones) await inventory.initZone(eventId, zone);
    } else {
      if (!baseline) throw new Error('The SQL backend needs the baseline seat table (BaselineSeats)');
      await baseline.ensureTable();
      for (const zone of entry.venue.zones)
        await baseline.ensureZone(
          eventId,
          zone.zoneId,
          zone.seatCounts.reduce((a, b) => a + b, 0),
        );
    }
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return { eventId, venueId: entry.venue.venueId, entry, remove };
}
