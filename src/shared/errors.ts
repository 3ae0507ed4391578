/**
 * The registry of the API's error codes, Fastify `lib/errors.js` style: each code has a fixed
 * HTTP status and title; answers are RFC 9457 `application/problem+json` with this `code`.
 * A client mistake is always 4xx. 5xx means a dependency failed, never the client.
 *
 * The codes only a purchase outcome answers with (SEATS_TAKEN, ZONE_SOLD_OUT, …) are not here:
 * the outcome table defines them next to the outcome (src/http/outcomes.ts), so adding an
 * outcome touches one table. Every other code, including those the purchase routes share with
 * other routes (not found, validation, idempotency, PURCHASE_OUTCOME_UNKNOWN), lives here.
 */
export interface ProblemSpec {
  readonly status: number;
  readonly title: string;
}

export const ERRORS = {
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  VALIDATION_FAILED: { status: 400, title: 'The request is missing fields or has fields of the wrong type' },
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
  // The waiting room (docs/admission.md).
  ADMISSION_REQUIRED: { status: 403, title: 'This event sells through a waiting room: send the Admission-Token of a live admission' },
  QUEUE_NOT_FOUND: { status: 404, title: 'No such place in this event’s queue' },
  QUEUE_NOT_USED: { status: 409, title: 'This event has no waiting room: buy directly' },
  QUEUE_NOT_OPEN: { status: 409, title: 'The waiting room is not open yet' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this route' },
  IDEMPOTENCY_IN_FLIGHT: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  // Holds and per-buyer limits (docs/purchase-state-machine.md, "Holds").
  HOLD_NOT_FOUND: { status: 404, title: 'No such hold' },
  HOLD_EXPIRED: { status: 409, title: 'The hold has expired; its seats are on sale again' },
  HOLD_NOT_ACTIVE: { status: 409, title: 'The hold was released or paid already' },
  HOLD_LIMIT_REACHED: { status: 409, title: 'A hold cannot live longer than HOLD_MAX_SECONDS in total' },
  HOLD_IN_PROGRESS: { status: 409, title: 'Another request for this hold is still running' },
  NOT_ENOUGH_SEATS: { status: 409, title: 'The zone has fewer free seats than asked for' },
  BUYER_LIMIT_REACHED: { status: 409, title: "The buyer's per-event limit of seats would be exceeded" },
  PAYMENT_REFUNDED: { status: 409, title: "The payment came too late for the hold's seats and was refunded" },
  PURCHASE_NOT_CONFIRMED: { status: 409, title: 'The purchase is not confirmed, so it cannot be cancelled' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used with a different request' },
  PAYMENT_PROVIDER_UNAVAILABLE: { status: 422, title: 'The payment provider is turned off on this deployment' },
  RATE_LIMITED: { status: 429, title: 'Too many requests: slow down and retry after Retry-After seconds' },
  INTERNAL: { status: 500, title: 'Internal error' },
  PURCHASE_OUTCOME_UNKNOWN: { status: 503, title: 'The purchase outcome is not known yet; look it up by purchaseId' },
  INVENTORY_REBUILDING: { status: 503, title: 'The zone inventory is being rebuilt from the write model' },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: 'A dependency is unavailable' },
  LIVE_VIEWERS_LIMIT: { status: 503, title: 'This api process serves as many seat map streams as LIVE_MAX_VIEWERS allows' },
} as const satisfies Record<string, ProblemSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  /** A code of this registry. */
  constructor(code: ErrorCode, detail?: string, extra?: Record<string, unknown>);
  /** A code defined elsewhere with its spec (the outcome table's codes). */
  constructor(code: string, detail: string | undefined, extra: Record<string, unknown> | undefined, spec: ProblemSpec);
  constructor(code: string, detail?: string, extra: Record<string, unknown> = {}, spec: ProblemSpec = ERRORS[code as ErrorCode]) {
    // A client's answer (4xx) is an expected outcome, about half of a seed replay's requests
    // (a seat taken): its stack would never be read, and capturing one costs on every such answer.
    const limit = Error.stackTraceLimit;
    if (spec.status < 500) Error.stackTraceLimit = 0;
    super(detail ?? spec.title);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.extra = extra;
  }
}

export function problemBody(err: ApiError, instance?: string): Record<string, unknown> {
  return {
    type: `https://ticketing.dev/problems/${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    code: err.code,
    detail: err.message,
    ...(instance ? { instance } : {}),
    ...err.extra,
  };
}
