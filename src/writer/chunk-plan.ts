import type { DecodedEvent } from '../events/ticket-events';
import type { TicketPurchased } from '../events/ticket-purchased';
import type { DeadLetter } from '../stream/consumer';
import { eventZoneKey, seatSortKey } from './tables';

/** A seat item as the write model holds it: the ticket on it, and whether that ticket was cancelled. */
export interface SeatState {
  ticketId: string;
  cancelled: boolean;
}

type Ticket = TicketPurchased['tickets'][number];

/** A ticket (and seat) item to write whole; `cancelledAt` when the chunk also cancelled it. */
export interface PlannedItem {
  record: TicketPurchased;
  ticket: Ticket;
  cancelledAt?: string;
}

/** What one chunk writes, decided in log order against the seats as the store holds them. */
export interface ChunkPlan {
  /** Ticket items to put (new sales), keyed by ticket id. */
  ticketPuts: Map<string, PlannedItem>;
  /** Ticket items already stored to mark cancelled (only if they exist). */
  ticketCancels: Map<string, string>;
  /** Seat items to put, keyed by seat: the last sale of the seat in the chunk. */
  seatPuts: Map<string, PlannedItem>;
  /** Seat items already stored to mark cancelled, only while they still hold that ticket. */
  seatCancels: { seat: string; ticketId: string; cancelledAt: string }[];
  /**
   * Sales of a seat another live ticket holds: a double sale upstream, dead-lettered, unless
   * the sale's own tickets were cancelled (an old sale delivered again after its seat was resold).
   */
  conflicts: { message: DecodedEvent['log']; record: TicketPurchased; ticket: Ticket; holder: string }[];
  ok: number;
  duplicate: number;
  deadLetters: DeadLetter[];
}

/** `<eventId>#<zoneId>|<row>#<seat>`: one seat across the chunk. */
export const seatKeyOf = (eventId: string, zoneId: string, t: { row: string; column: number }) =>
  `${eventZoneKey(eventId, zoneId)}|${seatSortKey(t.row, t.column)}`;

/**
 * Walks a chunk's events in log order over `held` (the seats the chunk touches, as stored; it is
 * updated as the walk goes). First record wins a seat; a cancelled seat is free for the next
 * sale, and keeps its cancelled ticket id so that a redelivered sale of that ticket is a
 * duplicate, never a resurrection:
 *
 * - a sale whose seats all hold its own tickets, or any holds its own ticket cancelled, is a
 *   duplicate;
 * - a sale of a seat held by another live ticket is a conflict (see `conflicts`);
 * - otherwise it is written;
 * - a cancellation marks its tickets cancelled, and its seats that still hold them; if none
 *   does (cancelled before, or never stored), it is a duplicate.
 */
export function planChunk(events: DecodedEvent[], held: Map<string, SeatState>): ChunkPlan {
  const plan: ChunkPlan = {
    ticketPuts: new Map(),
    ticketCancels: new Map(),
    seatPuts: new Map(),
    seatCancels: [],
    conflicts: [],
    ok: 0,
    duplicate: 0,
    deadLetters: [],
  };
  for (const { log, event } of events) {
    const key = (t: Ticket) => seatKeyOf(event.eventId, event.zoneId, t);
    if (event.type === 'TicketPurchased') {
      const conflict = event.tickets.find((t) => {
        const s = held.get(key(t));
        return s !== undefined && s.ticketId !== t.ticketId && !s.cancelled;
      });
      if (conflict) {
        plan.conflicts.push({ message: log, record: event, ticket: conflict, holder: held.get(key(conflict))!.ticketId });
        continue;
      }
      // All seats its own, or any seat showing its own ticket cancelled: written before (and
      // maybe cancelled since). Writing it again would bring a cancelled ticket back.
      const own = event.tickets.map((t) => held.get(key(t))).map((s, i) => (s?.ticketId === event.tickets[i]!.ticketId ? s : undefined));
      if (own.every(Boolean) || own.some((s) => s?.cancelled)) {
        plan.duplicate++;
        continue;
      }
      for (const t of event.tickets) {
        held.set(key(t), { ticketId: t.ticketId, cancelled: false });
        plan.ticketPuts.set(t.ticketId, { record: event, ticket: t });
        plan.seatPuts.set(key(t), { record: event, ticket: t });
      }
      plan.ok++;
      continue;
    }
    const live = event.tickets.filter((t) => {
      const s = held.get(key(t));
      return s?.ticketId === t.ticketId && !s.cancelled;
    });
    if (live.length === 0) {
      plan.duplicate++;
      continue;
    }
    for (const t of event.tickets) {
      const put = plan.ticketPuts.get(t.ticketId);
      if (put) put.cancelledAt = event.cancelledAt;
      else plan.ticketCancels.set(t.ticketId, event.cancelledAt);
    }
    for (const t of live) {
      held.set(key(t), { ticketId: t.ticketId, cancelled: true });
      const put = plan.seatPuts.get(key(t));
      if (put?.ticket.ticketId === t.ticketId) put.cancelledAt = event.cancelledAt;
      else plan.seatCancels.push({ seat: key(t), ticketId: t.ticketId, cancelledAt: event.cancelledAt });
    }
    plan.ok++;
  }
  return plan;
}

/** Ticket ids this chunk cancels (a conflict's own tickets among them make it a duplicate). */
export function cancelledBy(plan: ChunkPlan): Set<string> {
  const ids = new Set(plan.ticketCancels.keys());
  for (const [id, put] of plan.ticketPuts) if (put.cancelledAt) ids.add(id);
  return ids;
}
