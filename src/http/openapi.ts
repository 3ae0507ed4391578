import { Router } from 'express';
import { ERRORS } from '../shared/errors';

const problem = { $ref: '#/components/responses/Problem' };
const idParam = (name: string, where: 'path' | 'query' = 'path', required = true) => ({
  name, in: where, required, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
});
const seat = { type: 'object', required: ['row', 'column'], properties: { row: { type: 'string' }, column: { type: ['integer', 'string'] } } };
const ticket = {
  type: 'object',
  properties: {
    ticketId: { type: 'string' }, purchaseId: { type: 'string' }, venueId: { type: 'string' }, eventId: { type: 'string' },
    zoneId: { type: 'string' }, row: { type: 'string' }, column: { type: 'integer' }, userId: { type: 'string' },
    priceCents: { type: 'integer' }, status: { type: 'string', enum: ['PENDING', 'CONFIRMED', 'VOIDED', 'CANCELLED'] }, createdOn: { type: 'string', format: 'date-time' },
  },
};
const errorsOf = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));
const purchaseErrors = errorsOf(400, 404, 409, 413, 415, 422, 503);
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, ...json(schema) });
const READ_MODEL_LAG = 'Served from the MySQL read model, which trails the sale by the projector lag (metric `ticketing_read_model_lag_seconds`; typically well under a second, longer while the projector catches up after a restart).';
const cursorParam = { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 600 }, description: 'Opaque: the nextCursor of the previous page' };
const limitParam = { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } };
const page = { type: 'object', properties: { tickets: { type: 'array', items: ticket }, nextCursor: { type: ['string', 'null'] } } };
const idempotencyHeader = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } };

/** The OpenAPI 3.1 description of the public API; a test keeps it in step with the routes. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Ticketing Platform API', version: '1.0.0', description: 'Seat purchases under extreme concurrency. Errors are RFC 9457 problem documents with a stable `code`.' },
  paths: {
    '/ticket': {
      post: {
        summary: "Buy one seat (the prototype's JMeter route, query parameters)",
        parameters: [idParam('venueId', 'query', false), idParam('eventId', 'query'), idParam('zoneId', 'query'), { name: 'row', in: 'query', required: true, schema: { type: 'string' } }, { name: 'column', in: 'query', required: true, schema: { type: 'integer' } }, idempotencyHeader],
        responses: { '201': ok('Confirmed: Kafka acknowledged the ticket', ticket), ...purchaseErrors },
      },
    },
    '/api/v1/tickets': {
      post: {
        summary: 'Buy one seat (JSON body)',
        parameters: [idempotencyHeader],
        requestBody: { required: true, ...json({ type: 'object', required: ['eventId', 'zoneId', 'row', 'column'], properties: { venueId: { type: 'string' }, eventId: { type: 'string' }, zoneId: { type: ['string', 'integer'] }, row: { type: 'string' }, column: { type: ['integer', 'string'] }, userId: { type: 'string' } } }) },
        responses: { '201': ok('Confirmed', ticket), ...purchaseErrors },
      },
    },
    '/api/v1/events/{eventId}/purchases': {
      post: {
        summary: 'Buy 1..N seats of one zone, all or nothing',
        parameters: [idParam('eventId'), idempotencyHeader],
        requestBody: { required: true, ...json({ type: 'object', required: ['userId', 'zoneId', 'seats'], properties: { userId: { type: 'string' }, zoneId: { type: ['string', 'integer'] }, venueId: { type: 'string' }, seats: { type: 'array', items: seat, minItems: 1 } } }) },
        responses: { '201': ok('Confirmed', { type: 'object', properties: { purchaseId: { type: 'string' }, tickets: { type: 'array', items: ticket } } }), ...purchaseErrors },
      },
    },
    '/api/v1/purchases/{purchaseId}': {
      get: { summary: 'A purchase and its state (resolves a 503 PURCHASE_OUTCOME_UNKNOWN): the Redis record, else the stores', parameters: [{ name: 'purchaseId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': ok('The purchase'), ...errorsOf(404, 503) } },
    },
    '/api/v1/purchases/{purchaseId}/cancel': {
      post: {
        summary: 'Cancel a confirmed purchase (its buyer, or the admin token) and refund it',
        description:
          'The TicketsCancelled event is in the log (acks=all) before any seat is freed; the 200 comes once the seats are on sale again. A repeat answers the same 200. `refund.status` is REFUNDED, PENDING or NOT_CHARGED (with `amountCents`, the prices the tickets were sold at). 409 PURCHASE_NOT_CONFIRMED while the purchase is pending; 503 with `purchaseId` when the cancellation is recorded but not complete yet (it completes by itself; repeat to see it). See docs/purchase-state-machine.md.',
        parameters: [{ name: 'purchaseId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: false, ...json({ type: 'object', properties: { userId: { type: 'string' } } }) },
        responses: { '200': ok('Cancelled', { type: 'object', properties: { purchaseId: { type: 'string' }, status: { type: 'string', enum: ['CANCELLED'] }, cancelledAt: { type: 'string', format: 'date-time' }, tickets: { type: 'array', items: ticket }, refund: { type: 'object' } } }), ...errorsOf(400, 401, 403, 404, 409, 415, 503) },
      },
    },
    '/api/v1/tickets/{ticketId}': {
      get: {
        summary: 'A ticket',
        description: `Looked up in the MySQL read model, then in DynamoDB (the write model), then in the purchase record in Redis, so a ticket confirmed with 201 is found at once, whatever the read-model lag. \`source\` says which answered; 503 when a store failed and none found the ticket.`,
        parameters: [{ name: 'ticketId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('The ticket', ticket), ...errorsOf(404, 503) },
      },
    },
    '/api/v1/tickets/count/{eventId}': {
      get: { summary: 'Sold seats per zone (prototype route)', description: 'Live from the Redis seat counters (no read-model lag): a replay can check its count the moment its last 201 arrived. Includes seats of purchases still pending confirmation.', parameters: [idParam('eventId')], responses: { '200': ok('Counts'), ...errorsOf(400, 404) } },
    },
    '/api/v1/tickets/money/{venueId}/{eventId}': {
      get: { summary: 'Revenue of an event (prototype route)', description: `${READ_MODEL_LAG} The sum of the prices recorded in the sold tickets (MySQL read model), never today's catalog price; \`soldCount\` is the tickets it covers, which may trail /api/v1/tickets/count/{eventId} (live Redis) by the read-model lag.`, parameters: [idParam('venueId'), idParam('eventId')], responses: { '200': ok('Revenue'), ...errorsOf(400, 404, 503) } },
    },
    '/api/v1/users/{userId}/tickets': {
      get: {
        summary: "A user's tickets, oldest first (read model)",
        description: `${READ_MODEL_LAG} Pages of \`limit\` tickets; pass \`nextCursor\` back as \`cursor\` for the next page (null on the last).`,
        parameters: [{ name: 'userId', in: 'path', required: true, schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' } }, cursorParam, limitParam],
        responses: { '200': ok('A page of tickets', page), ...errorsOf(400, 503) },
      },
    },
    '/api/v1/events/{eventId}/tickets': {
      get: {
        summary: "An event's sold tickets in zone, row, seat order (read model)",
        description: `${READ_MODEL_LAG} Pages of \`limit\` tickets; pass \`nextCursor\` back as \`cursor\` for the next page (null on the last). A cursor is only valid with the same zoneId.`,
        parameters: [idParam('eventId'), idParam('zoneId', 'query', false), cursorParam, limitParam],
        responses: { '200': ok('A page of tickets', page), ...errorsOf(400, 404, 503) },
      },
    },
    '/api/v1/events/{eventId}/sales': {
      get: {
        summary: 'Sold, available and revenue per zone (read model)',
        description: `${READ_MODEL_LAG} Capacity comes from the catalog, sold seats and revenue from MySQL, so \`sold\` may trail /api/v1/tickets/count/{eventId} (live Redis) by the read-model lag.`,
        parameters: [idParam('eventId')],
        responses: { '200': ok('Sales per zone'), ...errorsOf(400, 404, 503) },
      },
    },
    '/api/v1/events': {
      get: { summary: 'Events in the catalog', parameters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['Draft', 'OnSale', 'Closed'] } }], responses: { '200': ok('Events') } },
    },
    '/api/v1/events/{eventId}': {
      get: { summary: 'An event with its venue and zones (price, availability)', parameters: [idParam('eventId')], responses: { '200': ok('The event'), ...errorsOf(400, 404) } },
    },
    '/api/v1/venues/{venueId}': {
      get: { summary: 'A venue and its zone layouts', parameters: [idParam('venueId')], responses: { '200': ok('The venue'), ...errorsOf(404) } },
    },
    '/api/v1/events/{eventId}/zones/{zoneId}/seats': {
      get: {
        summary: 'Live seat map of a zone',
        description: '`sold.data` is the zone bitmap, base64: seat k (row-major: the seats of row 0, then row 1, …; k counts from 0) is sold when bit (7 - k % 8) of byte floor(k / 8) is 1.',
        parameters: [idParam('eventId'), idParam('zoneId')],
        responses: { '200': ok('The seat map'), ...errorsOf(400, 404, 503) },
      },
    },
    '/api/v1/payments/webhook': {
      post: {
        summary: "The payment provider's webhook: {id, type: payment.succeeded | payment.failed, paymentId}",
        description:
          'Signed as Stripe signs: `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with PAYMENT_WEBHOOK_SECRET>`; a bad, missing or stale (over 5 min) signature is 401. Idempotent by `id`; a payment in a terminal state keeps it (docs/checkout.md). 404 for a payment not recorded yet: the provider delivers again. (`POST /api/v1/dev/token` exists only with AUTH_DEV_TOKENS=true, so it is not listed here.)',
        parameters: [{ name: 'Payment-Signature', in: 'header', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('Received: the payment status after this delivery, and whether it was applied or a duplicate'), ...errorsOf(400, 401, 404, 409, 413, 415, 503) },
      },
    },
    '/admin/events/{eventId}/reset': {
      post: { summary: 'Clear an event for a new load test (bearer ADMIN_TOKEN)', security: [{ admin: [] }], parameters: [idParam('eventId')], responses: { '200': ok('Reset'), ...errorsOf(401, 404) } },
    },
    '/bench/noop': { post: { summary: 'Does nothing (load-lab ceiling)', responses: { '201': ok('Nothing done') } } },
    '/healthz': { get: { summary: 'The process lives', responses: { '200': ok('ok') } } },
    '/readyz': { get: { summary: 'Dependencies answer', responses: { '200': ok('ready'), '503': ok('not ready') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } } },
  },
  components: {
    securitySchemes: { admin: { type: 'http', scheme: 'bearer' } },
    responses: {
      Problem: {
        description: 'RFC 9457 problem document',
        content: {
          'application/problem+json': {
            schema: { type: 'object', required: ['type', 'title', 'status', 'code'], properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string', enum: Object.keys(ERRORS) }, detail: { type: 'string' }, instance: { type: 'string' }, purchaseId: { type: 'string' }, seats: { type: 'array', items: seat } } },
          },
        },
      },
    },
  },
} as const;

export function openApiRoute(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => void res.json(openApiDocument));
  return router;
}
