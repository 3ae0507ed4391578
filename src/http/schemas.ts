import { z } from 'zod';
import { EVENT_STATES, ID_PATTERN } from '../catalog/model';

/**
 * The public API's request and response shapes, once: the routes validate requests with these
 * schemas (src/http/validation.ts), /openapi.json is generated from them (src/http/openapi.ts),
 * and the web app takes its API types from the `z.infer` types below (type-only imports, so its
 * bundle carries no zod). A test checks real responses against the generated document.
 *
 * Response objects are strict (`additionalProperties: false` in the document): a field the API
 * starts to send must be added here first.
 */

// ---------------------------------------------------------------- request fields

const id = z.string().regex(ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,64}$');
/** Zone ids are strings in the catalog; the prototype sent numbers, so both are accepted. */
const zoneIdIn = z.union([id, z.number().int().nonnegative().transform(String)]);
const rowIn = z.string().regex(/^[A-Za-z0-9]{1,8}$/, 'must be a row label such as "A"');
/** The prototype sent the column as a number or a numeric string. */
const columnIn = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be a seat number')
    .transform(Number),
]);

export const eventIdSchema = id;
export const zoneIdSchema = id;
export const userIdSchema = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1–128 visible ASCII characters');

export const seatSchema = z.strictObject({ row: rowIn, column: columnIn });

/** `POST /api/v1/tickets`: one seat. */
export const ticketBodySchema = z.object({
  venueId: id.optional(),
  eventId: id,
  zoneId: zoneIdIn,
  row: rowIn,
  column: columnIn,
  userId: userIdSchema.optional(),
});

/** `POST /ticket?venueId&eventId&zoneId&row&column` (the earliest prototype: event, zone). */
export const ticketQuerySchema = z
  .object({
    venueId: id.optional(),
    eventId: id.optional(),
    event: id.optional().meta({ description: 'The earliest prototype’s name for eventId' }),
    zoneId: zoneIdIn.optional(),
    zone: zoneIdIn.optional().meta({ description: 'The earliest prototype’s name for zoneId' }),
    row: rowIn,
    column: columnIn,
    userId: userIdSchema.optional(),
  })
  .transform((q, ctx) => {
    const eventId = q.eventId ?? q.event;
    const zone = q.zoneId ?? q.zone;
    if (eventId === undefined || zone === undefined) {
      ctx.addIssue({ code: 'custom', message: 'eventId and zoneId are required', path: [eventId === undefined ? 'eventId' : 'zoneId'] });
      return z.NEVER;
    }
    return { venueId: q.venueId, eventId, zoneId: zone, row: q.row, column: q.column, userId: q.userId };
  });

/** `POST /api/v1/events/{eventId}/purchases`: 1..N seats of one zone, all or nothing. */
export const purchaseBodySchema = z.object({
  userId: userIdSchema,
  zoneId: zoneIdIn,
  venueId: id.optional(),
  seats: z.array(seatSchema).min(1, 'at least one seat'),
});

export const limitSchema = z.coerce.number().int().min(1, 'must be 1..500').max(500, 'must be 1..500').default(100);
export const cursorSchema = z.string().max(600).meta({ description: 'Opaque: the nextCursor of the previous page' });

/** Headers of the purchase routes. The idempotency store checks the key (1–255 visible ASCII characters). */
export const purchaseHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Replays the first answer for the same buyer, key and body' }),
  'x-user-id': userIdSchema.optional().meta({ description: 'The buyer when the request names none (else "anonymous")' }),
});

// ---------------------------------------------------------------- response shapes

const count = z.number().int().nonnegative();
const timestamp = z.iso.datetime({ offset: true });
const purchaseStatus = z.enum(['PENDING', 'CONFIRMED', 'VOIDED', 'CANCELLED']);

const ticketFields = {
  ticketId: z.string(),
  purchaseId: z.string(),
  venueId: z.string(),
  eventId: z.string(),
  zoneId: z.string(),
  row: z.string(),
  column: z.number().int(),
  userId: z.string(),
  priceCents: count,
  currency: z.string(),
  status: z.literal('CONFIRMED'),
  createdOn: timestamp,
};

/** The 201 of the single-seat routes (`POST /ticket`, `POST /api/v1/tickets`): a stored ticket without its currency. */
const { currency: _currency, ...answerFields } = ticketFields;
export const ticketAnswerSchema = z.strictObject(answerFields).meta({ id: 'TicketAnswer' });

/** A purchase: the 201 of `POST …/purchases` and `GET /api/v1/purchases/{purchaseId}`. */
export const purchaseSchema = z
  .strictObject({
    purchaseId: z.string(),
    status: purchaseStatus,
    venueId: z.string(),
    eventId: z.string(),
    zoneId: z.string(),
    userId: z.string(),
    createdOn: timestamp,
    tickets: z.array(
      z.strictObject({ ticketId: z.string(), row: z.string(), column: z.number().int(), priceCents: count, status: purchaseStatus }),
    ),
  })
  .meta({ id: 'Purchase' });

/** A sold ticket as the stores (read model, write model) hold it. */
export const storedTicketSchema = z.strictObject(ticketFields).meta({ id: 'StoredTicket' });

/** `GET /api/v1/tickets/{ticketId}`: `source` says which store answered; the purchase record has no currency. */
export const ticketLookupSchema = z
  .strictObject({
    ...ticketFields,
    currency: z.string().optional(),
    status: purchaseStatus,
    source: z.enum(['mysql', 'dynamodb', 'purchase-record']),
  })
  .meta({ id: 'TicketLookup' });

const nextCursor = z.string().nullable().meta({ description: 'Pass back as `cursor` for the next page; null on the last' });
export const userTicketsSchema = z
  .strictObject({ userId: z.string(), tickets: z.array(storedTicketSchema), nextCursor })
  .meta({ id: 'UserTickets' });
export const eventTicketsSchema = z
  .strictObject({ eventId: z.string(), zoneId: z.string().optional(), tickets: z.array(storedTicketSchema), nextCursor })
  .meta({ id: 'EventTickets' });

export const soldCountSchema = z
  .strictObject({ eventId: z.string(), total: count, zones: z.array(z.strictObject({ zoneId: z.string(), soldCount: count })) })
  .meta({ id: 'SoldCount' });

export const revenueSchema = z
  .strictObject({
    venueId: z.string(),
    eventId: z.string(),
    currency: z.string(),
    revenueCents: count,
    revenue: z
      .string()
      .regex(/^\d+\.\d{2}$/)
      .meta({ description: 'revenueCents / 100, two decimals' }),
    soldCount: count,
    source: z.literal('read-model'),
  })
  .meta({ id: 'Revenue' });

const zoneSales = { capacity: count, sold: count, available: count, revenueCents: count };
export const salesSchema = z
  .strictObject({
    eventId: z.string(),
    currency: z.string(),
    source: z.literal('read-model'),
    totals: z.strictObject(zoneSales),
    zones: z.array(z.strictObject({ zoneId: z.string(), name: z.string(), priceCents: count, ...zoneSales })),
  })
  .meta({ id: 'Sales' });

/** An event as the catalog holds it (src/catalog/model.ts EventDef). */
const eventFields = {
  eventId: z.string(),
  resourceName: z.string().meta({ description: 'The Event resource’s metadata.name' }),
  venueId: z.string(),
  name: z.string(),
  startsAt: z.string(),
  salesOpensAt: z.string().optional(),
  salesClosesAt: z.string().optional(),
  state: z.enum(EVENT_STATES),
  perUserLimit: z.number().int().positive(),
  currency: z.string(),
  admission: z
    .strictObject({
      mode: z.enum(['open', 'queue']),
      activeBuyers: z.number().int().positive(),
      sessionSeconds: z.number().int().positive(),
      prequeueOpensAt: z.string().optional(),
    })
    .optional()
    .meta({
      description:
        'The waiting room (docs/admission.md). Absent or mode open: buy directly. mode queue: join POST /api/v1/events/{eventId}/queue and send the Admission-Token once admitted',
    }),
};

export const eventSummarySchema = z
  .strictObject({ ...eventFields, venueName: z.string(), zoneCount: count, capacity: count })
  .meta({ id: 'EventSummary' });
export const eventListSchema = z.strictObject({ events: z.array(eventSummarySchema) }).meta({ id: 'EventList' });

/** The venue map (src/catalog/model.ts ZoneShape, StageDef): a 1000 × 1000 viewBox, y down, angles clockwise from 12 o'clock. */
export const zoneShapeSchema = z
  .union([
    z.strictObject({
      shape: z.literal('rect'),
      x: z.number().meta({ description: 'Centre' }),
      y: z.number(),
      width: z.number(),
      height: z.number(),
      rotation: z.number().optional().meta({ description: 'Degrees clockwise about the centre' }),
    }),
    z.strictObject({
      shape: z.literal('arc'),
      x: z.number().meta({ description: 'Centre of the circle the ring sector is part of' }),
      y: z.number(),
      innerRadius: z.number(),
      outerRadius: z.number(),
      startAngle: z.number().meta({ description: "Degrees clockwise from 12 o'clock" }),
      endAngle: z.number(),
    }),
  ])
  .meta({ id: 'ZoneShape', description: 'Where the zone is drawn on the venue map; absent when the venue gives no coordinates' });
export const stageSchema = z
  .strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number(), label: z.string().optional() })
  .meta({ id: 'Stage', description: 'The stage on the venue map, a rect centred on x, y' });

export const zoneSummarySchema = z
  .strictObject({
    zoneId: z.string(),
    name: z.string(),
    category: z.string().optional(),
    priceCents: count,
    rows: count.meta({ description: 'Number of rows' }),
    capacity: count,
    available: count,
    map: zoneShapeSchema.optional(),
  })
  .meta({ id: 'ZoneSummary' });
export const eventDetailSchema = z
  .strictObject({
    ...eventFields,
    venue: z.strictObject({ venueId: z.string(), name: z.string(), stage: stageSchema.optional() }),
    zones: z.array(zoneSummarySchema),
  })
  .meta({ id: 'EventDetail' });

export const zoneLayoutSchema = z
  .strictObject({
    zoneId: z.string(),
    name: z.string(),
    rows: z.array(z.string()),
    seatCounts: z.array(count).meta({ description: 'Seats in each row, same order as rows' }),
    priceCents: count,
    category: z.string().optional(),
    map: zoneShapeSchema.optional(),
  })
  .meta({ id: 'ZoneLayout' });
export const venueSchema = z
  .strictObject({
    venueId: z.string(),
    resourceName: z.string(),
    name: z.string(),
    zones: z.array(zoneLayoutSchema),
    stage: stageSchema.optional(),
    events: z.array(z.string()),
  })
  .meta({ id: 'Venue' });

export const seatMapSchema = z
  .strictObject({
    eventId: z.string(),
    zoneId: z.string(),
    name: z.string(),
    priceCents: count,
    rows: z.array(z.string()),
    seatCounts: z.array(count),
    capacity: count,
    available: count,
    rowAvailable: z.array(count),
    sold: z.strictObject({
      encoding: z.literal('bitmap-msb-base64'),
      data: z.base64().meta({
        description:
          'The zone bitmap: seat k (row-major, from 0) is taken (sold or held) when bit (7 - k % 8) of byte floor(k / 8) is 1; `held` says which taken seats are held',
      }),
    }),
    held: z.strictObject({
      encoding: z.literal('bitmap-msb-base64'),
      data: z.base64().meta({
        description:
          'The held seats, in the same layout: a seat taken in `sold` and set here is held (checkout, not paid yet), taken and not set here is sold. A bit set here on a seat not taken in `sold` is a hold that ended between the two reads: the seat is free',
      }),
    }),
  })
  .meta({ id: 'SeatMap' });

/** `POST /api/v1/purchases/{purchaseId}/cancel`'s answer (src/purchase/cancel.ts, CancelAnswer). */
export const cancelAnswerSchema = z
  .strictObject({
    purchaseId: z.string(),
    status: z.literal('CANCELLED'),
    eventId: z.string(),
    zoneId: z.string(),
    venueId: z.string(),
    userId: z.string(),
    cancelledAt: z.string(),
    tickets: z.array(
      z.strictObject({
        ticketId: z.string(),
        row: z.string(),
        column: z.number().int(),
        priceCents: z.number().int(),
        status: z.literal('CANCELLED'),
      }),
    ),
    refund: z
      .looseObject({ status: z.string() })
      .describe('REFUNDED, PENDING or NOT_CHARGED (with amountCents: the prices the tickets were sold at)'),
  })
  .meta({ id: 'CancelAnswer' });

/** `POST /api/v1/payments/webhook`'s receipt (src/payment/webhook.ts, WebhookReceipt). */
export const webhookReceiptSchema = z
  .strictObject({
    received: z.literal(true),
    id: z.string(),
    type: z.string(),
    paymentId: z.string(),
    status: z
      .enum(['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED'])
      .optional()
      .describe('The payment after this delivery (absent for an ignored event type)'),
    applied: z.boolean().describe('This delivery changed the payment (false for a duplicate or a contradicting event)'),
  })
  .meta({ id: 'WebhookReceipt' });

/** `GET /api/v1/auth/config` (src/auth/auth-config-route.ts): how to name the buyer. */
export const authConfigSchema = z
  .strictObject({
    mode: z.enum(['declared', 'jwt']).describe('declared: X-User-Id or the body names the buyer; jwt: Authorization: Bearer <JWT>'),
    devTokens: z.boolean().describe('POST /api/v1/dev/token mints tokens (AUTH_DEV_TOKENS=true, development only)'),
  })
  .meta({ id: 'AuthConfig' });

export const resetSchema = z.strictObject({ eventId: z.string(), zones: count }).meta({ id: 'ResetResult' });
export const noopSchema = z.strictObject({ ok: z.literal(true) });
export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const readinessSchema = z
  .strictObject({
    status: z.enum(['ready', 'not-ready', 'shutting-down']),
    checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), error: z.string().optional() })).optional(),
  })
  .meta({ id: 'Readiness' });

/** RFC 9457 problem document (component `Problem`); each route's responses narrow `code` to the codes of their status. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
  instance: z.string().optional(),
  purchaseId: z.string().optional().meta({ description: 'PURCHASE_OUTCOME_UNKNOWN: look the purchase up by this id' }),
  seats: z
    .array(z.strictObject({ row: z.string(), column: z.number().int() }))
    .optional()
    .meta({ description: 'SEATS_TAKEN: the seats already taken; SEAT_OUTSIDE_LAYOUT, DUPLICATE_SEAT: the seat at fault' }),
  limit: z.number().int().optional().meta({ description: 'TOO_MANY_SEATS: the most seats one purchase may hold' }),
  retryAfterSeconds: z.number().int().optional().meta({ description: 'RATE_LIMITED: as the Retry-After header says' }),
  errors: z
    .array(z.strictObject({ field: z.string(), message: z.string() }))
    .optional()
    .meta({ description: 'VALIDATION_FAILED: each field at fault' }),
});

// ---------------------------------------------------------------- types (the web app imports these)

export type Seat = z.output<typeof seatSchema>;
export type PurchaseBody = z.input<typeof purchaseBodySchema>;
export type TicketAnswer = z.infer<typeof ticketAnswerSchema>;
export type Purchase = z.infer<typeof purchaseSchema>;
export type StoredTicket = z.infer<typeof storedTicketSchema>;
export type TicketLookup = z.infer<typeof ticketLookupSchema>;
export type SoldCount = z.infer<typeof soldCountSchema>;
export type Revenue = z.infer<typeof revenueSchema>;
export type Sales = z.infer<typeof salesSchema>;
export type EventSummary = z.infer<typeof eventSummarySchema>;
export type EventDetail = z.infer<typeof eventDetailSchema>;
export type ZoneSummary = z.infer<typeof zoneSummarySchema>;
export type ZoneShape = z.infer<typeof zoneShapeSchema>;
export type Stage = z.infer<typeof stageSchema>;
export type VenueDetail = z.infer<typeof venueSchema>;
/** The change stream's first event (and the one after a resume that came too late): the seat map as of `seq`. */
export const seatStreamSnapshotSchema = seatMapSchema.extend({ seq: count });
/** A change stream event: the seats whose state changed since the previous event, by their new state. */
export const seatChangeSchema = z.strictObject({
  seq: count,
  taken: z.array(count).meta({ description: 'Seat indexes (row-major bit offsets) now sold' }),
  freed: z.array(count).meta({ description: 'Seat indexes now free' }),
  held: z.array(count).meta({ description: 'Seat indexes now held for a checkout' }),
});
export type SeatStreamSnapshot = z.infer<typeof seatStreamSnapshotSchema>;
export type SeatChange = z.infer<typeof seatChangeSchema>;
export type SeatMap = z.infer<typeof seatMapSchema>;
export type AuthConfig = z.infer<typeof authConfigSchema>;
export type CancelAnswer = z.infer<typeof cancelAnswerSchema>;
export type Problem = z.infer<typeof problemSchema>;
