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
  /**
   * How a hold's purchase was paid (absent for direct purchases and in older records): the PSP's
   * reference, kept with the sale for good (payment records in Redis expire).
   */
  payment?: PaymentReference;
}

/** A payment as the purchase record carries it: never a token or card data. */
export interface PaymentReference {
  provider: string;
  paymentId: string;
}

export const partitionKey = (eventId: string, zoneId: string) => `${eventId}:${zoneId}`;
