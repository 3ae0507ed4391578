import type { SqlClient } from '../shared/sql';
import type { CatalogEntry, EventDef, ZoneDef } from '../catalog/model';

/**
 * Mirrors one reconciled catalog entry (event, its venue, its zones) into MySQL. Idempotent:
 * upserts by primary key, in one transaction so a reader never sees half an entry. Zones
 * the entry no longer has are removed. Needs the read-model migrations (see migrate()).
 */
export async function upsertCatalogEntry(sql: SqlClient, entry: CatalogEntry): Promise<void> {
  const { event: e, venue: v } = entry;
  await sql.transaction(async (tx) => {
    const run = (statement: string, params: unknown[]) => tx.run(statement, params);
    await run(
      `INSERT INTO venues (venue_id, resource_name, name) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE resource_name = VALUES(resource_name), name = VALUES(name)`,
      [v.venueId, v.resourceName, v.name],
    );
    await run(
      `INSERT INTO events (event_id, venue_id, resource_name, name, starts_at, sales_opens_at, sales_closes_at, state, per_user_limit, currency, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE venue_id = VALUES(venue_id), resource_name = VALUES(resource_name), name = VALUES(name),
         starts_at = VALUES(starts_at), sales_opens_at = VALUES(sales_opens_at), sales_closes_at = VALUES(sales_closes_at),
         state = VALUES(state), per_user_limit = VALUES(per_user_limit), currency = VALUES(currency), source = VALUES(source)`,
      [
        e.eventId,
        v.venueId,
        e.resourceName,
        e.name,
        e.startsAt,
        e.salesOpensAt ?? null,
        e.salesClosesAt ?? null,
        e.state,
        e.perUserLimit,
        e.currency,
        entry.source ?? null,
      ],
    );
    if (v.zones.length > 0) {
      const rows = v.zones.map((z, i) => [
        e.eventId,
        z.zoneId,
        v.venueId,
        i,
        z.name,
        z.category ?? null,
        z.priceCents,
        z.seatCounts.reduce((a, b) => a + b, 0),
        JSON.stringify(z.rows),
        JSON.stringify(z.seatCounts),
      ]);
      await run(
        `INSERT INTO zones (event_id, zone_id, venue_id, position, name, category, price_cents, capacity, row_labels, seat_counts)
         VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON DUPLICATE KEY UPDATE venue_id = VALUES(venue_id), position = VALUES(position), name = VALUES(name), category = VALUES(category),
           price_cents = VALUES(price_cents), capacity = VALUES(capacity), row_labels = VALUES(row_labels), seat_counts = VALUES(seat_counts)`,
        rows.flat(),
      );
    }
    await run(`DELETE FROM zones WHERE event_id = ?${v.zones.length ? ` AND zone_id NOT IN (${v.zones.map(() => '?').join(', ')})` : ''}`, [
      e.eventId,
      ...v.zones.map((z) => z.zoneId),
    ]);
  });
}

interface EventRow {
  event_id: string;
  venue_id: string;
  resource_name: string;
  name: string;
  starts_at: string;
  sales_opens_at: string | null;
  sales_closes_at: string | null;
  state: EventDef['state'];
  per_user_limit: number;
  currency: string;
  source: string | null;
  venue_resource_name: string;
  venue_name: string;
}

/** Forgets an event the catalog no longer has and that never sold (its tickets, even cancelled ones, keep it otherwise). */
export async function removeCatalogEntry(sql: SqlClient, eventId: string): Promise<void> {
  await sql.transaction(async (tx) => {
    const [sold] = await tx.select<{ n: number }>(
      'SELECT (SELECT COUNT(*) FROM tickets WHERE event_id = ?) + (SELECT COUNT(*) FROM cancelled_tickets WHERE event_id = ?) AS n',
      [eventId, eventId],
    );
    if (Number(sold?.n ?? 0) > 0) return;
    await tx.run('DELETE FROM zones WHERE event_id = ?', [eventId]);
    await tx.run('DELETE FROM events WHERE event_id = ?', [eventId]);
  });
}

interface ZoneRow {
  zone_id: string;
  name: string;
  category: string | null;
  price_cents: number | string;
  row_labels: string;
  seat_counts: string;
}

/** The catalog entry as last mirrored, e.g. to rebuild Redis when it lost the catalog too. */
export async function loadCatalogEntry(sql: SqlClient, eventId: string): Promise<CatalogEntry | undefined> {
  const [ev] = await sql.select<EventRow>(
    `SELECT e.*, v.resource_name AS venue_resource_name, v.name AS venue_name
     FROM events e JOIN venues v ON v.venue_id = e.venue_id WHERE e.event_id = ?`,
    [eventId],
  );
  if (!ev) return undefined;
  const zones = await sql.select<ZoneRow>('SELECT * FROM zones WHERE event_id = ? ORDER BY position', [eventId]);
  const event: EventDef = {
    eventId: ev.event_id,
    resourceName: ev.resource_name,
    venueId: ev.venue_id,
    name: ev.name,
    startsAt: ev.starts_at,
    ...(ev.sales_opens_at ? { salesOpensAt: ev.sales_opens_at } : {}),
    ...(ev.sales_closes_at ? { salesClosesAt: ev.sales_closes_at } : {}),
    state: ev.state,
    perUserLimit: Number(ev.per_user_limit),
    currency: ev.currency,
  };
  return {
    event,
    venue: {
      venueId: ev.venue_id,
      resourceName: ev.venue_resource_name,
      name: ev.venue_name,
      zones: zones.map((z): ZoneDef => ({
        zoneId: z.zone_id,
        name: z.name,
        rows: JSON.parse(z.row_labels) as string[],
        seatCounts: JSON.parse(z.seat_counts) as number[],
        priceCents: Number(z.price_cents),
        ...(z.category ? { category: z.category } : {}),
      })),
    },
    ...(ev.source ? { source: ev.source } : {}),
  };
}
