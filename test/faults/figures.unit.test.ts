import { answersOf, badAnswer, beliefOf, computeFigures, phaseOfTime, type Figure } from '../../faults/figures';
import type { FinalState, StoredTicket } from '../../faults/observe';
import type { Attempt, Buy } from '../../faults/plan';
import type { Settled } from '../../faults/settle';

/**
 * The fault suite's verdict (`npm run faults`) on hand-made outcomes: each figure must catch the
 * case it names, attribute it to the phase of the request or sale, and stay 0 for a clean sale.
 * Pure logic on sets; the suite itself runs against the real services.
 */
let n = 0;
function buy(phase: number, seats: string[], attempts: Partial<Attempt>[], userId?: string): Buy {
  const index = n++;
  return {
    index,
    route: seats.length > 1 ? 'purchases' : 'tickets',
    zoneId: '1',
    seats: seats.map((s) => ({ row: s[0]!, column: Number(s.slice(1)) })),
    ...(userId ? { userId } : {}),
    idempotencyKey: `k${index}`,
    call: { method: 'POST', path: '/api/v1/tickets' },
    phase,
    attempts: attempts.map((a, i) => ({ at: i, status: 201, ...a })),
  };
}
const ticket = (purchaseId: string, seat: string, userId = 'anonymous', createdOn = 10): StoredTicket => ({
  ticketId: `${purchaseId}.1`,
  purchaseId,
  userId,
  seat: `1/${seat[0]}/${seat.slice(1)}`,
  createdOn,
});
const sold = (purchaseId: string, seat: string) => ({
  status: 201,
  purchaseId,
  tickets: [{ ticketId: `${purchaseId}.1`, row: seat[0]!, column: Number(seat.slice(1)) }],
});

function state(tickets: { dynamo: StoredTicket[]; mysql: StoredTicket[]; redis: string[] }): FinalState {
  return {
    redisTaken: new Set(tickets.redis.map((s) => `1/${s[0]}/${s.slice(1)}`)),
    redisMissingZones: [],
    pending: [],
    dynamoSeats: new Map(tickets.dynamo.map((t) => [t.seat, t.ticketId])),
    dynamoTickets: tickets.dynamo,
    mysqlTickets: tickets.mysql,
  };
}

const sorted = (r: ReturnType<typeof computeFigures>, f: Figure, phase?: number) =>
  [...(phase === undefined ? r.total : r.phases[phase]!).problems[f]].sort();

test('a clean run has every figure 0', () => {
  const b = [buy(0, ['A1'], [sold('P0', 'A1')]), buy(1, ['A1'], [{ status: 409, code: 'SEATS_TAKEN' }])];
  const t = [ticket('P0', 'A1')];
  const r = computeFigures({
    phaseStarts: [0, 100],
    buys: b,
    settled: new Map(),
    state: state({ dynamo: t, mysql: t, redis: ['A1'] }),
    auditDrift: [],
  });
  for (const f of ['oversold', 'confirmedMissing', 'stranded', 'duplicates', 'wrongAnswers', 'badAnswers', 'auditDrift'] as Figure[])
    expect(sorted(r, f)).toEqual([]);
  expect(r.total.info).toMatchObject({ requests: 2, bought: 1, nothing: 1, unknown: 0 });
});

test('each figure catches its case, in the phase it happened', () => {
  // Phase 1: told 503 with a purchase id, retried with the same key, told 409 — yet the first purchase was confirmed.
  const retried = buy(
    1,
    ['A2'],
    [
      { status: 503, code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId: 'P1' },
      { status: 409, code: 'SEATS_TAKEN' },
    ],
  );
  // Phase 1: a 201 whose ticket never reached DynamoDB; its seat stays taken in Redis.
  const lost = buy(1, ['A3'], [sold('P2', 'A3')]);
  // Phase 0: a seat held in Redis by a purchase that reached no store (polled: not found).
  const held = buy(0, ['A4'], [{ status: 503, code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId: 'P3' }]);
  // Phase 1: two buyers told 201 for one seat.
  const first = buy(0, ['A5'], [sold('P4', 'A5')]);
  const second = buy(1, ['A5'], [sold('P5', 'A5')]);
  // Phase 0: one buyer's request stored as two purchases (linked by its own userId).
  const twice = buy(
    0,
    ['B1', 'B2'],
    [
      { status: 0, error: 'socket hang up' },
      { status: 409, code: 'SEATS_TAKEN' },
    ],
    'u-twice',
  );
  // Phase 1: a 201 that sold another seat than asked, and a 500.
  const wrongSeat = buy(1, ['C1'], [sold('P6', 'C2')]);
  const crashed = buy(1, ['C3'], [{ status: 500, code: 'INTERNAL' }]);
  // An anonymous buyer with no answer then 409: its sale cannot be traced to it, so it is not counted.
  const anon = buy(
    0,
    ['D1'],
    [
      { status: 0, error: 'ECONNRESET' },
      { status: 409, code: 'SEATS_TAKEN' },
    ],
  );
  // Phase 0: the purchase route says "not found" for a purchase the stores hold (the buyer got its 201 on a retry).
  const denied = buy(0, ['D2'], [{ status: 503, code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId: 'P7' }, sold('P7', 'D2')]);

  // Sales carry the time they were made: 10 is in phase 0, 150 in phase 1.
  const dynamo = [
    ticket('P1', 'A2', 'anonymous', 150),
    ticket('P4', 'A5'),
    ticket('Q1', 'B1', 'u-twice'),
    ticket('Q2', 'B2', 'u-twice'),
    ticket('P6', 'C2', 'anonymous', 150),
    ticket('P9', 'D1'),
    ticket('P7', 'D2'),
  ];
  const mysql = [...dynamo, ticket('P2', 'A3', 'anonymous', 150)];
  const settled = new Map<string, Settled>([
    ['P1', { state: 'CONFIRMED', tickets: [{ ticketId: 'P1.1', row: 'A', column: 2 }] }],
    ['P3', { state: 'NOT_FOUND' }],
    ['P7', { state: 'NOT_FOUND' }],
  ]);
  const r = computeFigures({
    phaseStarts: [0, 100],
    buys: [retried, lost, held, first, second, twice, wrongSeat, crashed, anon, denied],
    settled,
    state: state({ dynamo, mysql, redis: ['A2', 'A3', 'A4', 'A5', 'B1', 'B2', 'C2', 'D1', 'D2'] }),
    auditDrift: ['1/A/3'],
  });

  expect(sorted(r, 'wrongAnswers', 1)).toEqual([
    `request ${retried.index} [tickets 1/A/2: 503 PURCHASE_OUTCOME_UNKNOWN P1 → 409 SEATS_TAKEN] owns 1/A/2 as P1`,
  ]);
  expect(sorted(r, 'wrongAnswers', 0)).toEqual([
    'GET /api/v1/purchases/P7 said NOT_FOUND, but the stores hold it (request ' + denied.index + ')',
    `request ${twice.index} [purchases 1/B/1,1/B/2: no answer → 409 SEATS_TAKEN] owns 1/B/1 as Q1`,
  ]);
  expect(sorted(r, 'confirmedMissing')).toEqual(['P2.1', 'P5.1']);
  expect(sorted(r, 'confirmedMissing', 1)).toEqual(['P2.1', 'P5.1']);
  expect(sorted(r, 'stranded')).toEqual(['1/A/3', '1/A/4']);
  expect(sorted(r, 'stranded', 0)).toEqual(['1/A/4']);
  expect(sorted(r, 'oversold', 1)).toEqual(['1/A/5']);
  expect(sorted(r, 'duplicates', 0)).toEqual([`request ${twice.index} stored as Q1 and Q2`]);
  expect(sorted(r, 'badAnswers', 1)).toEqual(
    [`request ${wrongSeat.index}: 201 sold C/2 for a request of C/1`, `request ${crashed.index}: 500 INTERNAL`].sort(),
  );
  expect(sorted(r, 'auditDrift')).toEqual(['1/A/3']);
  expect(r.total.info.unknownOutcomes).toBe(3);
});

test('what a buyer believes: the last word, a polled purchase id, or nothing learnt', () => {
  const settled = new Map<string, Settled>([
    ['P', { state: 'CONFIRMED' }],
    ['V', { state: 'VOIDED' }],
    ['W', { state: 'PENDING' }],
  ]);
  expect(beliefOf(buy(0, ['A1'], [{ status: 503, code: 'KAFKA_UNAVAILABLE' }]), settled)).toMatchObject({ kind: 'nothing' });
  expect(beliefOf(buy(0, ['A1'], [{ status: 503, purchaseId: 'P' }, { status: 0 }]), settled)).toEqual({ kind: 'bought', purchaseId: 'P' });
  expect(
    beliefOf(
      buy(
        0,
        ['A1'],
        [
          { status: 503, purchaseId: 'P' },
          { status: 503, code: 'KAFKA_UNAVAILABLE' },
        ],
      ),
      settled,
    ),
  ).toMatchObject({ kind: 'nothing' });
  expect(beliefOf(buy(0, ['A1'], [{ status: 503, purchaseId: 'V' }]), settled)).toMatchObject({ kind: 'nothing' });
  expect(beliefOf(buy(0, ['A1'], [{ status: 503, purchaseId: 'W' }]), settled)).toMatchObject({ kind: 'unknown' });
  expect(beliefOf(buy(0, ['A1'], [{ status: 409, code: 'IDEMPOTENCY_IN_FLIGHT' }]), settled)).toMatchObject({ kind: 'unknown' });
  expect(answersOf(buy(0, ['A1'], [{ status: 0 }, { status: 0 }, { status: 409, code: 'IDEMPOTENCY_IN_FLIGHT' }]))).toBe(
    'no answer x2 → 409 IDEMPOTENCY_IN_FLIGHT',
  );
  expect([phaseOfTime([0, 100, 200], 50), phaseOfTime([0, 100, 200], 100), phaseOfTime([0, 100, 200], 999)]).toEqual([0, 1, 2]);
});

test('every 503 code of the registry and of the outcome table is within the contract (KAFKA_UNAVAILABLE: nothing sold)', () => {
  for (const code of ['KAFKA_UNAVAILABLE', 'INVENTORY_UNAVAILABLE', 'INVENTORY_REBUILDING', 'PURCHASE_OUTCOME_UNKNOWN']) {
    expect([code, badAnswer(buy(0, ['Z9'], []), { status: 503, code } as Attempt)]).toEqual([code, undefined]);
  }
  expect(badAnswer(buy(0, ['Z9'], []), { status: 503, code: 'NO_SUCH_CODE' } as Attempt)).toBeDefined();
});
