/** The `TicketPurchased` record: the Kafka message value and the pending record's body. */
export const SCHEMA_VERSION = 1;

export interface TicketLine {
  ticketId: string;
  row: string;
  column: number;
  priceCents: number;
}

export interface TicketPurchased {
  schemaVersion: typeof SCHEMA_VERSION;
  type: 'TicketPurchased';
  purchaseId: string;
  eventId: string;
  venueId: string;
  zoneId: string;
  userId: string;
  tickets: TicketLine[];
  currency: string;
  createdOn: string;
}

export const partitionKey = (eventId: string, zoneId: string) => `${eventId}:${zoneId}`;
