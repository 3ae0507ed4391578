import { z } from 'zod';
import type { TicketLine, TicketPurchased } from '../purchase/record';
import { invalidRecord, isoDate, purchaseFields, purchaseTicketsProblem } from './ticket-lines';

/**
 * The `TicketsCancelled` event: a confirmed purchase was cancelled as a whole. It goes to the
 * same topic and key (`<eventId>:<zoneId>`) as the `TicketPurchased` it cancels, so it sits
 * after that purchase and before any resale of its seats in the zone's partition. The api
 * produces it with acks=all before it frees a seat (docs/purchase-state-machine.md), and the
 * consumers apply it idempotently (docs/cqrs.md).
 */
export const CANCELLED_SCHEMA_VERSION = 1;

export interface TicketsCancelled {
  schemaVersion: typeof CANCELLED_SCHEMA_VERSION;
  type: 'TicketsCancelled';
  purchaseId: string;
  eventId: string;
  venueId: string;
  zoneId: string;
  /** The purchase's buyer (not who asked: an operator may cancel for a buyer). */
  userId: string;
  /** Every ticket of the purchase, with its seat and the price it was sold at. */
  tickets: TicketLine[];
  currency: string;
  cancelledAt: string;
}

/** The cancellation of a purchase, as the api produces it. */
export function cancellationOf(p: TicketPurchased, cancelledAt: Date): TicketsCancelled {
  return {
    schemaVersion: CANCELLED_SCHEMA_VERSION,
    type: 'TicketsCancelled',
    purchaseId: p.purchaseId,
    eventId: p.eventId,
    venueId: p.venueId,
    zoneId: p.zoneId,
    userId: p.userId,
    tickets: p.tickets.map(({ ticketId, row, column, priceCents }) => ({ ticketId, row, column, priceCents })),
    currency: p.currency,
    cancelledAt: cancelledAt.toISOString(),
  };
}

const record = z.object({
  schemaVersion: z.literal(CANCELLED_SCHEMA_VERSION),
  type: z.literal('TicketsCancelled'),
  ...purchaseFields,
  cancelledAt: isoDate,
});

export type DecodedCancellation = { ok: true; record: TicketsCancelled } | { ok: false; reason: string };

/** Validates a parsed `TicketsCancelled` value, or names why it is unusable (the dead-letter reason). */
export function decodeTicketsCancelledJson(json: unknown): DecodedCancellation {
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== CANCELLED_SCHEMA_VERSION) {
    return {
      ok: false,
      reason: `unknown-schema-version: ${JSON.stringify(version ?? null)} (this consumer reads TicketsCancelled ${CANCELLED_SCHEMA_VERSION})`,
    };
  }
  const parsed = record.safeParse(json);
  if (!parsed.success) return { ok: false, reason: invalidRecord(parsed.error) };
  const problem = purchaseTicketsProblem(parsed.data);
  return problem ? { ok: false, reason: problem } : { ok: true, record: parsed.data };
}
