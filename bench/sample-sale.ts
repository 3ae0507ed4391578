import { newPurchaseId, ticketIdOf } from '../src/purchase/ids';
import { SCHEMA_VERSION, type TicketPurchased } from '../src/purchase/record';

/** A purchase record of the given seats, as the engine writes it (bench fixtures: writer ceiling, Kafka clients). */
export function sampleSale(eventId: string, zoneId: string, seats: { row: string; column: number }[], userId: string): TicketPurchased {
  const purchaseId = newPurchaseId(eventId, zoneId);
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: 'Venue1',
    zoneId,
    userId,
    tickets: seats.map((s, i) => ({ ticketId: ticketIdOf(purchaseId, i + 1), ...s, priceCents: 5000 })),
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
}
