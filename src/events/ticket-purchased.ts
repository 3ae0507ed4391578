import { z } from 'zod';
import { ID_PATTERN } from '../catalog/model';
import { parsePurchaseId } from '../purchase/ids';
import { SCHEMA_VERSION, type TicketPurchased } from '../purchase/record';
import type { DeadLetter } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';

/**
 * The `TicketPurchased` event as the consumers read it from the log. Both the writer and the
 * projector decode with this module, so they dead-letter exactly the same records. Later event
 * types (a void, a cancellation) get a module of their own beside this one.
 */
export type { TicketPurchased } from '../purchase/record';

const id = z.string().regex(ID_PATTERN);
const ticket = z.object({
  ticketId: z.string().min(1).max(160),
  row: z.string().regex(/^[A-Za-z0-9]{1,8}$/),
  column: z.number().int().min(1).max(65535),
  priceCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const record = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  type: z.literal('TicketPurchased'),
  purchaseId: z.string().min(1).max(160),
  eventId: id,
  venueId: id,
  zoneId: id,
  userId: z.string().regex(/^[\x21-\x7e]{1,128}$/),
  tickets: z.array(ticket).min(1).max(100),
  currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  createdOn: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date-time'),
  // Optional: records of direct purchases, and every record written before holds, have none.
  payment: z.object({ provider: z.string().regex(/^[a-z0-9_-]{1,32}$/), paymentId: z.string().regex(/^[\x21-\x7e]{1,64}$/) }).optional(),
});

export type Decoded = { ok: true; record: TicketPurchased } | { ok: false; reason: string };

/** Decodes one `TicketPurchased` value, or names why it is unusable (the dead-letter reason). */
export function decodeTicketPurchased(value: Buffer | string | null): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString() ?? '');
  } catch {
    return { ok: false, reason: 'invalid-json: the value is not JSON' };
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION) return { ok: false, reason: `unknown-schema-version: ${JSON.stringify(version ?? null)} (this consumer reads ${SCHEMA_VERSION})` };
  const parsed = record.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `invalid-record: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  const r = parsed.data;
  const ids = parsePurchaseId(r.purchaseId);
  if (!ids || ids.eventId !== r.eventId || ids.zoneId !== r.zoneId) {
    return { ok: false, reason: `invalid-record: purchaseId ${r.purchaseId} does not belong to ${r.eventId}/${r.zoneId}` };
  }
  const seats = new Set<string>();
  const tickets = new Set<string>();
  for (const t of r.tickets) {
    if (!t.ticketId.startsWith(`${r.purchaseId}.`)) return { ok: false, reason: `invalid-record: ticket ${t.ticketId} is not of purchase ${r.purchaseId}` };
    const seat = `${t.row}#${t.column}`;
    if (seats.has(seat) || tickets.has(t.ticketId)) return { ok: false, reason: `invalid-record: seat ${t.row}-${t.column} or ticket ${t.ticketId} repeats` };
    seats.add(seat);
    tickets.add(t.ticketId);
  }
  return { ok: true, record: r };
}

/** A record of the log with the event it carries. */
export interface DecodedRecord {
  log: LogRecord;
  event: TicketPurchased;
}

/** Decodes a chunk in log order: the usable events, and a dead letter for every other record. */
export function decodeTicketPurchases(records: readonly LogRecord[]): { decoded: DecodedRecord[]; deadLetters: DeadLetter[] } {
  const decoded: DecodedRecord[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const log of records) {
    const d = decodeTicketPurchased(log.value);
    if (d.ok) decoded.push({ log, event: d.record });
    else deadLetters.push({ record: log, reason: d.reason });
  }
  return { decoded, deadLetters };
}
