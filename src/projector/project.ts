import { decodeTicketEvents, type DecodedEvent } from '../events/ticket-events';
import type { TicketPurchased } from '../events/ticket-purchased';
import type { TicketsCancelled } from '../events/tickets-cancelled';
import { metrics } from '../observability/metrics';
import type { SqlClient, SqlStatements } from '../shared/sql';
import type { DeadLetter, HandledChunk } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';
import { permanentSqlError } from './sql-errors';
import { isFenced } from '../reset/fence';
import { readSqlFences } from '../reset/sql-fences';

const ROWS_PER_STATEMENT = 500;

export const projectorGroup = (topicPrefix: string) => `${topicPrefix}.projector`;

/** `2026-01-01T10:00:00.123Z` → `2026-01-01 10:00:00.123` (UTC: the SQL client's sessions are +00:00). */
export const sqlTime = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '');

function inChunks<T>(items: T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface Projected {
  accepted: TicketPurchased[];
  cancelled: number;
  duplicate: number;
  deadLetters: DeadLetter[];
}

const none = (): Projected => ({ accepted: [], cancelled: 0, duplicate: 0, deadLetters: [] });
function add(into: Projected, p: Projected): void {
  into.accepted.push(...p.accepted);
  into.cancelled += p.cancelled;
  into.duplicate += p.duplicate;
  into.deadLetters.push(...p.deadLetters);
}

/**
 * Projects one chunk of a partition's events into MySQL in one transaction, in log order:
 * `TicketPurchased` runs as multi-row upserts that are no-ops for rows already there
 * (redelivery), and a record whose seat is held by another live ticket is rolled out of the
 * transaction and dead-lettered, exactly as the writer does, so the read model agrees with the
 * write model. A `TicketsCancelled` moves its tickets to `cancelled_tickets` (the seat is free
 * for a resale) and records the cancellation; a sale delivered again after its cancellation
 * finds its tickets there and is a duplicate, never a live ticket again.
 *
 * An event MySQL can never store (a data error such as a date outside DATETIME's range) fails
 * the chunk's transaction every time. Then the chunk is projected again one event per
 * transaction, in log order, and the events that fail with a permanent data error are
 * dead-lettered, so the partition moves on. Transient errors (connection lost, deadlock) are
 * thrown, and the consumer loop retries the chunk; what was already stored is a duplicate then.
 */
export async function projectChunk(sql: SqlClient, chunk: readonly LogRecord[]): Promise<HandledChunk> {
  const { decoded, deadLetters } = decodeTicketEvents(chunk);
  const seen = new Set<string>();
  let duplicate = 0;
  const events: DecodedEvent[] = [];
  for (const d of decoded) {
    const key = `${d.event.type}|${d.event.purchaseId}`;
    if (seen.has(key)) duplicate++;
    else {
      seen.add(key);
      events.push(d);
    }
  }
  if (events.length === 0) return { ok: 0, duplicate, deadLetters };

  let projected: Projected;
  try {
    projected = await projectInOneTransaction(sql, events);
  } catch (err) {
    if (!permanentSqlError(err)) throw err;
    projected = none();
    for (const one of events) {
      try {
        add(projected, await projectInOneTransaction(sql, [one]));
      } catch (oneErr) {
        const permanent = permanentSqlError(oneErr);
        if (!permanent) throw oneErr;
        projected.deadLetters.push({
          record: one.log,
          reason: `unstorable-in-read-model: ${permanent.code}: ${permanent.message} (MySQL refuses this record every time; fix it and produce it again)`,
        });
      }
    }
  }

  const now = Date.now();
  let tickets = 0;
  for (const r of projected.accepted) {
    tickets += r.tickets.length;
    const lag = Math.max(0, (now - Date.parse(r.createdOn)) / 1000);
    for (let i = 0; i < r.tickets.length; i++) metrics.readModelLag.observe(lag);
  }
  if (tickets > 0) metrics.ticketsStored.inc({ store: 'mysql' }, tickets);
  return {
    ok: projected.accepted.length + projected.cancelled,
    duplicate: duplicate + projected.duplicate,
    deadLetters: [...deadLetters, ...projected.deadLetters],
  };
}

/** The events (log order) in one READ COMMITTED transaction: runs of sales, and each cancellation in its place. */
async function projectInOneTransaction(sql: SqlClient, all: DecodedEvent[]): Promise<Projected> {
  return sql.transaction(
    async (tx) => {
      const out = none();
      // Records of a sale that an event reset cleared are skipped (src/reset/fence.ts).
      const fences = await readSqlFences(tx, [...new Set(all.map((d) => d.event.eventId))]);
      const events = all.filter((d) => !isFenced(fences.get(d.event.eventId), d.log.partition, d.log.offset));
      out.duplicate += all.length - events.length;
      let sales: DecodedPurchase[] = [];
      const flushSales = async () => {
        if (sales.length > 0) add(out, await projectSales(tx, sales));
        sales = [];
      };
      for (const d of events) {
        if (d.event.type === 'TicketPurchased') {
          sales.push({ log: d.log, event: d.event });
          continue;
        }
        await flushSales();
        if (await projectCancellation(tx, d.event)) out.cancelled++;
        else out.duplicate++;
      }
      await flushSales();
      return out;
    },
    { isolation: 'READ COMMITTED' },
  );
}

type DecodedPurchase = { log: LogRecord; event: TicketPurchased };
type Tx = SqlStatements;

/** Which of these tickets the read model has, live or cancelled. */
async function presentTickets(tx: Tx, ids: string[], tables: string[] = ['tickets', 'cancelled_tickets']): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of inChunks(ids)) {
    const marks = part.map(() => '?').join(',');
    const rows = await tx.select<{ ticket_id: string }>(
      tables.map((t) => `SELECT ticket_id FROM ${t} WHERE ticket_id IN (${marks})`).join(' UNION ALL '),
      tables.flatMap(() => part),
    );
    for (const r of rows) found.add(r.ticket_id);
  }
  return found;
}

/** A run of sales (distinct purchases, log order), inside the chunk's transaction. */
async function projectSales(tx: Tx, records: DecodedPurchase[]): Promise<Projected> {
  const deadLetters: DeadLetter[] = [];
  let duplicate = 0;
  // A cancelled ticket counts as present: its sale delivered again must not bring it back.
  const before = await presentTickets(
    tx,
    records.flatMap(({ event }) => event.tickets.map((t) => t.ticketId)),
  );
  const candidates = records.filter(({ event }) => {
    const all = event.tickets.every((t) => before.has(t.ticketId));
    if (all) duplicate++;
    return !all;
  });
  const ticketRows = candidates.flatMap(({ event: r }) =>
    r.tickets.map((t) => [
      t.ticketId,
      r.purchaseId,
      r.eventId,
      r.zoneId,
      r.venueId,
      t.row,
      t.column,
      r.userId,
      t.priceCents,
      r.currency,
      sqlTime(r.createdOn),
    ]),
  );
  for (const part of inChunks(ticketRows)) {
    await tx.run(
      `INSERT INTO tickets (ticket_id, purchase_id, event_id, zone_id, venue_id, row_label, seat_number, user_id, price_cents, currency, created_on)
       VALUES ${part.map(() => '(?,?,?,?,?,?,?,?,?,?,?)').join(',')}
       ON DUPLICATE KEY UPDATE ticket_id = ticket_id`,
      part.flat(),
    );
  }

  // A ticket missing after the upsert lost its seat to another ticket: a double sale upstream.
  const after = await presentTickets(
    tx,
    candidates.flatMap(({ event }) => event.tickets.map((t) => t.ticketId)),
    ['tickets'],
  );
  const accepted: TicketPurchased[] = [];
  for (const { log, event: r } of candidates) {
    const lost = r.tickets.find((t) => !after.has(t.ticketId));
    if (!lost) {
      accepted.push(r);
      continue;
    }
    const [holder] = await tx.select<{ ticket_id: string }>(
      'SELECT ticket_id FROM tickets WHERE event_id = ? AND zone_id = ? AND row_label = ? AND seat_number = ?',
      [r.eventId, r.zoneId, lost.row, lost.column],
    );
    const mine = r.tickets.map((t) => t.ticketId);
    await tx.run(`DELETE FROM tickets WHERE ticket_id IN (${mine.map(() => '?').join(',')})`, mine);
    deadLetters.push({
      record: log,
      reason: `seat-conflict: ${r.eventId}/${r.zoneId} row ${lost.row} seat ${lost.column} is held by ${holder?.ticket_id ?? 'another ticket'}, not ${lost.ticketId}`,
    });
  }

  const purchaseRows = accepted.map((r) => [
    r.purchaseId,
    r.eventId,
    r.zoneId,
    r.venueId,
    r.userId,
    r.tickets.length,
    r.tickets.reduce((s, t) => s + t.priceCents, 0),
    r.currency,
    sqlTime(r.createdOn),
  ]);
  for (const part of inChunks(purchaseRows)) {
    await tx.run(
      `INSERT INTO purchases (purchase_id, event_id, zone_id, venue_id, user_id, seat_count, total_cents, currency, created_on)
       VALUES ${part.map(() => '(?,?,?,?,?,?,?,?,?)').join(',')}
       ON DUPLICATE KEY UPDATE purchase_id = purchase_id`,
      part.flat(),
    );
  }
  return { accepted, cancelled: 0, duplicate, deadLetters };
}

const TICKET_COLUMNS =
  'ticket_id, purchase_id, event_id, zone_id, venue_id, row_label, seat_number, user_id, price_cents, currency, created_on';

/**
 * Moves a cancellation's live tickets to cancelled_tickets and records the cancellation, inside
 * the chunk's transaction. Idempotent: a repeat finds nothing left to move. Returns whether it
 * moved any ticket (false: a duplicate, or a sale the read model never held).
 */
async function projectCancellation(tx: Tx, c: TicketsCancelled): Promise<boolean> {
  const ids = c.tickets.map((t) => t.ticketId);
  const marks = ids.map(() => '?').join(',');
  const at = sqlTime(c.cancelledAt);
  await tx.run(
    `INSERT INTO cancelled_tickets (${TICKET_COLUMNS}, cancelled_at)
     SELECT ${TICKET_COLUMNS}, ? FROM tickets WHERE ticket_id IN (${marks})
     ON DUPLICATE KEY UPDATE ticket_id = cancelled_tickets.ticket_id`,
    [at, ...ids],
  );
  const moved = await tx.run(`DELETE FROM tickets WHERE ticket_id IN (${marks})`, ids);
  await tx.run(
    `INSERT INTO cancellations (purchase_id, event_id, zone_id, user_id, seat_count, total_cents, currency, cancelled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE purchase_id = purchase_id`,
    [c.purchaseId, c.eventId, c.zoneId, c.userId, c.tickets.length, c.tickets.reduce((s, t) => s + t.priceCents, 0), c.currency, at],
  );
  return moved.affectedRows > 0;
}
