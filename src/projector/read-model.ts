import type { ResetFence } from '../reset/fence';
import { writeSqlFence } from '../reset/sql-fences';
import type { SqlClient } from '../shared/sql';
import type { TicketView } from '../events/ticket-view';

interface TicketRow {
  ticket_id: string;
  purchase_id: string;
  venue_id: string;
  event_id: string;
  zone_id: string;
  row_label: string;
  seat_number: number;
  user_id: string;
  price_cents: number | string;
  currency: string;
  created_on: Date | string;
  cancelled_at?: Date | string | null;
}

const COLUMNS = 'ticket_id, purchase_id, venue_id, event_id, zone_id, row_label, seat_number, user_id, price_cents, currency, created_on';

const isoOf = (v: Date | string) => (v instanceof Date ? v : new Date(`${v}Z`)).toISOString();

function viewOf(r: TicketRow): TicketView {
  return {
    ticketId: r.ticket_id,
    purchaseId: r.purchase_id,
    venueId: r.venue_id,
    eventId: r.event_id,
    zoneId: r.zone_id,
    row: r.row_label,
    column: Number(r.seat_number),
    userId: r.user_id,
    priceCents: Number(r.price_cents),
    currency: r.currency,
    status: r.cancelled_at ? 'CANCELLED' : 'CONFIRMED',
    createdOn: isoOf(r.created_on),
    ...(r.cancelled_at ? { cancelledAt: isoOf(r.cancelled_at) } : {}),
  };
}

/** Position after the last ticket of a page of an event's tickets (zone, row, seat order). */
export interface EventCursor {
  zoneId: string;
  row: string;
  column: number;
}

/** Position after the last ticket of a page of a user's tickets (purchase time order). */
export interface UserCursor {
  createdOn: string;
  ticketId: string;
}

export interface ZoneSales {
  zoneId: string;
  sold: number;
  revenueCents: number;
}

/**
 * Queries of the MySQL read model. It lags the sale by the projector's lag (see docs/cqrs.md).
 * `tickets` holds the live tickets only: a cancelled one moves to `cancelled_tickets`, so sold
 * seats, revenue and the audit count what is sold now, at the prices the tickets were sold at.
 */
export class ReadModel {
  constructor(private readonly sql: SqlClient) {}

  private select<T extends object>(statement: string, params: unknown[]): Promise<T[]> {
    return this.sql.select<T>(statement, params);
  }

  /** A ticket, live or cancelled (then with status CANCELLED). */
  async findTicket(ticketId: string): Promise<TicketView | undefined> {
    const [row] = await this.select<TicketRow>(
      `SELECT ${COLUMNS}, NULL AS cancelled_at FROM tickets WHERE ticket_id = ?
       UNION ALL SELECT ${COLUMNS}, cancelled_at FROM cancelled_tickets WHERE ticket_id = ?`,
      [ticketId, ticketId],
    );
    return row ? viewOf(row) : undefined;
  }

  /** One page of an event's tickets in (zone, row, seat) order: a keyset walk of the seat key. */
  async ticketsOfEvent(
    eventId: string,
    opts: { zoneId?: string; after?: EventCursor; limit: number },
  ): Promise<{ tickets: TicketView[]; next?: EventCursor }> {
    const where = ['event_id = ?'];
    const args: unknown[] = [eventId];
    if (opts.zoneId !== undefined) {
      where.push('zone_id = ?');
      args.push(opts.zoneId);
    }
    const a = opts.after;
    if (a) {
      where.push('(zone_id > ? OR (zone_id = ? AND (row_label > ? OR (row_label = ? AND seat_number > ?))))');
      args.push(a.zoneId, a.zoneId, a.row, a.row, a.column);
    }
    const rows = await this.select<TicketRow>(
      `SELECT ${COLUMNS} FROM tickets WHERE ${where.join(' AND ')} ORDER BY zone_id, row_label, seat_number LIMIT ?`,
      [...args, opts.limit + 1],
    );
    const tickets = rows.slice(0, opts.limit).map(viewOf);
    const last = tickets[tickets.length - 1];
    return { tickets, ...(rows.length > opts.limit && last ? { next: { zoneId: last.zoneId, row: last.row, column: last.column } } : {}) };
  }

  /** One page of a user's tickets, oldest first. */
  async ticketsOfUser(userId: string, opts: { after?: UserCursor; limit: number }): Promise<{ tickets: TicketView[]; next?: UserCursor }> {
    const args: unknown[] = [userId];
    let after = '';
    if (opts.after) {
      const at = opts.after.createdOn.replace('T', ' ').replace('Z', '');
      after = ' AND (created_on > ? OR (created_on = ? AND ticket_id > ?))';
      args.push(at, at, opts.after.ticketId);
    }
    const rows = await this.select<TicketRow>(
      `SELECT ${COLUMNS} FROM tickets WHERE user_id = ?${after} ORDER BY created_on, ticket_id LIMIT ?`,
      [...args, opts.limit + 1],
    );
    const tickets = rows.slice(0, opts.limit).map(viewOf);
    const last = tickets[tickets.length - 1];
    return { tickets, ...(rows.length > opts.limit && last ? { next: { createdOn: last.createdOn, ticketId: last.ticketId } } : {}) };
  }

  async salesByZone(eventId: string): Promise<Map<string, ZoneSales>> {
    const rows = await this.select<{ zone_id: string; sold: number | string; revenue: number | string | null }>(
      'SELECT zone_id, COUNT(*) AS sold, SUM(price_cents) AS revenue FROM tickets WHERE event_id = ? GROUP BY zone_id',
      [eventId],
    );
    return new Map(rows.map((r) => [r.zone_id, { zoneId: r.zone_id, sold: Number(r.sold), revenueCents: Number(r.revenue ?? 0) }]));
  }

  /** Every sold seat of an event with its live ticket (the audit's MySQL side; a cancelled seat is free). */
  async seatsOfEvent(eventId: string): Promise<{ zoneId: string; row: string; column: number; ticketId: string }[]> {
    const rows = await this.select<{ zone_id: string; row_label: string; seat_number: number; ticket_id: string }>(
      'SELECT zone_id, row_label, seat_number, ticket_id FROM tickets WHERE event_id = ?',
      [eventId],
    );
    return rows.map((r) => ({ zoneId: r.zone_id, row: r.row_label, column: Number(r.seat_number), ticketId: r.ticket_id }));
  }

  /**
   * Deletes an event's tickets, purchases and cancellations (load-test reset). With a fence, it
   * is written first, in the same transaction (no projector transaction runs until this one
   * commits, src/reset/sql-fences.ts), and `onFenced` is called once it committed: a rolled-back
   * fence must not let the reset re-create the Redis inventory over MySQL's old rows.
   */
  async deleteEvent(eventId: string, fence?: ResetFence, onFenced?: () => void): Promise<number> {
    const deleted = await this.sql.transaction(async (tx) => {
      if (fence) await writeSqlFence(tx, fence);
      const tickets = await tx.run('DELETE FROM tickets WHERE event_id = ?', [eventId]);
      const cancelled = await tx.run('DELETE FROM cancelled_tickets WHERE event_id = ?', [eventId]);
      await tx.run('DELETE FROM purchases WHERE event_id = ?', [eventId]);
      await tx.run('DELETE FROM cancellations WHERE event_id = ?', [eventId]);
      return tickets.affectedRows + cancelled.affectedRows;
    });
    if (fence) onFenced?.();
    return deleted;
  }
}
