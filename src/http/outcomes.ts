import type { SeatRequest, Unconfirmed } from '../purchase/engine';
import { ApiError, ERRORS, type ErrorCode, type ProblemSpec } from '../shared/errors';

/**
 * The one outcome table: what the buyer hears for each purchase outcome the engines return
 * (src/purchase/engine.ts `PurchaseOutcome`), and how it is counted.
 *
 * - `code` with its `spec` (HTTP status and title) is the problem document's `code`. Codes only
 *   an outcome answers with are defined here (`own`); codes other routes answer with too are the
 *   registry's (`registered`, src/shared/errors.ts), so each code has exactly one definition.
 * - `metric` is the `outcome` label of `ticketing_purchase_attempts_total` and
 *   `ticketing_purchase_duration_seconds`; `conflict` the `reason` of
 *   `ticketing_purchase_conflicts_total`.
 * - The OpenAPI document lists every code of this table under its status on the purchase routes
 *   (src/http/openapi.ts), with its title.
 *
 * Adding an outcome: the Lua script (and its return-code enum), a `PurchaseOutcome` kind and its
 * case in the engine, and a row here; the compiler refuses a kind without a row. docs/contracts.md,
 * "Purchase outcomes".
 */

/** `outcome` label of the purchase metrics (docs/contracts.md). `replayed`: an Idempotency-Key replay. */
export type AttemptLabel = 'confirmed' | 'replayed' | 'conflict' | 'sold_out' | 'rejected' | 'unavailable' | 'unknown';
export type ConflictReason = 'seat_taken' | 'zone_sold_out';

interface Answer<O> {
  code: string;
  spec: ProblemSpec;
  metric: AttemptLabel;
  conflict?: ConflictReason;
  /** The problem's `detail`: what happened and what to do next. */
  detail: (o: O) => string;
  /** Members the problem document carries besides the RFC 9457 ones. */
  extra?: (o: O) => Record<string, unknown>;
}

/** A code this table defines. */
const own = (code: string, status: number, title: string) => ({ code, spec: { status, title } });
/** A code of the registry (src/shared/errors.ts). */
const registered = (code: ErrorCode) => ({ code, spec: ERRORS[code] });

const seatNames = (seats: SeatRequest[]) => seats.map((s) => `row ${s.row} seat ${s.column}`).join(', ');
const inventoryUnavailable = own('INVENTORY_UNAVAILABLE', 503, 'Seat inventory is unavailable');

type Rows = { [K in Unconfirmed['kind']]: Answer<Extract<Unconfirmed, { kind: K }>> };

export const OUTCOMES: Rows = {
  'event-not-found': {
    ...registered('EVENT_NOT_FOUND'),
    metric: 'rejected',
    detail: (o) => `Event ${o.eventId} does not exist; GET /api/v1/events lists the events`,
  },
  'venue-mismatch': {
    ...registered('VENUE_NOT_FOUND'),
    metric: 'rejected',
    detail: (o) => `Event ${o.eventId} takes place at ${o.venueId}, not ${o.asked}`,
  },
  'zone-not-found': {
    ...registered('ZONE_NOT_FOUND'),
    metric: 'rejected',
    detail: (o) => `Event ${o.eventId} has no zone ${o.zoneId}`,
  },
  'not-on-sale': {
    ...own('EVENT_NOT_ON_SALE', 409, 'The event is not on sale'),
    metric: 'rejected',
    detail: (o) => `Event ${o.eventId} is ${o.state}`,
  },
  'outside-sales-window': {
    ...own('SALES_WINDOW_CLOSED', 409, 'The event is outside its sales window'),
    metric: 'rejected',
    detail: (o) => `Sales for ${o.eventId} run from ${o.opensAt ?? 'now'} to ${o.closesAt ?? 'the event'}`,
  },
  'too-many-seats': {
    ...own('TOO_MANY_SEATS', 400, 'More seats were requested than one purchase may hold'),
    metric: 'rejected',
    detail: (o) => `At most ${o.limit} seats per purchase for this event; you asked for ${o.asked}`,
    extra: (o) => ({ limit: o.limit }),
  },
  'buyer-limit-reached': {
    ...registered('BUYER_LIMIT_REACHED'),
    metric: 'rejected',
    detail: (o) =>
      `This buyer may hold or buy ${o.left} more seat(s) for this event (limit ${o.limit}, counting holds and purchases in every zone); ask for fewer seats, or release a hold`,
    extra: (o) => ({ left: o.left, limit: o.limit }),
  },
  'seat-outside-layout': {
    ...own('SEAT_OUTSIDE_LAYOUT', 400, 'A requested seat does not exist in the zone layout'),
    metric: 'rejected',
    detail: (o) =>
      o.seats[0]
        ? `Row ${o.seats[0].row}, seat ${o.seats[0].column} is not in zone ${o.zoneId}`
        : `A seat is outside the layout of zone ${o.zoneId}`,
    extra: (o) => ({ seats: o.seats }),
  },
  'duplicate-seat': {
    ...own('DUPLICATE_SEAT', 400, 'The same seat appears more than once in the request'),
    metric: 'rejected',
    detail: (o) =>
      o.seats[0] ? `Row ${o.seats[0].row}, seat ${o.seats[0].column} appears twice` : 'The same seat appears more than once in the request',
    extra: (o) => (o.seats.length > 0 ? { seats: o.seats } : {}),
  },
  'seats-taken': {
    ...own('SEATS_TAKEN', 409, 'One or more requested seats are already taken'),
    metric: 'conflict',
    conflict: 'seat_taken',
    detail: (o) => `Already taken: ${seatNames(o.seats)}`,
    extra: (o) => ({ seats: o.seats }),
  },
  'zone-sold-out': {
    ...own('ZONE_SOLD_OUT', 409, 'The zone is sold out'),
    metric: 'sold_out',
    conflict: 'zone_sold_out',
    detail: (o) => `Zone ${o.zoneId} of ${o.eventId} is sold out`,
    extra: (o) => (o.left === undefined ? {} : { left: o.left }),
  },
  'inventory-rebuilding': {
    ...registered('INVENTORY_REBUILDING'),
    metric: 'unavailable',
    detail: (o) =>
      o.zoneId === undefined
        ? `Event ${o.eventId} is being restored into the live inventory; try again shortly`
        : `Zone ${o.zoneId} of ${o.eventId} has no live inventory yet; try again shortly`,
  },
  'layout-changed': {
    ...inventoryUnavailable,
    metric: 'unavailable',
    detail: () => 'The zone layout changed while you were buying; try again',
  },
  'inventory-unavailable': {
    ...inventoryUnavailable,
    metric: 'unavailable',
    detail: (o) => o.why,
  },
  'log-unavailable': {
    ...own('KAFKA_UNAVAILABLE', 503, 'Purchases are paused: the event log is unreachable; nothing was sold'),
    metric: 'unavailable',
    detail: () => 'The event log is unreachable; nothing was sold, try again shortly',
  },
  unknown: {
    ...registered('PURCHASE_OUTCOME_UNKNOWN'),
    metric: 'unknown',
    detail: (o) => (o.next ? `${o.why}; ${o.next}` : `${o.why}. GET /api/v1/purchases/${o.purchaseId} tells the final outcome.`),
    extra: (o) => ({ purchaseId: o.purchaseId }),
  },
};

/** The confirmed outcome's answer; the body is the route's (a ticket or a purchase). */
export const CONFIRMED = {
  status: 201,
  metric: 'confirmed' satisfies AttemptLabel,
  description: 'Confirmed: Kafka acknowledged the record (acks=all)',
} as const;

/** The problem answer of an outcome. Outcomes are answers, not faults: no stack trace is captured. */
export function problemOf(o: Unconfirmed): ApiError {
  const row = OUTCOMES[o.kind] as Answer<Unconfirmed>;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ApiError(row.code, row.detail(o), row.extra ? row.extra(o) : {}, row.spec);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

type Labels = { readonly metric: AttemptLabel; readonly conflict?: ConflictReason };

/** Per code: its spec and metrics labels. A code two rows share must mean the same (checked here at load). */
const BY_CODE = new Map<string, { spec: ProblemSpec; labels: Labels }>();
for (const row of Object.values(OUTCOMES) as Answer<unknown>[]) {
  const seen = BY_CODE.get(row.code);
  if (
    seen &&
    (seen.spec.status !== row.spec.status ||
      seen.spec.title !== row.spec.title ||
      seen.labels.metric !== row.metric ||
      seen.labels.conflict !== row.conflict)
  ) {
    throw new Error(`Outcome table: two rows answer ${row.code} with different statuses, titles or metrics; give one of them its own code`);
  }
  BY_CODE.set(row.code, { spec: row.spec, labels: { metric: row.metric, ...(row.conflict ? { conflict: row.conflict } : {}) } });
}
for (const [code, { spec }] of BY_CODE) {
  const registry = ERRORS[code as ErrorCode] as ProblemSpec | undefined;
  if (registry && spec !== registry) {
    throw new Error(
      `Outcome table: ${code} is in the registry (src/shared/errors.ts); use registered('${code}') instead of defining it again`,
    );
  }
}

/** The codes a purchase outcome may answer with (the purchase routes document them). */
export const OUTCOME_CODES: readonly string[] = [...BY_CODE.keys()];

/** Every code the API answers with, and its status and title: the registry plus this table's own codes. */
export const PROBLEMS: Readonly<Record<string, ProblemSpec>> = {
  ...ERRORS,
  ...Object.fromEntries([...BY_CODE].map(([code, v]) => [code, v.spec])),
};

const REJECTED: Labels = { metric: 'rejected' };
const UNAVAILABLE: Labels = { metric: 'unavailable' };

/** The metrics labels of an error a purchase route answered with: an outcome's, else by its status. */
export function attemptMetrics(err: ApiError): Labels {
  return BY_CODE.get(err.code)?.labels ?? (err.status >= 500 ? UNAVAILABLE : REJECTED);
}
