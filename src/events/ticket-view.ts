/**
 * A sold ticket as the stores hold it and the API shows it. The write model (DynamoDB) and the
 * read model (MySQL) both answer in this shape, so it lives here rather than in either of them.
 */
export interface TicketView {
  ticketId: string;
  purchaseId: string;
  venueId: string;
  eventId: string;
  zoneId: string;
  row: string;
  column: number;
  userId: string;
  priceCents: number;
  currency: string;
  /** CANCELLED once the store applied the purchase's `TicketsCancelled`: the seat is free again. */
  status: 'CONFIRMED' | 'CANCELLED';
  createdOn: string;
  /**
   * How many tickets the ticket's purchase holds: DynamoDB only (its batch writes are not
   * atomic, so a purchase rebuilt from its tickets checks it has them all); MySQL stores a
   * purchase in one transaction and items of older writers lack it.
   */
  ticketCount?: number;
  cancelledAt?: string;
}
