import { z } from 'zod';
import { SCHEMA_VERSION, type TicketPurchased } from '../purchase/record';
import { invalidRecord, isoDate, purchaseFields, purchaseTicketsProblem } from './ticket-lines';

/**
 * The `TicketPurchased` event as the consumers read it from the log. Both the writer and the
 * projector decode through ticket-events.ts, which dispatches on `type` to this module or to
 * tickets-cancelled.ts, so they dead-letter exactly the same records.
 */
export type { TicketPurchased } from '../purchase/record';

const record = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  type: z.literal('TicketPurchased'),
  ...purchaseFields,
  createdOn: isoDate,
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
  return decodeTicketPurchasedJson(json);
}

/** Validates a parsed `TicketPurchased` value (ticket-events.ts dispatches on `type` first). */
export function decodeTicketPurchasedJson(json: unknown): Decoded {
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION)
    return { ok: false, reason: `unknown-schema-version: ${JSON.stringify(version ?? null)} (this consumer reads ${SCHEMA_VERSION})` };
  const parsed = record.safeParse(json);
  if (!parsed.success) return { ok: false, reason: invalidRecord(parsed.error) };
  const problem = purchaseTicketsProblem(parsed.data);
  return problem ? { ok: false, reason: problem } : { ok: true, record: parsed.data };
}
