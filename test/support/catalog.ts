import type { CatalogEntry, ZoneDef } from '../../src/catalog/model';
import { CatalogStore } from '../../src/catalog/store';
import { Inventory } from '../../src/inventory/inventory';
import type { ScriptedRedis } from '../../src/commands/scripts';

export interface TestEventOptions {
  eventId: string;
  zones?: Partial<ZoneDef>[];
  perUserLimit?: number;
  state?: CatalogEntry['event']['state'];
  salesOpensAt?: string;
  salesClosesAt?: string;
}

/** A catalog entry for a test event; zones default to one 26×30 zone with id "1". */
export function testEntry(o: TestEventOptions): CatalogEntry {
  const zones: ZoneDef[] = (o.zones ?? [{}]).map((z, i) => {
    const rows = z.rows ?? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
    return {
      zoneId: z.zoneId ?? String(i + 1),
      name: z.name ?? `Zone ${i + 1}`,
      rows,
      seatCounts: z.seatCounts ?? rows.map(() => 30),
      priceCents: z.priceCents ?? 5000,
    };
  });
  return {
    event: {
      eventId: o.eventId,
      resourceName: o.eventId.toLowerCase(),
      venueId: `V${o.eventId}`,
      name: `Test ${o.eventId}`,
      startsAt: '2030-01-01T00:00:00Z',
      state: o.state ?? 'OnSale',
      perUserLimit: o.perUserLimit ?? 10,
      currency: 'USD',
      ...(o.salesOpensAt ? { salesOpensAt: o.salesOpensAt } : {}),
      ...(o.salesClosesAt ? { salesClosesAt: o.salesClosesAt } : {}),
    },
    venue: { venueId: `V${o.eventId}`, resourceName: `v${o.eventId.toLowerCase()}`, name: `Venue of ${o.eventId}`, zones },
    source: 'test',
  };
}

/** Seeds a test event into the catalog and creates its zone inventories; returns a cleanup. */
export async function seedTestEvent(redis: ScriptedRedis, prefix: string, entry: CatalogEntry): Promise<() => Promise<void>> {
  const catalog = new CatalogStore(redis, prefix);
  const inventory = new Inventory(redis, prefix);
  await catalog.putEvent(entry);
  for (const zone of entry.venue.zones) await inventory.initZone(entry.event.eventId, zone);
  return async () => {
    for (const zone of entry.venue.zones) await inventory.deleteZone(entry.event.eventId, zone.zoneId);
    await catalog.deleteEvent(entry.event.eventId);
    await catalog.deleteVenue(entry.venue.venueId);
  };
}
