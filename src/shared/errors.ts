/**
 * The one registry of error codes the API returns. Each code has a fixed HTTP status and
 * title; answers are RFC 9457 `application/problem+json` with this `code`.
 * A client mistake is always 4xx. 5xx means a dependency failed, never the client.
 */
export const ERRORS = {
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  VALIDATION_FAILED: { status: 400, title: 'The request is missing fields or has fields of the wrong type' },
  SEAT_OUTSIDE_LAYOUT: { status: 400, title: 'A requested seat does not exist in the zone layout' },
  DUPLICATE_SEAT: { status: 400, title: 'The same seat appears more than once in the request' },
  TOO_MANY_SEATS: { status: 400, title: 'More seats were requested than one purchase may hold' },
  INVALID_CURSOR: { status: 400, title: 'The pagination cursor is not valid' },
  UNAUTHORIZED: { status: 401, title: 'A valid admin bearer token is required' },
  UNAUTHENTICATED: { status: 401, title: 'A valid bearer token naming the buyer is required' },
  WEBHOOK_SIGNATURE_INVALID: { status: 401, title: 'The webhook signature is missing, stale or does not match the body' },
  PAYMENT_DECLINED: { status: 402, title: 'The payment was declined' },
  FORBIDDEN: { status: 403, title: 'This buyer may not act on this resource' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  EVENT_NOT_FOUND: { status: 404, title: 'No such event' },
  VENUE_NOT_FOUND: { status: 404, title: 'No such venue (or the event is not at that venue)' },
  ZONE_NOT_FOUND: { status: 404, title: 'No such zone in this event' },
  TICKET_NOT_FOUND: { status: 404, title: 'No such ticket' },
  PURCHASE_NOT_FOUND: { status: 404, title: 'No such purchase' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this route' },
  SEATS_TAKEN: { status: 409, title: 'One or more requested seats are already taken' },
  ZONE_SOLD_OUT: { status: 409, title: 'The zone is sold out' },
  EVENT_NOT_ON_SALE: { status: 409, title: 'The event is not on sale' },
  SALES_WINDOW_CLOSED: { status: 409, title: 'The event is outside its sales window' },
  IDEMPOTENCY_IN_FLIGHT: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  PURCHASE_NOT_CONFIRMED: { status: 409, title: 'The purchase is not confirmed, so it cannot be cancelled' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used with a different request' },
  INTERNAL: { status: 500, title: 'Internal error' },
  PURCHASE_OUTCOME_UNKNOWN: { status: 503, title: 'The purchase outcome is not known yet; look it up by purchaseId' },
  KAFKA_UNAVAILABLE: { status: 503, title: 'Purchases are paused: the event log is unreachable; nothing was sold' },
  INVENTORY_UNAVAILABLE: { status: 503, title: 'Seat inventory is unavailable' },
  INVENTORY_REBUILDING: { status: 503, title: 'The zone inventory is being rebuilt from the write model' },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: 'A dependency is unavailable' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.status = ERRORS[code].status;
  }
}

export function problemBody(err: ApiError, instance?: string): Record<string, unknown> {
  return {
    type: `https://ticketing.dev/problems/${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: ERRORS[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.message,
    ...(instance ? { instance } : {}),
    ...err.extra,
  };
}
