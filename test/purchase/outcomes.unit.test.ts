import { readFileSync } from 'node:fs';
import path from 'node:path';
import { attemptMetrics, OUTCOME_CODES, OUTCOMES, PROBLEMS, problemOf } from '../../src/http/outcomes';
import { openApiDocument } from '../../src/http/openapi';
import type { Unconfirmed } from '../../src/purchase/engine';
import { ApiError, ERRORS, problemBody } from '../../src/shared/errors';

/**
 * The outcome table (src/http/outcomes.ts): each purchase outcome has one answer, the codes and
 * statuses stay the contract they were, and the OpenAPI document lists what the table says.
 * No service is needed.
 */

/** The problem codes, statuses and titles as they were before the outcome table: a contract. */
const CONTRACT: Record<string, [number, string]> = {
  MALFORMED_JSON: [400, 'The request body is not valid JSON'],
  VALIDATION_FAILED: [400, 'The request is missing fields or has fields of the wrong type'],
  SEAT_OUTSIDE_LAYOUT: [400, 'A requested seat does not exist in the zone layout'],
  DUPLICATE_SEAT: [400, 'The same seat appears more than once in the request'],
  TOO_MANY_SEATS: [400, 'More seats were requested than one purchase may hold'],
  INVALID_CURSOR: [400, 'The pagination cursor is not valid'],
  UNAUTHORIZED: [401, 'A valid admin bearer token is required'],
  NOT_FOUND: [404, 'No such resource'],
  EVENT_NOT_FOUND: [404, 'No such event'],
  VENUE_NOT_FOUND: [404, 'No such venue (or the event is not at that venue)'],
  ZONE_NOT_FOUND: [404, 'No such zone in this event'],
  TICKET_NOT_FOUND: [404, 'No such ticket'],
  PURCHASE_NOT_FOUND: [404, 'No such purchase'],
  METHOD_NOT_ALLOWED: [405, 'Method not allowed on this route'],
  SEATS_TAKEN: [409, 'One or more requested seats are already taken'],
  ZONE_SOLD_OUT: [409, 'The zone is sold out'],
  EVENT_NOT_ON_SALE: [409, 'The event is not on sale'],
  SALES_WINDOW_CLOSED: [409, 'The event is outside its sales window'],
  IDEMPOTENCY_IN_FLIGHT: [409, 'A request with this Idempotency-Key is still being processed'],
  BUYER_LIMIT_REACHED: [409, "The buyer's per-event limit of seats would be exceeded"],
  PAYLOAD_TOO_LARGE: [413, 'The request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'The request body must be application/json'],
  IDEMPOTENCY_KEY_REUSED: [422, 'This Idempotency-Key was used with a different request'],
  INTERNAL: [500, 'Internal error'],
  PURCHASE_OUTCOME_UNKNOWN: [503, 'The purchase outcome is not known yet; look it up by purchaseId'],
  KAFKA_UNAVAILABLE: [503, 'Purchases are paused: the event log is unreachable; nothing was sold'],
  INVENTORY_UNAVAILABLE: [503, 'Seat inventory is unavailable'],
  INVENTORY_REBUILDING: [503, 'The zone inventory is being rebuilt from the write model'],
  DEPENDENCY_UNAVAILABLE: [503, 'A dependency is unavailable'],
};

/** Examples of the outcome kinds, with the code and extra members each must answer with. */
const seat = { row: 'C', column: 12 };
const EXAMPLES: [Unconfirmed, string, Record<string, unknown>][] = [
  [{ kind: 'event-not-found', eventId: 'E' }, 'EVENT_NOT_FOUND', {}],
  [{ kind: 'venue-mismatch', eventId: 'E', venueId: 'V', asked: 'W' }, 'VENUE_NOT_FOUND', {}],
  [{ kind: 'zone-not-found', eventId: 'E', zoneId: 'Z' }, 'ZONE_NOT_FOUND', {}],
  [{ kind: 'not-on-sale', eventId: 'E', state: 'Draft' }, 'EVENT_NOT_ON_SALE', {}],
  [{ kind: 'outside-sales-window', eventId: 'E', closesAt: '2020-01-01T00:00:00Z' }, 'SALES_WINDOW_CLOSED', {}],
  [{ kind: 'too-many-seats', limit: 4, asked: 5 }, 'TOO_MANY_SEATS', { limit: 4 }],
  [{ kind: 'buyer-limit-reached', left: 1, limit: 4 }, 'BUYER_LIMIT_REACHED', { left: 1, limit: 4 }],
  [{ kind: 'seat-outside-layout', zoneId: 'Z', seats: [seat] }, 'SEAT_OUTSIDE_LAYOUT', { seats: [seat] }],
  [{ kind: 'duplicate-seat', seats: [seat] }, 'DUPLICATE_SEAT', { seats: [seat] }],
  [{ kind: 'duplicate-seat', seats: [] }, 'DUPLICATE_SEAT', {}],
  [{ kind: 'seats-taken', seats: [seat] }, 'SEATS_TAKEN', { seats: [seat] }],
  [{ kind: 'zone-sold-out', eventId: 'E', zoneId: 'Z' }, 'ZONE_SOLD_OUT', {}],
  [{ kind: 'inventory-rebuilding', eventId: 'E', zoneId: 'Z' }, 'INVENTORY_REBUILDING', {}],
  [{ kind: 'inventory-rebuilding', eventId: 'E' }, 'INVENTORY_REBUILDING', {}],
  [{ kind: 'layout-changed' }, 'INVENTORY_UNAVAILABLE', {}],
  [{ kind: 'inventory-unavailable', why: 'Nothing was sold: the database did not answer; try again' }, 'INVENTORY_UNAVAILABLE', {}],
  [{ kind: 'log-unavailable' }, 'KAFKA_UNAVAILABLE', {}],
  [
    { kind: 'unknown', purchaseId: 'E.Z.abc', why: 'Kafka did not acknowledge in time' },
    'PURCHASE_OUTCOME_UNKNOWN',
    { purchaseId: 'E.Z.abc' },
  ],
];

test('the API answers the same codes, statuses and titles as before the outcome table', () => {
  const now = Object.fromEntries(Object.entries(PROBLEMS).map(([code, p]) => [code, [p.status, p.title]]));
  // A new outcome may add a code; none of these may change or go.
  expect(Object.fromEntries(Object.keys(CONTRACT).map((code) => [code, now[code]]))).toEqual(CONTRACT);
});

test('each code is defined once: in the registry or in the outcome table', () => {
  for (const code of OUTCOME_CODES) {
    const row = Object.values(OUTCOMES).find((r) => r.code === code)!;
    if (code in ERRORS) expect([code, row.spec]).toEqual([code, ERRORS[code as keyof typeof ERRORS]]);
  }
  expect(new Set([...Object.keys(ERRORS), ...OUTCOME_CODES]).size).toBe(Object.keys(PROBLEMS).length);
});

test.each(EXAMPLES)('%o answers %s with its extra members, and no stack trace', (outcome, code, extra) => {
  const err = problemOf(outcome);
  expect(err).toBeInstanceOf(ApiError);
  const [status, title] = CONTRACT[code]!;
  expect(problemBody(err, '/x')).toEqual({
    type: `https://ticketing.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    code,
    detail: expect.any(String),
    instance: '/x',
    ...extra,
  });
  expect(err.message.length).toBeGreaterThan(10);
  // Outcomes are answers, thousands a second under contention: capturing a stack is waste.
  expect(err.stack ?? '').not.toMatch(/\n\s+at /);
});

test('an unknown outcome tells the buyer where the final outcome is, or what the engine says to do instead', () => {
  expect(problemOf({ kind: 'unknown', purchaseId: 'E.Z.abc', why: 'Kafka did not acknowledge in time' }).message).toBe(
    'Kafka did not acknowledge in time. GET /api/v1/purchases/E.Z.abc tells the final outcome.',
  );
  expect(
    problemOf({
      kind: 'unknown',
      purchaseId: 'E.Z.abc',
      why: 'The database did not confirm the commit of E.Z.abc',
      next: 'check the seat map before buying again',
    }).message,
  ).toBe('The database did not confirm the commit of E.Z.abc; check the seat map before buying again');
});

test('the purchase metrics labels follow the table, and other codes by their status', () => {
  const byCode: Record<string, Unconfirmed> = Object.fromEntries(EXAMPLES.map(([o, code]) => [code, o]));
  const labels = (code: string) => attemptMetrics(problemOf(byCode[code]!));
  expect(labels('SEATS_TAKEN')).toEqual({ metric: 'conflict', conflict: 'seat_taken' });
  expect(labels('ZONE_SOLD_OUT')).toEqual({ metric: 'sold_out', conflict: 'zone_sold_out' });
  expect(labels('PURCHASE_OUTCOME_UNKNOWN')).toEqual({ metric: 'unknown' });
  for (const code of ['KAFKA_UNAVAILABLE', 'INVENTORY_UNAVAILABLE', 'INVENTORY_REBUILDING'])
    expect(labels(code)).toEqual({ metric: 'unavailable' });
  for (const code of ['EVENT_NOT_FOUND', 'TOO_MANY_SEATS', 'BUYER_LIMIT_REACHED', 'EVENT_NOT_ON_SALE', 'SEAT_OUTSIDE_LAYOUT'])
    expect(labels(code)).toEqual({ metric: 'rejected' });
  // Not outcomes: the idempotency store's and the validation's codes.
  expect(attemptMetrics(new ApiError('IDEMPOTENCY_IN_FLIGHT'))).toEqual({ metric: 'rejected' });
  expect(attemptMetrics(new ApiError('VALIDATION_FAILED'))).toEqual({ metric: 'rejected' });
  expect(attemptMetrics(new ApiError('DEPENDENCY_UNAVAILABLE'))).toEqual({ metric: 'unavailable' });
  expect(attemptMetrics(new ApiError('PURCHASE_OUTCOME_UNKNOWN', 'still pending', { purchaseId: 'p' }))).toEqual({ metric: 'unknown' });
});

describe('the OpenAPI document', () => {
  type Responses = Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  const op = (p: string, m: string) => (openApiDocument.paths[p] as Record<string, { responses: Responses }>)[m]!;
  const codesAt = (responses: Responses, status: string) =>
    (
      (responses[status]?.content?.['application/problem+json']?.schema.allOf as Record<string, unknown>[] | undefined)?.[1] as {
        properties: { code: { enum: string[] } };
      }
    )?.properties.code.enum ?? [];

  test.each([
    ['/ticket', 'post'],
    ['/api/v1/tickets', 'post'],
    ['/api/v1/events/{eventId}/purchases', 'post'],
  ])('%s lists every outcome code under its status', (p, m) => {
    const { responses } = op(p, m);
    expect(Object.keys(responses)).toContain('201');
    for (const code of OUTCOME_CODES) expect(codesAt(responses, String(PROBLEMS[code]!.status))).toContain(code);
  });

  test('every error response of every route names only codes of its own status', () => {
    for (const [p, ops] of Object.entries(openApiDocument.paths)) {
      for (const [m, { responses }] of Object.entries(ops as Record<string, { responses: Responses }>)) {
        for (const status of Object.keys(responses).filter(
          (s) => /^[45]\d\d$/.test(s) && responses[s]!.content?.['application/problem+json'],
        )) {
          const codes = codesAt(responses, status);
          expect([p, m, status, codes.length > 0]).toEqual([p, m, status, true]);
          for (const code of codes) expect([p, m, code, PROBLEMS[code]?.status]).toEqual([p, m, code, Number(status)]);
        }
      }
    }
  });

  test('every JSON answer has a real schema, never a bare {type: object}', () => {
    const schemas = openApiDocument.components?.schemas ?? {};
    const real = (schema: Record<string, unknown>): boolean => {
      if (typeof schema.$ref === 'string')
        return real(schemas[schema.$ref.replace('#/components/schemas/', '')] as Record<string, unknown>);
      if (Array.isArray(schema.allOf)) return (schema.allOf as Record<string, unknown>[]).every(real);
      return schema.type !== 'object' || Object.keys((schema.properties as object | undefined) ?? {}).length > 0;
    };
    for (const [p, ops] of Object.entries(openApiDocument.paths)) {
      for (const [m, { responses }] of Object.entries(ops as Record<string, { responses: Responses }>)) {
        for (const [status, r] of Object.entries(responses)) {
          for (const [type, media] of Object.entries(r.content ?? {}))
            expect([p, m, status, type, real(media.schema)]).toEqual([p, m, status, type, true]);
        }
      }
    }
  });

  test('the Problem schema names every code the API answers with', () => {
    const problem = openApiDocument.components?.schemas?.Problem as { properties: { code: { enum: string[] } } };
    expect([...problem.properties.code.enum].sort()).toEqual(Object.keys(PROBLEMS).sort());
    for (const code of Object.keys(CONTRACT)) expect(problem.properties.code.enum).toContain(code);
  });
});

test('the engines answer in outcomes: they import no HTTP error, status or table', () => {
  for (const file of ['src/purchase/engine.ts', 'src/purchase/sql-engine.ts']) {
    const source = readFileSync(path.join(__dirname, '..', '..', file), 'utf8');
    expect([file, source.match(/from '\.\.\/(shared\/errors|http\/[^']+)'/g)]).toEqual([file, null]);
    expect([file, /\bApiError\b|\bstatus: \d{3}\b/.test(source)]).toEqual([file, false]);
  }
});
