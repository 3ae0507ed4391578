import { z } from 'zod';
import { ID_PATTERN } from '../catalog/model';
import { parsePurchaseId } from '../purchase/ids';

/** What every event of the tickets topic checks the same way (ticket-purchased.ts, tickets-cancelled.ts). */
export const idField = z.string().regex(ID_PATTERN);
export const userIdField = z.string().regex(/^[\x21-\x7e]{1,128}$/);
export const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date-time');
export const ticketLine = z.object({
  ticketId: z.string().min(1).max(160),
  row: z.string().regex(/^[A-Za-z0-9]{1,8}$/),
  column: z.number().int().min(1).max(65535),
  priceCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** The dead-letter reason of a schema failure. */
export const invalidRecord = (error: z.ZodError) =>
  `invalid-record: ${error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;

/**
 * Why an event's purchase id and tickets do not fit together (undefined when they do): the
 * purchase id must route to the event's zone, every ticket id must be of that purchase, and no
 * seat or ticket may repeat.
 */
export function purchaseTicketsProblem(r: {
  purchaseId: string;
  eventId: string;
  zoneId: string;
  tickets: { ticketId: string; row: string; column: number }[];
}): string | undefined {
  const ids = parsePurchaseId(r.purchaseId);
  if (!ids || ids.eventId !== r.eventId || ids.zoneId !== r.zoneId)
    return `invalid-record: purchaseId ${r.purchaseId} does not belong to ${r.eventId}/${r.zoneId}`;
  const seats = new Set<string>();
  const tickets = new Set<string>();
  for (const t of r.tickets) {
    if (!t.ticketId.startsWith(`${r.purchaseId}.`)) return `invalid-record: ticket ${t.ticketId} is not of purchase ${r.purchaseId}`;
    const seat = `${t.row}#${t.column}`;
    if (seats.has(seat) || tickets.has(t.ticketId)) return `invalid-record: seat ${t.row}-${t.column} or ticket ${t.ticketId} repeats`;
    seats.add(seat);
    tickets.add(t.ticketId);
  }
  return undefined;
}

/** The fields every ticket event of a purchase carries (TicketPurchased, TicketsCancelled). */
export const purchaseFields = {
  purchaseId: z.string().min(1).max(160),
  eventId: idField,
  venueId: idField,
  zoneId: idField,
  userId: userIdField,
  tickets: z.array(ticketLine).min(1).max(100),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
};
