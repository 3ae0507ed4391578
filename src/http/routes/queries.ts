import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { Router } from 'express';
import { z } from 'zod';
import type { CatalogCache } from '../../catalog/cache';
import type { Logger } from '../../observability/logger';
import type { EventCursor, ReadModel, UserCursor } from '../../projector/read-model';
import { ApiError } from '../../shared/errors';
import type { DynamoWriteModel } from '../../writer/store';
import { cursorSchema, eventIdSchema, limitSchema, userIdSchema, zoneIdSchema } from '../schemas';
import { parse } from '../validation';
import type { TicketSource } from './reads';

export interface QueryRouteDeps {
  readModel: ReadModel;
  catalogCache: CatalogCache;
  log: Logger;
}

const eventCursor = z.object({ k: z.literal('e'), z: z.string().max(64), r: z.string().max(8), c: z.number().int().min(0) }).strict();
const userCursor = z.object({ k: z.literal('u'), t: z.string().max(40), i: z.string().max(160) }).strict();

/** Cursors are opaque to clients: base64url JSON of the last row's key. */
const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decode<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = cursorSchema.safeParse(raw);
  if (!text.success) throw badCursor();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text.data, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const r = schema.safeParse(json);
  if (!r.success) throw badCursor();
  return r.data;
}

const badCursor = () =>
  new ApiError('INVALID_CURSOR', 'The cursor is not one this API returned; start again without a cursor and follow nextCursor');

/** A read-model call; MySQL failing is a 503 the client may retry, never a 500. */
async function fromReadModel<T>(log: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    log.warn({ err }, 'read model query failed');
    throw new ApiError('DEPENDENCY_UNAVAILABLE', 'The read model (MySQL) did not answer; try again shortly');
  }
}

/**
 * Queries served from the MySQL read model. They lag the sale by the projector's lag
 * (`ticketing_read_model_lag_seconds`): a ticket confirmed a moment ago may not be listed yet.
 * `GET /api/v1/tickets/{ticketId}` does not have that gap (see the ticket sources).
 */
export function queryRoutes(deps: QueryRouteDeps): Router {
  const router = Router();
  const { readModel, log } = deps;

  const eventOr404 = async (raw: unknown) => {
    const eventId = parse(eventIdSchema, raw, 'path.eventId');
    const cached = await deps.catalogCache.get(eventId);
    if (!cached) throw new ApiError('EVENT_NOT_FOUND', `Event ${eventId} does not exist; GET /api/v1/events lists the events`);
    return cached;
  };

  router.get('/api/v1/users/:userId/tickets', async (req, res) => {
    const userId = parse(userIdSchema, req.params.userId, 'path.userId');
    const limit = parse(limitSchema, req.query.limit, 'query.limit');
    const c = decode(userCursor, req.query.cursor);
    const after: UserCursor | undefined = c ? { createdOn: c.t, ticketId: c.i } : undefined;
    const page = await fromReadModel(log, () => readModel.ticketsOfUser(userId, { limit, ...(after ? { after } : {}) }));
    res.json({
      userId,
      tickets: page.tickets,
      nextCursor: page.next ? encode({ k: 'u', t: page.next.createdOn, i: page.next.ticketId }) : null,
    });
  });

  router.get('/api/v1/events/:eventId/tickets', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const eventId = ev.entry.event.eventId;
    const zoneId = req.query.zoneId === undefined ? undefined : parse(zoneIdSchema, req.query.zoneId, 'query.zoneId');
    if (zoneId !== undefined && !ev.zones.has(zoneId)) throw new ApiError('ZONE_NOT_FOUND', `Event ${eventId} has no zone ${zoneId}`);
    const limit = parse(limitSchema, req.query.limit, 'query.limit');
    const c = decode(eventCursor, req.query.cursor);
    if (c && zoneId !== undefined && c.z !== zoneId) throw badCursor();
    const after: EventCursor | undefined = c ? { zoneId: c.z, row: c.r, column: c.c } : undefined;
    const page = await fromReadModel(log, () =>
      readModel.ticketsOfEvent(eventId, { limit, ...(zoneId !== undefined ? { zoneId } : {}), ...(after ? { after } : {}) }),
    );
    res.json({
      eventId,
      ...(zoneId !== undefined ? { zoneId } : {}),
      tickets: page.tickets,
      nextCursor: page.next ? encode({ k: 'e', z: page.next.zoneId, r: page.next.row, c: page.next.column }) : null,
    });
  });

  // Revenue is what buyers paid: the prices recorded in the tickets, never today's catalog price
  // (a price change after a sale must not rewrite its revenue). It trails the sale by the
  // projector's lag, like every read-model query; the seat count stays live on /count.
  router.get('/api/v1/tickets/money/:venueId/:eventId', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const { venueId } = ev.entry.venue;
    if (venueId !== req.params.venueId) {
      throw new ApiError('VENUE_NOT_FOUND', `Event ${ev.entry.event.eventId} is at ${venueId}, not ${req.params.venueId}`);
    }
    const sold = [...(await fromReadModel(log, () => readModel.salesByZone(ev.entry.event.eventId))).values()];
    const cents = sold.reduce((s, z) => s + z.revenueCents, 0);
    res.json({
      venueId,
      eventId: ev.entry.event.eventId,
      currency: ev.entry.event.currency,
      revenueCents: cents,
      revenue: (cents / 100).toFixed(2),
      soldCount: sold.reduce((s, z) => s + z.sold, 0),
      source: 'read-model',
    });
  });

  router.get('/api/v1/events/:eventId/sales', async (req, res) => {
    const ev = await eventOr404(req.params.eventId);
    const eventId = ev.entry.event.eventId;
    const sold = await fromReadModel(log, () => readModel.salesByZone(eventId));
    const zones = ev.entry.venue.zones.map((z) => {
      const capacity = z.seatCounts.reduce((a, b) => a + b, 0);
      const s = sold.get(z.zoneId);
      return {
        zoneId: z.zoneId,
        name: z.name,
        priceCents: z.priceCents,
        capacity,
        sold: s?.sold ?? 0,
        available: capacity - (s?.sold ?? 0),
        revenueCents: s?.revenueCents ?? 0,
      };
    });
    const sum = (k: 'capacity' | 'sold' | 'available' | 'revenueCents') => zones.reduce((s, z) => s + z[k], 0);
    res.json({
      eventId,
      currency: ev.entry.event.currency,
      source: 'read-model',
      totals: { capacity: sum('capacity'), sold: sum('sold'), available: sum('available'), revenueCents: sum('revenueCents') },
      zones,
    });
  });

  return router;
}

/** The read model as a ticket source: first in the chain, it serves most lookups. */
export function readModelTicketSource(readModel: ReadModel): TicketSource {
  return {
    name: 'mysql',
    async findTicket(ticketId) {
      try {
        const t = await readModel.findTicket(ticketId);
        return t && { ...t, source: 'mysql' };
      } catch (err) {
        if ((err as { original?: { code?: string } }).original?.code === 'ER_NO_SUCH_TABLE') return undefined; // projector never ran
        throw err;
      }
    },
  };
}

/** The write model as a ticket source: covers the projector's lag. */
export function writeModelTicketSource(model: DynamoWriteModel): TicketSource {
  return {
    name: 'dynamodb',
    async findTicket(ticketId) {
      try {
        const t = await model.findTicket(ticketId);
        return t && { ...t, source: 'dynamodb' };
      } catch (err) {
        if (err instanceof ResourceNotFoundException) return undefined; // writer never ran
        throw err;
      }
    },
  };
}
