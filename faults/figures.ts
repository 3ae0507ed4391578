/**
 * The suite's verdict, computed from sets: what every buyer was told (all attempts, and the
 * polled outcome of every 503 that carried a purchase id) against what the stores hold at the
 * end. Each problem is one key (a seat, a ticket or a request) attributed to exactly one fault
 * phase, so a phase's figure is the size of its set and the total is their union.
 */
import { seatKey } from '../load/scenarios';
import { PROBLEMS } from '../src/http/outcomes';
import type { FinalState, StoredTicket } from './observe';
import type { Attempt, Buy } from './plan';
import type { Settled } from './settle';

export const FIGURES = ['oversold', 'confirmedMissing', 'stranded', 'duplicates', 'wrongAnswers', 'badAnswers', 'auditDrift'] as const;
export type Figure = (typeof FIGURES)[number];

export const FIGURE_TITLES: Record<Figure, string> = {
  oversold: 'oversold',
  confirmedMissing: 'confirmed-but-missing',
  stranded: 'stranded',
  duplicates: 'duplicates',
  wrongAnswers: 'wrong answers',
  badAnswers: 'bad answers',
  auditDrift: 'audit drift',
};

export interface PhaseInfo {
  /** Buyer requests whose first attempt went out in this phase. */
  requests: number;
  /** Final belief of those buyers: bought, told nothing was sold, or never learnt. */
  bought: number;
  nothing: number;
  unknown: number;
  /** Attempts beyond the first (browser retries). */
  retries: number;
  /** 503 answers that carried a purchase id (outcome unknown at the time). */
  unknownOutcomes: number;
}

export interface PhaseFigures {
  problems: Record<Figure, Set<string>>;
  info: PhaseInfo;
}

export interface FiguresInput {
  phaseStarts: number[];
  buys: Buy[];
  settled: Map<string, Settled>;
  state: FinalState;
  /** Seat keys the audit reported as drift. */
  auditDrift: string[];
}

export type Belief = { kind: 'bought'; purchaseId: string } | { kind: 'nothing'; why: string } | { kind: 'unknown'; why: string };

const ALLOWED_409 = new Set(['SEATS_TAKEN', 'ZONE_SOLD_OUT', 'IDEMPOTENCY_IN_FLIGHT']);
/** A 503 may carry any dependency-failure code of the registry or the outcome table. */
const ALLOWED_503 = new Set(
  Object.entries(PROBLEMS)
    .filter(([, e]) => e.status === 503)
    .map(([code]) => code),
);

/** Why an answer breaks the API's contract (invariant 7, all or nothing), or undefined when it does not. */
export function badAnswer(buy: Buy, a: Attempt): string | undefined {
  if (a.status === 0) return undefined;
  if (a.status === 201) {
    if (!a.purchaseId) return '201 without a purchaseId';
    const got = new Set((a.tickets ?? []).map((t) => `${t.row}/${t.column}`));
    const want = new Set(buy.seats.map((s) => `${s.row}/${s.column}`));
    if (got.size !== want.size || [...want].some((s) => !got.has(s)))
      return `201 sold ${[...got].join(',')} for a request of ${[...want].join(',')}`;
    return undefined;
  }
  if (a.status === 409) return ALLOWED_409.has(a.code ?? '') ? undefined : `409 ${a.code ?? '(no code)'}`;
  if (a.status === 503) return ALLOWED_503.has(a.code ?? '') ? undefined : `503 ${a.code ?? '(no code)'}`;
  return `${a.status} ${a.code ?? a.error ?? ''}`.trim();
}

/**
 * What the buyer believes in the end, from the answers in order: a 201 is a sale; the last answer
 * 409 (taken, sold out) or 503 without a purchase id says nothing was sold; a 503 with a purchase
 * id is resolved by polling it. When the last answer claims nothing (no answer, in flight, another
 * 5xx), a purchase id heard earlier is what the buyer polls.
 */
export function beliefOf(buy: Buy, settled: Map<string, Settled>): Belief {
  const sale = buy.attempts.find((a) => a.status === 201 && a.purchaseId);
  if (sale) return { kind: 'bought', purchaseId: sale.purchaseId! };
  const polled = (id: string): Belief => {
    const s = settled.get(id)?.state ?? 'NO_ANSWER';
    if (s === 'CONFIRMED') return { kind: 'bought', purchaseId: id };
    if (s === 'VOIDED' || s === 'NOT_FOUND') return { kind: 'nothing', why: `503 ${id}, then GET said ${s}` };
    return { kind: 'unknown', why: `503 ${id}, then GET said ${s}` };
  };
  const last = buy.attempts.at(-1);
  if (!last) return { kind: 'unknown', why: 'never sent' };
  if (last.status === 409 && last.code !== 'IDEMPOTENCY_IN_FLIGHT') return { kind: 'nothing', why: `409 ${last.code}` };
  if (last.status === 503 && last.purchaseId) return polled(last.purchaseId);
  if (last.status === 503) return { kind: 'nothing', why: `503 ${last.code} (nothing sold)` };
  const heard = buy.attempts.filter((a) => a.purchaseId).map((a) => a.purchaseId!);
  if (heard.length > 0) {
    const beliefs = heard.map(polled);
    return beliefs.find((b) => b.kind === 'bought') ?? beliefs.find((b) => b.kind === 'unknown') ?? beliefs.at(-1)!;
  }
  return { kind: 'unknown', why: last.status === 0 ? `no answer (${last.error})` : `${last.status} ${last.code ?? ''}` };
}

/** A buyer's answers in order, compressed: `503 PURCHASE_OUTCOME_UNKNOWN <id> → 409 SEATS_TAKEN`. */
export function answersOf(b: Buy): string {
  const parts = b.attempts.map((a) => (a.status === 0 ? 'no answer' : [a.status, a.code, a.purchaseId].filter(Boolean).join(' ')));
  const runs: string[] = [];
  for (const p of parts) {
    const last = runs.at(-1);
    const m = last && /^(.*?)(?: x(\d+))?$/.exec(last);
    if (m && m[1] === p) runs[runs.length - 1] = `${p} x${Number(m[2] ?? 1) + 1}`;
    else runs.push(p);
  }
  return runs.join(' → ');
}

export function phaseOfTime(starts: number[], t: number): number {
  let p = 0;
  for (let i = 0; i < starts.length; i++) if (t >= starts[i]!) p = i;
  return p;
}

const groupBy = <T>(items: T[], key: (t: T) => string) => {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
};

export function computeFigures(input: FiguresInput): { phases: PhaseFigures[]; total: PhaseFigures } {
  const { buys, settled, state, phaseStarts } = input;
  const empty = (): PhaseFigures => ({
    problems: Object.fromEntries(FIGURES.map((f) => [f, new Set<string>()])) as Record<Figure, Set<string>>,
    info: { requests: 0, bought: 0, nothing: 0, unknown: 0, retries: 0, unknownOutcomes: 0 },
  });
  const phases = phaseStarts.map(empty);
  const lastPhase = phases.length - 1;
  const add = (phase: number, f: Figure, key: string) => phases[Math.max(0, Math.min(lastPhase, phase))]!.problems[f].add(key);

  // What the buyers heard, indexed.
  const seatOf = (b: Buy, t: { row: string; column: number }) => seatKey(b.zoneId, t);
  const buyOfPurchase = new Map<string, Buy>();
  const buyOfUser = new Map<string, Buy>();
  const buysOfSeat = new Map<string, Buy[]>();
  /** Tickets a buyer was told are theirs: ticket id → seat and buyer. */
  const heardTickets = new Map<string, { seat: string; buy: Buy }>();
  for (const b of buys) {
    if (b.userId) buyOfUser.set(b.userId, b);
    for (const s of b.seats) {
      const list = buysOfSeat.get(seatOf(b, s));
      if (list) list.push(b);
      else buysOfSeat.set(seatOf(b, s), [b]);
    }
    for (const a of b.attempts) {
      if (a.purchaseId) buyOfPurchase.set(a.purchaseId, b);
      if (a.status === 201) for (const t of a.tickets ?? []) heardTickets.set(t.ticketId, { seat: seatOf(b, t), buy: b });
    }
  }
  for (const [id, s] of settled) {
    const b = buyOfPurchase.get(id);
    if (s.state === 'CONFIRMED' && b) for (const t of s.tickets ?? []) heardTickets.set(t.ticketId, { seat: seatOf(b, t), buy: b });
  }

  const stored = [...state.dynamoTickets, ...state.mysqlTickets];
  const storedBySeat = groupBy(stored, (t) => t.seat);
  const mysqlBySeat = groupBy(state.mysqlTickets, (t) => t.seat);
  const buyOfStored = (t: StoredTicket) => buyOfPurchase.get(t.purchaseId) ?? buyOfUser.get(t.userId);
  /** The phase a seat's trouble belongs to: its sale's time, else the request that reserved it. */
  const seatPhase = (seat: string): number => {
    const sold = storedBySeat.get(seat)?.filter((t) => t.createdOn > 0);
    if (sold?.length) return phaseOfTime(phaseStarts, Math.max(...sold.map((t) => t.createdOn)));
    const pending = state.pending.find((p) => p.seats.includes(seat));
    const pendingBuy = pending && (buyOfPurchase.get(pending.purchaseId) ?? buyOfUser.get(pending.userId));
    if (pendingBuy) return pendingBuy.phase;
    if (pending?.reservedAt) return phaseOfTime(phaseStarts, pending.reservedAt);
    const asked = buysOfSeat.get(seat) ?? [];
    const unclear = asked.filter((b) => b.attempts.some((a) => a.status !== 409 && a.status !== 201));
    return (unclear.at(-1) ?? asked[0])?.phase ?? lastPhase;
  };

  // Oversold: a seat with more than one confirmed ticket across DynamoDB, MySQL and the answers.
  const heardBySeat = groupBy([...heardTickets], ([, h]) => h.seat);
  const seats = new Set([...state.dynamoSeats.keys(), ...storedBySeat.keys(), ...heardBySeat.keys()]);
  for (const seat of seats) {
    const tickets = new Set<string>();
    const ds = state.dynamoSeats.get(seat);
    if (ds) tickets.add(ds);
    for (const t of storedBySeat.get(seat) ?? []) tickets.add(t.ticketId);
    const heardHere = heardBySeat.get(seat) ?? [];
    for (const [id] of heardHere) tickets.add(id);
    if (tickets.size > 1) add(heardHere.length ? Math.max(...heardHere.map(([, h]) => h.buy.phase)) : seatPhase(seat), 'oversold', seat);
  }

  // Confirmed but missing: a ticket a buyer was told is theirs that DynamoDB or MySQL does not hold.
  for (const [ticketId, h] of heardTickets) {
    const inMysql = (mysqlBySeat.get(h.seat) ?? []).some((t) => t.ticketId === ticketId);
    if (state.dynamoSeats.get(h.seat) !== ticketId || !inMysql) add(h.buy.phase, 'confirmedMissing', ticketId);
  }

  // Stranded: taken in Redis, but no record of the seat reached the write model.
  for (const seat of state.redisTaken) if (!state.dynamoSeats.has(seat)) add(seatPhase(seat), 'stranded', seat);

  // Duplicates: a seat or ticket twice in one store, or one buyer request stored as two purchases.
  for (const [name, list] of [
    ['dynamodb', state.dynamoTickets],
    ['mysql', state.mysqlTickets],
  ] as const) {
    for (const [seat, ts] of groupBy(list, (t) => t.seat))
      if (new Set(ts.map((t) => t.ticketId)).size > 1) add(seatPhase(seat), 'duplicates', `${name} seat ${seat}`);
    for (const [id, ts] of groupBy(list, (t) => t.ticketId))
      if (ts.length > 1) add(seatPhase(ts[0]!.seat), 'duplicates', `${name} ticket ${id}`);
  }
  const purchasesOfBuy = new Map<Buy, Set<string>>();
  for (const t of stored) {
    const b = buyOfStored(t);
    if (b) purchasesOfBuy.set(b, (purchasesOfBuy.get(b) ?? new Set()).add(t.purchaseId));
  }
  for (const [b, ids] of purchasesOfBuy)
    if (ids.size > 1) add(b.phase, 'duplicates', `request ${b.index} stored as ${[...ids].join(' and ')}`);

  // Wrong answers: told nothing was sold, while the stores hold the request's seats for it.
  const wronged = new Set<Buy>();
  for (const b of buys) {
    const info = phases[Math.max(0, b.phase)]!.info;
    info.requests++;
    info.retries += Math.max(0, b.attempts.length - 1);
    info.unknownOutcomes += b.attempts.filter((a) => a.status === 503 && a.purchaseId).length;
    for (const a of b.attempts) {
      const bad = badAnswer(b, a);
      if (bad) add(b.phase, 'badAnswers', `request ${b.index}: ${bad}`);
    }
    const belief = beliefOf(b, settled);
    info[belief.kind === 'bought' ? 'bought' : belief.kind]++;
    if (belief.kind !== 'nothing') continue;
    const own = b.seats.flatMap((s) => storedBySeat.get(seatOf(b, s)) ?? []).find((t) => buyOfStored(t) === b);
    if (own) wronged.add(b);
    if (own)
      add(
        b.phase,
        'wrongAnswers',
        `request ${b.index} [${b.route} ${b.seats.map((s) => seatOf(b, s)).join(',')}: ${answersOf(b)}] owns ${own.seat} as ${own.purchaseId}`,
      );
  }

  // The route buyers are told to poll must not deny a purchase the stores hold (even to a buyer who heard more later).
  const storedPurchases = new Set(stored.map((t) => t.purchaseId));
  for (const [id, s] of settled) {
    const b = buyOfPurchase.get(id);
    if ((s.state === 'NOT_FOUND' || s.state === 'VOIDED') && storedPurchases.has(id) && !(b && wronged.has(b)))
      add(
        b?.phase ?? lastPhase,
        'wrongAnswers',
        `GET /api/v1/purchases/${id} said ${s.state}, but the stores hold it (request ${b?.index ?? '?'})`,
      );
  }

  for (const seat of input.auditDrift) add(seatPhase(seat), 'auditDrift', seat);

  const total = empty();
  for (const p of phases) {
    for (const f of FIGURES) for (const k of p.problems[f]) total.problems[f].add(k);
    for (const k of Object.keys(total.info) as (keyof PhaseInfo)[]) total.info[k] += p.info[k];
  }
  return { phases, total };
}
