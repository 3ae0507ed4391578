import { allowedStatuses, seatKey, type PlannedRequest, type ScenarioPlan, type Seat } from '../scenarios';
import type { Outcome } from './client';

/** The seats a store says are sold, read after the run. */
export interface InventoryView {
  /** Seat key (zone/row/column) → ticket id, or null where the store keeps no ticket ids (the Redis bitmap). */
  sold: Map<string, string | null>;
  soldOutZones: Set<string>;
  /** The count endpoint's total, when it was read. */
  countTotal?: number;
  /** Inconsistencies found while reading the store itself (e.g. bitmap vs counters). */
  problems: string[];
}

/** One purchase as the event log (Kafka) holds it. */
export interface LoggedPurchase {
  purchaseId: string;
  zoneId: string;
  tickets: { ticketId: string; row: string; column: number }[];
}

export interface VerifyInput {
  plan: ScenarioPlan;
  setupOutcomes: Outcome[];
  outcomes: Outcome[];
  inventory: InventoryView;
  /** The event's purchases in the event log; absent when the backend writes none (the SQL baseline). */
  log?: LoggedPurchase[];
}

export interface Verdict {
  correct: boolean;
  problems: string[];
  confirmed: number;
  conflicts: number;
  reads: number;
}

const MAX_PROBLEMS = 40;

class Problems {
  readonly list: string[] = [];
  private dropped = 0;
  add(msg: string) {
    if (this.list.length < MAX_PROBLEMS) this.list.push(msg);
    else this.dropped++;
  }
  done(): string[] {
    return this.dropped > 0 ? [...this.list, `… and ${this.dropped} more problems`] : this.list;
  }
}

const describe = (o: Outcome) => `${o.status}${o.code ? ` ${o.code}` : ''}${o.error ? ` (${o.error})` : ''}`;
const sameSeats = (a: Seat[], b: Seat[]) =>
  a.length === b.length && a.every((s) => b.some((t) => t.row === s.row && String(t.column) === String(s.column)));

/**
 * Checks a run by comparing sets, not counts: the seat → ticket id map built from the 201
 * answers must equal what the inventory holds and what the event log holds; no seat may be
 * sold twice; a multi-seat purchase is all or nothing; a 409 must point at seats that some
 * confirmed purchase really holds; and the statuses must be exactly those the plan allows.
 */
export function verifyRun(input: VerifyInput): Verdict {
  const { plan, inventory } = input;
  const problems = new Problems();
  for (const p of inventory.problems) problems.add(p);
  const heard = new Map<string, { ticketId: string; purchaseId: string }>();
  const heardPurchases = new Set<string>();
  let confirmed = 0;
  let conflicts = 0;
  let reads = 0;

  const check = (req: PlannedRequest | undefined, o: Outcome | undefined, where: string, isSetup: boolean) => {
    if (!req) return;
    if (!o) return problems.add(`${where}: no answer recorded`);
    if (!allowedStatuses(req).includes(o.status) || (isSetup && o.status !== 201)) {
      return problems.add(
        `${where} (${req.route} ${req.zoneId} ${req.seats.map((s) => s.row + s.column).join(',')}): got ${describe(o)}, expected ${isSetup ? '201' : allowedStatuses(req).join(' or ')}`,
      );
    }
    if (o.status === 200) return void (isSetup || reads++);
    if (o.status === 409) {
      if (!isSetup) conflicts++;
      if (o.code !== 'SEATS_TAKEN' && o.code !== 'ZONE_SOLD_OUT')
        problems.add(`${where}: 409 with code ${o.code}, expected SEATS_TAKEN or ZONE_SOLD_OUT`);
      return;
    }
    if (!isSetup) confirmed++;
    const tickets = o.tickets ?? [];
    if (!o.purchaseId) problems.add(`${where}: 201 without a purchaseId`);
    else heardPurchases.add(o.purchaseId);
    if (!sameSeats(tickets, req.seats)) {
      problems.add(
        `${where}: 201 sold ${tickets.map((t) => t.row + t.column).join(',')} for a request of ${req.seats.map((s) => s.row + s.column).join(',')} (not all or nothing)`,
      );
    }
    for (const t of tickets) {
      const key = seatKey(req.zoneId, t);
      const before = heard.get(key);
      if (before) problems.add(`seat ${key} sold twice: tickets ${before.ticketId} and ${t.ticketId}`);
      else heard.set(key, { ticketId: t.ticketId, purchaseId: o.purchaseId ?? '' });
    }
  };
  plan.setup.forEach((req, i) => check(req, input.setupOutcomes[i], `setup request ${i}`, true));
  plan.requests.forEach((req, i) => check(req, input.outcomes[i], `request ${i}`, false));

  // A conflict must be real: the seats it named are held by a purchase a buyer heard of.
  plan.requests.forEach((req, i) => {
    const o = input.outcomes[i];
    if (o?.status !== 409) return;
    if (o.code === 'SEATS_TAKEN') {
      const named = o.taken ?? [];
      if (named.length === 0) problems.add(`request ${i}: SEATS_TAKEN without the taken seats`);
      for (const s of named) {
        if (!req.seats.some((r) => r.row === s.row && String(r.column) === String(s.column)))
          problems.add(`request ${i}: SEATS_TAKEN names ${s.row}${s.column}, which it did not ask for`);
        else if (!heard.has(seatKey(req.zoneId, s)))
          problems.add(`request ${i}: SEATS_TAKEN for ${seatKey(req.zoneId, s)}, but no confirmed purchase holds it`);
      }
    } else if (o.code === 'ZONE_SOLD_OUT' && !inventory.soldOutZones.has(req.zoneId)) {
      problems.add(`request ${i}: ZONE_SOLD_OUT for zone ${req.zoneId}, which is not sold out`);
    }
  });

  const exp = plan.expect;
  if (exp.confirmed !== undefined && confirmed !== exp.confirmed) problems.add(`expected exactly ${exp.confirmed} × 201, got ${confirmed}`);
  if (exp.conflicts !== undefined && conflicts !== exp.conflicts) problems.add(`expected exactly ${exp.conflicts} × 409, got ${conflicts}`);
  for (const zoneId of exp.soldOutZones ?? [])
    if (!inventory.soldOutZones.has(zoneId)) problems.add(`zone ${zoneId} should be sold out and is not`);

  // The inventory holds exactly the seats the buyers were told they have.
  compareMaps(heard, inventory.sold, 'the inventory', problems);
  if (inventory.countTotal !== undefined && inventory.countTotal !== heard.size) {
    problems.add(`the count endpoint says ${inventory.countTotal} sold, the 201 answers ${heard.size}`);
  }

  if (input.log) {
    const logged = new Map<string, string>();
    const byPurchase = new Map<string, LoggedPurchase>();
    for (const p of input.log) {
      const seen = byPurchase.get(p.purchaseId);
      if (seen) {
        // A re-sent record (recovery sweep) must repeat the same tickets.
        if (JSON.stringify(seen.tickets) !== JSON.stringify(p.tickets))
          problems.add(`purchase ${p.purchaseId} is in the event log twice with different tickets`);
        continue;
      }
      byPurchase.set(p.purchaseId, p);
      if (!heardPurchases.has(p.purchaseId)) problems.add(`purchase ${p.purchaseId} is in the event log but no buyer heard 201 for it`);
      for (const t of p.tickets) {
        const key = seatKey(p.zoneId, t);
        const before = logged.get(key);
        if (before !== undefined) problems.add(`seat ${key} sold twice in the event log: ${before} and ${t.ticketId}`);
        else logged.set(key, t.ticketId);
      }
    }
    compareMaps(heard, logged, 'the event log', problems);
  }

  const list = problems.done();
  return { correct: list.length === 0, problems: list, confirmed, conflicts, reads };
}

function compareMaps(heard: Map<string, { ticketId: string }>, store: Map<string, string | null>, name: string, problems: Problems) {
  for (const [key, h] of heard) {
    if (!store.has(key)) problems.add(`seat ${key} was sold (ticket ${h.ticketId}) but ${name} does not hold it`);
    else {
      const ticket = store.get(key);
      if (ticket !== null && ticket !== h.ticketId) problems.add(`seat ${key}: the buyer holds ticket ${h.ticketId}, ${name} ${ticket}`);
    }
  }
  for (const [key, ticket] of store) {
    if (!heard.has(key)) problems.add(`seat ${key} is sold in ${name}${ticket ? ` (ticket ${ticket})` : ''} but no buyer heard 201 for it`);
  }
}
