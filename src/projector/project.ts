import { decodeTicketPurchases, type DecodedRecord, type TicketPurchased } from '../events/ticket-purchased';
import { metrics } from '../observability/metrics';
import type { SqlClient } from '../shared/sql';
import type { DeadLetter, HandledChunk } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';
import { permanentSqlError } from './sql-errors';

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
  duplicate: number;
  deadLetters: DeadLetter[];
}

/**
 * Projects one chunk of a partition's `TicketPurchased` records into MySQL in one transaction:
 * multi-row upserts that are no-ops for rows already there (redelivery), and a record whose
 * seat is held by another ticket is rolled out of the transaction and dead-lettered, exactly
 * as the writer does, so the read model agrees with the write model.
 *
 * A record MySQL can never store (a data error such as a date outside DATETIME's range) fails
 * the chunk's transaction every time. Then the chunk is projected again one record per
 * transaction, in log order, and the records that fail with a permanent data error are
 * dead-lettered, so the partition moves on. Transient errors (connection lost, deadlock) are
 * thrown, and the consumer loop retries the chunk; what was already stored is a duplicate then.
 */
export async function projectChunk(sql: SqlClient, chunk: readonly LogRecord[]): Promise<HandledChunk> {
  const { decoded, deadLetters } = decodeTicketPurchases(chunk);
  const seen = new Set<string>();
  let duplicate = 0;
  const records: DecodedRecord[] = [];
  for (const d of decoded) {
    if (seen.has(d.event.purchaseId)) duplicate++;
    else {
      seen.add(d.event.purchaseId);
      records.push(d);
    }
  }
  if (records.length === 0) return { ok: 0, duplicate, deadLetters };

  let projected: Projected;
  try {
    projected = await projectInOneTransaction(sql, records);
  } catch (err) {
    if (!permanentSqlError(err)) throw err;
    projected = { accepted: [], duplicate: 0, deadLetters: [] };
    for (const one of records) {
      try {
        const p = await projectInOneTransaction(sql, [one]);
        projected.accepted.push(...p.accepted);
        projected.duplicate += p.duplicate;
        projected.deadLetters.push(...p.deadLetters);
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
  return { ok: projected.accepted.length, duplicate: duplicate + projected.duplicate, deadLetters: [...deadLetters, ...projected.deadLetters] };
}

/** The records (distinct purchases, log order) in one READ COMMITTED transaction. */
async function projectInOneTransaction(sql: SqlClient, records: DecodedRecord[]): Promise<Projected> {
  return sql.transaction(async (tx) => {
    const deadLetters: DeadLetter[] = [];
    let duplicate = 0;
    const present = async (ids: string[]) => {
      const found = new Set<string>();
      for (const part of inChunks(ids)) {
        const rows = await tx.select<{ ticket_id: string }>(`SELECT ticket_id FROM tickets WHERE ticket_id IN (${part.map(() => '?').join(',')})`, part);
        for (const r of rows) found.add(r.ticket_id);
      }
      return found;
    };

    const before = await present(records.flatMap(({ event }) => event.tickets.map((t) => t.ticketId)));
    const candidates = records.filter(({ event }) => {
      const all = event.tickets.every((t) => before.has(t.ticketId));
      if (all) duplicate++;
      return !all;
    });
    const ticketRows = candidates.flatMap(({ event: r }) =>
      r.tickets.map((t) => [t.ticketId, r.purchaseId, r.eventId, r.zoneId, r.venueId, t.row, t.column, r.userId, t.priceCents, r.currency, sqlTime(r.createdOn)]),
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
    const after = await present(candidates.flatMap(({ event }) => event.tickets.map((t) => t.ticketId)));
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
      deadLetters.push({ record: log, reason: `seat-conflict: ${r.eventId}/${r.zoneId} row ${lost.row} seat ${lost.column} is held by ${holder?.ticket_id ?? 'another ticket'}, not ${lost.ticketId}` });
    }

    const purchaseRows = accepted.map((r) => [
      r.purchaseId, r.eventId, r.zoneId, r.venueId, r.userId, r.tickets.length, r.tickets.reduce((s, t) => s + t.priceCents, 0), r.currency, sqlTime(r.createdOn),
    ]);
    for (const part of inChunks(purchaseRows)) {
      await tx.run(
        `INSERT INTO purchases (purchase_id, event_id, zone_id, venue_id, user_id, seat_count, total_cents, currency, created_on)
         VALUES ${part.map(() => '(?,?,?,?,?,?,?,?,?)').join(',')}
         ON DUPLICATE KEY UPDATE purchase_id = purchase_id`,
        part.flat(),
      );
    }
    return { accepted, duplicate, deadLetters };
  }, { isolation: 'READ COMMITTED' });
}
