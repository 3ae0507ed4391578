import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { EVENT_STATES } from '../catalog/model';
import type { ErrorCode } from '../shared/errors';
import { CONFIRMED, OUTCOME_CODES, PROBLEMS } from './outcomes';
import * as a from './admission-schemas';
import * as c from './checkout-schemas';
import * as s from './schemas';

/**
 * /openapi.json, generated from the zod schemas the routes validate with and answer in
 * (src/http/schemas.ts), with the error answers from the outcome table and the registry. A test
 * keeps the paths in step with the routes; another checks real answers against these schemas.
 */

type Codes = readonly string[];

const PROBLEM_TYPE = 'application/problem+json';
const problemRef = { $ref: '#/components/schemas/Problem' };

/** One response per status the codes answer with; each narrows `code` to its codes. */
function problems(codes: Codes): Record<string, ResponseConfig> {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    const spec = PROBLEMS[code];
    if (!spec) throw new Error(`openapi.ts names ${code}, which neither the registry nor the outcome table defines`);
    byStatus.set(spec.status, [...(byStatus.get(spec.status) ?? []), code]);
  }
  const out: Record<string, ResponseConfig> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${PROBLEMS[c]!.title}`).join('; '),
      content: { [PROBLEM_TYPE]: { schema: { allOf: [problemRef, { properties: { code: { enum: list } } }] } } },
    };
  }
  out.default = {
    description: '`INTERNAL`: an unexpected failure (the server log has the details)',
    content: { [PROBLEM_TYPE]: { schema: problemRef } },
  };
  return out;
}

const json = (description: string, schema: z.ZodType): ResponseConfig => ({ description, content: { 'application/json': { schema } } });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });

/** Every purchase route may answer every outcome, plus body, validation and idempotency errors. */
const PURCHASE_CODES: Codes = [
  ...OUTCOME_CODES,
  ...([
    'VALIDATION_FAILED',
    'MALFORMED_JSON',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'IDEMPOTENCY_IN_FLIGHT',
    'IDEMPOTENCY_KEY_REUSED',
  ] satisfies ErrorCode[]),
];
const codes = (...list: ErrorCode[]): Codes => list;
/** Holds and purchases of a queued event need a live admission (docs/admission.md); every such route may be rate limited. */
const GATED: Codes = codes('ADMISSION_REQUIRED', 'RATE_LIMITED');
const GATE_NOTE =
  ' On a queued event (admission.mode queue) it needs the header `Admission-Token` of a live admission (403 ADMISSION_REQUIRED otherwise). Over the rate limit: 429 RATE_LIMITED with Retry-After.';
const purchaseHeaders = s.purchaseHeadersSchema.extend(a.admissionHeadersSchema.shape);

const READ_MODEL_LAG =
  'Served from the MySQL read model, which trails the sale by the projector lag (metric `ticketing_read_model_lag_seconds`; typically well under a second, longer while the projector catches up after a restart).';
const PAGES = 'Pages of `limit` tickets; pass `nextCursor` back as `cursor` for the next page (null on the last).';

const eventParams = z.object({ eventId: s.eventIdSchema });
const holdParams = z.object({ holdId: z.string() });
/** A hold route names its buyer (401/403 for another's hold) and the hold (404). */
const HOLD_CODES: Codes = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'HOLD_NOT_FOUND',
  'EVENT_NOT_FOUND',
  'DEPENDENCY_UNAVAILABLE',
] satisfies ErrorCode[];
const pageQuery = { cursor: s.cursorSchema.optional(), limit: s.limitSchema };

interface Route extends Omit<RouteConfig, 'responses'> {
  ok: Record<string, ResponseConfig>;
  errors?: Codes;
}

const routes: Route[] = [
  {
    method: 'post',
    path: '/ticket',
    summary: "Buy one seat (the prototype's JMeter route, query parameters)",
    description: GATE_NOTE.trim(),
    request: { query: s.ticketQuerySchema, headers: purchaseHeaders },
    ok: { [CONFIRMED.status]: json(CONFIRMED.description, s.ticketAnswerSchema) },
    errors: [...PURCHASE_CODES, ...GATED],
  },
  {
    method: 'post',
    path: '/api/v1/tickets',
    summary: 'Buy one seat (JSON body)',
    description: GATE_NOTE.trim(),
    request: { headers: purchaseHeaders, body: body(s.ticketBodySchema) },
    ok: { [CONFIRMED.status]: json(CONFIRMED.description, s.ticketAnswerSchema) },
    errors: [...PURCHASE_CODES, ...GATED],
  },
  {
    method: 'post',
    path: '/api/v1/events/{eventId}/purchases',
    summary: 'Buy 1..N seats of one zone, all or nothing',
    description: GATE_NOTE.trim(),
    request: {
      params: eventParams,
      headers: purchaseHeaders.pick({ 'idempotency-key': true, 'admission-token': true }),
      body: body(s.purchaseBodySchema),
    },
    ok: { [CONFIRMED.status]: json(CONFIRMED.description, s.purchaseSchema) },
    errors: [...PURCHASE_CODES, ...GATED],
  },
  {
    method: 'get',
    path: '/api/v1/purchases/{purchaseId}',
    summary: 'A purchase and its state (resolves a 503 PURCHASE_OUTCOME_UNKNOWN): the Redis record, else the stores',
    request: { params: z.object({ purchaseId: z.string() }) },
    ok: {
      200: json(
        'The purchase; a purchase of a hold still paying, declined or refunded has no tickets yet',
        z.union([s.purchaseSchema, c.checkoutViewSchema]),
      ),
    },
    errors: codes('PURCHASE_NOT_FOUND', 'UNAUTHENTICATED', 'FORBIDDEN', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/tickets/{ticketId}',
    summary: 'A ticket',
    description:
      'Looked up in the MySQL read model, then in DynamoDB (the write model), then in the purchase record in Redis, so a ticket confirmed with 201 is found at once, whatever the read-model lag. `source` says which answered; 503 when a store failed and none found the ticket.',
    request: { params: z.object({ ticketId: z.string() }) },
    ok: { 200: json('The ticket', s.ticketLookupSchema) },
    errors: codes('TICKET_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/tickets/count/{eventId}',
    summary: 'Sold seats per zone (prototype route)',
    description:
      'Live from the Redis seat counters (no read-model lag): a replay can check its count the moment its last 201 arrived. Includes seats of purchases still pending confirmation.',
    request: { params: eventParams },
    ok: { 200: json('Counts', s.soldCountSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND'),
  },
  {
    method: 'get',
    path: '/api/v1/tickets/money/{venueId}/{eventId}',
    summary: 'Revenue of an event (prototype route)',
    description: `${READ_MODEL_LAG} The sum of the prices recorded in the sold tickets (MySQL read model), never today's catalog price; \`soldCount\` is the tickets it covers, which may trail /api/v1/tickets/count/{eventId} (live Redis) by the read-model lag.`,
    request: { params: z.object({ venueId: z.string(), eventId: s.eventIdSchema }) },
    ok: { 200: json('Revenue', s.revenueSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND', 'VENUE_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/users/{userId}/tickets',
    summary: "A user's tickets, oldest first (read model)",
    description: `${READ_MODEL_LAG} ${PAGES}`,
    request: { params: z.object({ userId: s.userIdSchema }), query: z.object(pageQuery) },
    ok: { 200: json('A page of tickets', s.userTicketsSchema) },
    errors: codes('VALIDATION_FAILED', 'INVALID_CURSOR', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}/tickets',
    summary: "An event's sold tickets in zone, row, seat order (read model)",
    description: `${READ_MODEL_LAG} ${PAGES} A cursor is only valid with the same zoneId.`,
    request: { params: eventParams, query: z.object({ zoneId: s.zoneIdSchema.optional(), ...pageQuery }) },
    ok: { 200: json('A page of tickets', s.eventTicketsSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND', 'ZONE_NOT_FOUND', 'INVALID_CURSOR', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}/sales',
    summary: 'Sold, available and revenue per zone (read model)',
    description: `${READ_MODEL_LAG} Capacity comes from the catalog, sold seats and revenue from MySQL, so \`sold\` may trail /api/v1/tickets/count/{eventId} (live Redis) by the read-model lag.`,
    request: { params: eventParams },
    ok: { 200: json('Sales per zone', s.salesSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/events',
    summary: 'Events in the catalog',
    request: { query: z.object({ status: z.enum(EVENT_STATES).optional().meta({ description: 'Only events in this state' }) }) },
    ok: { 200: json('Events', s.eventListSchema) },
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}',
    summary: 'An event with its venue and zones (price, availability)',
    request: { params: eventParams },
    ok: { 200: json('The event', s.eventDetailSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND'),
  },
  {
    method: 'get',
    path: '/api/v1/venues/{venueId}',
    summary: 'A venue and its zone layouts',
    request: { params: z.object({ venueId: z.string() }) },
    ok: { 200: json('The venue', s.venueSchema) },
    errors: codes('VENUE_NOT_FOUND'),
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}/zones/{zoneId}/seats',
    summary: 'Live seat map of a zone',
    description:
      '`sold.data` is the zone bitmap, base64: seat k (row-major: the seats of row 0, then row 1, …; k counts from 0) is taken when bit (7 - k % 8) of byte floor(k / 8) is 1. `held.data`, in the same layout, marks the taken seats that are held for a checkout rather than sold. `available` and `rowAvailable` count the seats neither sold nor held.',
    request: { params: z.object({ eventId: s.eventIdSchema, zoneId: z.string() }) },
    ok: { 200: json('The seat map', s.seatMapSchema) },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND', 'ZONE_NOT_FOUND', 'INVENTORY_REBUILDING'),
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}/zones/{zoneId}/seats/stream',
    summary: 'Live seat map of a zone as server-sent events',
    description:
      'A `snapshot` event (the seats route body plus `seq`), then `change` events `{seq, taken, freed, held}` (seat indexes by their new state), at most one per 250 ms per zone; `seq` grows by exactly 1 per change event and is the SSE `id`. Comment lines every 15 s keep the connection open. Reconnect with `Last-Event-ID` (or `?lastEventId=`) to get the missed changes, or a fresh snapshot when they are too old. A viewer that does not read is disconnected. See docs/live-seat-map.md.',
    request: { params: z.object({ eventId: s.eventIdSchema, zoneId: z.string() }) },
    ok: {
      200: {
        description: 'text/event-stream; event `snapshot` data: SeatStreamSnapshot, event `change` data: SeatChange',
        content: { 'text/event-stream': { schema: z.string() } },
      },
    },
    errors: codes('VALIDATION_FAILED', 'EVENT_NOT_FOUND', 'ZONE_NOT_FOUND', 'INVENTORY_REBUILDING', 'LIVE_VIEWERS_LIMIT'),
  },
  {
    method: 'post',
    path: '/api/v1/purchases/{purchaseId}/cancel',
    summary: 'Cancel a confirmed purchase (its buyer, or the admin token) and refund it',
    description:
      'The TicketsCancelled event is in the log (acks=all) before any seat is freed; the 200 comes once the seats are on sale again. A repeat answers the same 200. 409 PURCHASE_NOT_CONFIRMED while the purchase is pending; 503 when the cancellation is recorded but not complete yet (it completes by itself; repeat to see it). See docs/purchase-state-machine.md.',
    request: { params: z.object({ purchaseId: z.string() }) },
    ok: { 200: json('Cancelled', s.cancelAnswerSchema) },
    errors: codes(
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'UNSUPPORTED_MEDIA_TYPE',
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'PURCHASE_NOT_FOUND',
      'PURCHASE_NOT_CONFIRMED',
      'DEPENDENCY_UNAVAILABLE',
      'INVENTORY_REBUILDING',
    ),
  },
  {
    method: 'post',
    path: '/api/v1/payments/webhook',
    summary: "The payment provider's webhook: {id, type: payment.succeeded | payment.failed, paymentId}",
    description:
      'Signed as Stripe signs: `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with PAYMENT_WEBHOOK_SECRET>`; a bad, missing or stale (over 5 min) signature is 401. Idempotent by `id`; a payment in a terminal state keeps it (docs/checkout.md). 404 for a payment not recorded yet: the provider delivers again. (`POST /api/v1/dev/token` exists only with AUTH_DEV_TOKENS=true, so it is not listed here.)',
    request: { headers: z.object({ 'payment-signature': z.string() }) },
    ok: { 200: json('Received', s.webhookReceiptSchema) },
    errors: codes(
      'WEBHOOK_SIGNATURE_INVALID',
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'NOT_FOUND',
      'IDEMPOTENCY_IN_FLIGHT',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
  {
    method: 'get',
    path: '/api/v1/auth/config',
    summary: 'How a client names its buyer: the auth mode, and whether the dev token route is on',
    description:
      'The seat map reads it to send `X-User-Id` (declared mode) or `Authorization: Bearer <JWT>` (jwt mode), and to offer a dev sign-in through `POST /api/v1/dev/token` when `devTokens` is true.',
    ok: { 200: json('The auth settings a client needs', s.authConfigSchema) },
  },
  {
    method: 'post',
    path: '/api/v1/events/{eventId}/holds',
    summary: 'Hold 1..N seats of one zone for checkout (named seats, or best: {count}), all or nothing',
    description:
      '{zoneId, seats: [{row, column}]} or {zoneId, best: {count}}, optional expiresInSeconds (5..HOLD_MAX_SECONDS, default HOLD_DEFAULT_SECONDS) and userId. Held seats are taken for everyone else (409 SEATS_TAKEN) until the hold expires, is released or is paid (docs/checkout.md). On a queued event a hold lasts at most until the admission session ends.' +
      GATE_NOTE,
    request: { params: eventParams, headers: purchaseHeaders, body: body(c.holdBody) },
    ok: { 201: json('Held', c.holdSchema) },
    errors: [
      ...PURCHASE_CODES,
      ...GATED,
      ...codes('UNAUTHENTICATED', 'FORBIDDEN', 'HOLD_LIMIT_REACHED', 'HOLD_NOT_ACTIVE', 'NOT_ENOUGH_SEATS', 'BUYER_LIMIT_REACHED'),
    ],
  },
  {
    method: 'get',
    path: '/api/v1/holds/{holdId}',
    summary: 'A hold and its status (HELD, EXPIRED, RELEASED, PURCHASED); its buyer or admin only',
    request: { params: holdParams },
    ok: { 200: json('The hold', c.holdSchema) },
    errors: HOLD_CODES,
  },
  {
    method: 'delete',
    path: '/api/v1/holds/{holdId}',
    summary: 'Release a hold now: its seats are on sale again when this answers',
    request: { params: holdParams },
    ok: { 200: json('Released', c.holdSchema) },
    errors: [...HOLD_CODES, ...codes('HOLD_NOT_ACTIVE', 'HOLD_EXPIRED', 'HOLD_IN_PROGRESS')],
  },
  {
    method: 'post',
    path: '/api/v1/holds/{holdId}/extend',
    summary: "Add {seconds} to the hold's expiry (409 HOLD_LIMIT_REACHED beyond HOLD_MAX_SECONDS in total)",
    request: { params: holdParams, body: body(c.extendBody) },
    ok: { 200: json('The hold with its new expiresAt', c.holdSchema) },
    errors: [
      ...HOLD_CODES,
      ...codes(
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'UNSUPPORTED_MEDIA_TYPE',
        'HOLD_LIMIT_REACHED',
        'HOLD_NOT_ACTIVE',
        'HOLD_EXPIRED',
        'HOLD_IN_PROGRESS',
      ),
    ],
  },
  {
    method: 'post',
    path: '/api/v1/holds/{holdId}/purchase',
    summary: 'Pay a hold: {payment: {provider, token}}; 201 only after Kafka acknowledged the purchase',
    description:
      'The test provider: tok_visa succeeds, tok_chargeDeclined is 402 PAYMENT_DECLINED (the hold stays HELD), tok_pending is 202 PAYMENT_PENDING and completes through the webhook; with the test provider turned off (PAYMENT_TEST_PROVIDER=false, the default in production mode) it is 422 PAYMENT_PROVIDER_UNAVAILABLE. A payment too late for the seats is refunded (409 PAYMENT_REFUNDED). 503 PURCHASE_OUTCOME_UNKNOWN carries the purchaseId to look up.' +
      GATE_NOTE,
    request: {
      params: holdParams,
      headers: purchaseHeaders.pick({ 'idempotency-key': true, 'admission-token': true }),
      body: body(c.payBody),
    },
    ok: {
      201: json('Confirmed: the purchase, its hold and its payment', c.holdPurchaseSchema),
      202: json('Payment pending: completes through the webhook', c.paymentPendingSchema),
    },
    errors: [
      ...PURCHASE_CODES,
      ...HOLD_CODES,
      ...GATED,
      ...codes(
        'PAYMENT_DECLINED',
        'PAYMENT_PROVIDER_UNAVAILABLE',
        'PAYMENT_REFUNDED',
        'HOLD_EXPIRED',
        'HOLD_NOT_ACTIVE',
        'HOLD_IN_PROGRESS',
      ),
    ],
  },
  {
    method: 'post',
    path: '/api/v1/events/{eventId}/queue',
    summary: "Join a queued event's waiting room (the buyer: X-User-Id or userId in declared mode, the token's sub in jwt mode)",
    description:
      'Joining again while waiting or admitted answers the same place. Everyone who joins between admission.prequeueOpensAt and the sales opening gets a uniformly random place at the opening; after it, first come first served. At most admission.activeBuyers buyers hold an admission at once; follow the place with GET …/queue/{queueId} (docs/admission.md). Over the rate limit: 429 RATE_LIMITED with Retry-After.',
    request: { params: eventParams },
    ok: { 202: json('In line (or admitted at once, with its token)', a.queueJoinSchema) },
    errors: [
      ...codes(
        'VALIDATION_FAILED',
        'UNAUTHENTICATED',
        'FORBIDDEN',
        'EVENT_NOT_FOUND',
        'QUEUE_NOT_USED',
        'QUEUE_NOT_OPEN',
        'RATE_LIMITED',
        'DEPENDENCY_UNAVAILABLE',
      ),
      // The outcome table's: a join outside the sale answers as a purchase would.
      'EVENT_NOT_ON_SALE',
      'SALES_WINDOW_CLOSED',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/events/{eventId}/queue/{queueId}',
    summary:
      'A place in the waiting room: WAITING {position, estimatedWaitSeconds}, ADMITTED {admissionToken, expiresAt}, or ENDED {reason}',
    description:
      'Poll it (every 1–2 s is plenty): the next buyer is admitted within a second of a session ending. Send admissionToken as the Admission-Token header on holds and purchases of the event; the admission ends when the buyer buys, when their holds all end, or at expiresAt.',
    request: { params: z.object({ eventId: s.eventIdSchema, queueId: z.string() }) },
    ok: { 200: json('The place', a.queueStatusSchema) },
    errors: codes('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'EVENT_NOT_FOUND', 'QUEUE_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/me/holds',
    summary: "The buyer's own holds, newest first (X-User-Id in declared mode, the token's sub in jwt mode)",
    request: { query: z.object({ status: c.holdStatusSchema.optional() }) },
    ok: { 200: json("The buyer's holds", c.myHoldsSchema) },
    errors: codes('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'get',
    path: '/api/v1/me/purchases',
    summary: "The buyer's own purchases, newest first: the read model's, plus purchases of holds it does not show yet",
    ok: { 200: json("The buyer's purchases", c.myPurchasesSchema) },
    errors: codes('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'DEPENDENCY_UNAVAILABLE'),
  },
  {
    method: 'post',
    path: '/admin/events/{eventId}/reset',
    summary: 'Clear an event for a new load test (bearer ADMIN_TOKEN)',
    security: [{ admin: [] }],
    request: { params: eventParams },
    ok: { 200: json('Reset', s.resetSchema) },
    errors: codes('UNAUTHORIZED', 'VALIDATION_FAILED', 'EVENT_NOT_FOUND'),
  },
  { method: 'post', path: '/bench/noop', summary: 'Does nothing (load-lab ceiling)', ok: { 201: json('Nothing done', s.noopSchema) } },
  { method: 'get', path: '/healthz', summary: 'The process lives', ok: { 200: json('ok', s.healthSchema) } },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Dependencies answer',
    ok: { 200: json('ready', s.readinessSchema), 503: json('not ready, or shutting down', s.readinessSchema) },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    ok: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    ok: {
      200: json(
        'OpenAPI 3.1',
        z.looseObject({
          openapi: z.literal('3.1.0'),
          info: z.looseObject({ title: z.string(), version: z.string() }),
          paths: z.record(z.string(), z.unknown()),
        }),
      ),
    },
  },
];

function generate() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'admin', { type: 'http', scheme: 'bearer' });
  // The shared schema keeps `code` a string (the web app must not depend on the tables); here it
  // lists every code the API answers with: the registry's and the outcome table's.
  const problem = s.problemSchema.extend({ code: z.enum(Object.keys(PROBLEMS) as [string, ...string[]]) }).meta({ id: 'Problem' });
  for (const { ok, errors, ...route } of routes) {
    registry.registerPath({ ...route, responses: { ...ok, ...(errors ? problems(errors) : { default: problems([]).default! }) } });
  }
  // As a definition object: a bare zod 4 schema has a `type` field the generator mistakes for one.
  const doc = new OpenApiGeneratorV31([...registry.definitions, { type: 'schema', schema: problem }]).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Ticketing Platform API',
      version: '1.0.0',
      description: 'Seat purchases under extreme concurrency. Errors are RFC 9457 problem documents with a stable `code`.',
    },
  });
  return { ...doc, paths: doc.paths ?? {} };
}

/** The OpenAPI 3.1 description of the public API. */
export const openApiDocument = generate();

export function openApiRoute(): Router {
  const router = Router();
  const text = JSON.stringify(openApiDocument);
  router.get('/openapi.json', (_req, res) => void res.type('application/json').send(text));
  return router;
}
