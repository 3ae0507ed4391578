import { Router } from 'express';
import type { CatalogCache } from '../../catalog/cache';
import type { CatalogStore } from '../../catalog/store';
import type { Holds } from '../../inventory/holds';
import type { Inventory } from '../../inventory/inventory';
import { parseTicketId } from '../../purchase/ids';
import { PurchaseLookup, purchaseView, type PurchaseFinder } from '../../purchase/lookup';
import { ApiError } from '../../shared/errors';
import { eventIdSchema } from '../schemas';
import { seatsBody } from '../seats-body';
import { CATALOG_CACHE_CONTROL, SEATS_CACHE_CONTROL, sendCachedJson } from '../cached-json';
import { parse } from '../validation';

/** A source a ticket can be read from; the api chains them (read model, write model, record). */
export interface TicketSource {
  name: string;
  findTicket(ticketId: string): Promise<Record<string, unknown> | undefined>;
}

export interface ReadRouteDeps {
  inventory: Inventory;
  /** The seat map's `held` bitmap: which of the taken seats are held, not sold. */
  holds: Pick<Holds, 'heldBits'>;
  catalog: CatalogStore;
  catalogCache: CatalogCache;
  ticketSources: TicketSource[];
  /** Purchases by id: the Redis record, then the stores (see PurchaseLookup). */
  purchases: PurchaseFinder;
}

/** Purchase records in Redis: the source that knows a ticket from the moment it is confirmed. */
export function purchaseRecordSource(inventory: Inventory): TicketSource {
  // Redis only: the stores are this source's siblings in the ticket chain.
  const redisOnly = new PurchaseLookup(inventory, [], 0);
  async function findPurchase(purchaseId: string) {
    const found = await redisOnly.find(purchaseId);
    return found && purchaseView(found.record, found.status);
  }
  return {
    name: 'purchase-record',
    async findTicket(ticketId) {
      const purchaseId = ticketId.slice(0, ticketId.lastIndexOf('.'));
      const p = await findPurchase(purchaseId);
      const t = (p?.tickets as { ticketId: string }[] | undefined)?.find((x) => x.ticketId === ticketId);
      if (!p || !t) return undefined;
      const { tickets: _all, ...purchase } = p;
      return { ...purchase, ...t, source: 'purchase-record' };
    },
  };
}

export function readRoutes(deps: ReadRouteDeps): Router {
  const router = Router();

  const eventOr404 = async (raw: string | undefined) => {
    const eventId = parse(eventIdSchema, raw, 'path.eventId');
    const cached = await deps.catalogCache.get(eventId);
    if (!cached) throw new ApiError('EVENT_NOT_FOUND', `Event ${eventId} does not exist; GET /api/v1/events lists the events`);
    return cached;
  };

  /** Sold seats per zone, live from the inventory counters (revenue is the read model's: queries.ts). */
  const zoneSales = async (eventId: string, zones: { zoneId: string }[]) =>
    Promise.all(
      zones.map(async (z) => {
        const st = await deps.inventory.zoneState(eventId, z.zoneId);
        const capacity = st?.capacity ?? 0;
        const sold = st ? st.capacity - st.available : 0;
        return { zoneId: z.zoneId, capacity, soldCount: sold, available: st?.available ?? 0 };
      }),
    );

  router.get('/api/v1/tickets/count/:eventId', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const zones = await zoneSales(ev.entry.event.eventId, ev.entry.venue.zones);
    res.json({
      eventId: ev.entry.event.eventId,
      total: zones.reduce((s, z) => s + z.soldCount, 0),
      zones: zones.map(({ zoneId, soldCount }) => ({ zoneId, soldCount })),
    });
  });

  router.get('/api/v1/tickets/:ticketId', async (req, res) => {
    if (!parseTicketId(req.params.ticketId)) throw new ApiError('TICKET_NOT_FOUND', `No ticket ${req.params.ticketId.slice(0, 200)}`);
    // A source that fails is skipped; if none found the ticket, 404 only when all answered.
    const failed: string[] = [];
    for (const source of deps.ticketSources) {
      const found = await source.findTicket(req.params.ticketId).catch(() => void failed.push(source.name));
      if (found) return void res.json(found);
    }
    if (failed.length)
      throw new ApiError('DEPENDENCY_UNAVAILABLE', `Ticket stores did not answer (${failed.join(', ')}); try again shortly`);
    throw new ApiError('TICKET_NOT_FOUND', `No ticket ${req.params.ticketId}`);
  });

  router.get('/api/v1/purchases/:purchaseId', async (req, res) => {
    const found = await deps.purchases.find(req.params.purchaseId);
    if (!found)
      throw new ApiError(
        'PURCHASE_NOT_FOUND',
        `No purchase ${req.params.purchaseId.slice(0, 200)}; check the id the purchase answer carried`,
      );
    res.json(purchaseView(found.record, found.status));
  });

  router.get('/api/v1/events', async (req, res) => {
    const state = typeof req.query.status === 'string' ? req.query.status : undefined;
    const all = await deps.catalog.listEvents();
    const events = all.filter((e) => !state || e.event.state === state);
    sendCachedJson(
      req,
      res,
      {
        events: events.map(({ event, venue }) => ({
          ...event,
          venueName: venue.name,
          zoneCount: venue.zones.length,
          capacity: venue.zones.reduce((s, z) => s + z.seatCounts.reduce((a, b) => a + b, 0), 0),
        })),
      },
      CATALOG_CACHE_CONTROL,
    );
  });

  router.get('/api/v1/events/:eventId', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const sales = await zoneSales(ev.entry.event.eventId, ev.entry.venue.zones);
    // The controller's conditions (file source), e.g. Degraded while a bad edit of its seed file is ignored.
    const status = await deps.catalog.getStatus(ev.entry.event.eventId);
    sendCachedJson(
      req,
      res,
      {
        ...ev.entry.event,
        ...(status ? { status } : {}),
        venue: {
          venueId: ev.entry.venue.venueId,
          name: ev.entry.venue.name,
          ...(ev.entry.venue.stage ? { stage: ev.entry.venue.stage } : {}),
        },
        // The map shapes ride along (about 80 bytes a zone before compression), so the page
        // draws the venue from the one read it polls; a poll with nothing new is a 304.
        zones: ev.entry.venue.zones.map((z, i) => ({
          zoneId: z.zoneId,
          name: z.name,
          category: z.category,
          priceCents: z.priceCents,
          rows: z.rows.length,
          capacity: sales[i]?.capacity,
          available: sales[i]?.available,
          ...(z.map ? { map: z.map } : {}),
        })),
      },
      CATALOG_CACHE_CONTROL,
    );
  });

  router.get('/api/v1/venues/:venueId', async (req, res) => {
    const venue = await deps.catalog.getVenue(req.params.venueId);
    if (!venue) throw new ApiError('VENUE_NOT_FOUND', `No venue ${req.params.venueId}`);
    const events = (await deps.catalog.listEvents()).filter((e) => e.venue.venueId === venue.venueId).map((e) => e.event.eventId);
    sendCachedJson(req, res, { ...venue, events }, CATALOG_CACHE_CONTROL);
  });

  router.get('/api/v1/events/:eventId/zones/:zoneId/seats', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const zone = ev.zones.get(req.params.zoneId);
    if (!zone) throw new ApiError('ZONE_NOT_FOUND', `Event ${ev.entry.event.eventId} has no zone ${req.params.zoneId}`);
    // Two reads, not one snapshot: a hold that ends between them shows for one poll as sold
    // (released) or free (held meanwhile); the next poll is right. A held bit is only ever set
    // on a taken seat, so the page reads held = held AND taken.
    const [st, held] = await Promise.all([
      deps.inventory.zoneState(ev.entry.event.eventId, zone.zone.zoneId),
      deps.holds.heldBits(ev.entry.event.eventId, zone.zone.zoneId, zone.layout.capacity),
    ]);
    if (!st) throw new ApiError('INVENTORY_REBUILDING', 'This zone has no live inventory yet; try again shortly');
    sendCachedJson(req, res, seatsBody(ev.entry.event.eventId, zone, { ...st, taken: st.bits, held }), SEATS_CACHE_CONTROL);
  });

  return router;
}
