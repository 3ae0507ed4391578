import type { TicketSource } from '../http/routes/reads';
import type { Inventory, PurchaseRecord } from '../inventory/inventory';
import { ApiError } from '../shared/errors';
import { parsePurchaseId, ticketIdOf } from './ids';
import { SCHEMA_VERSION, type TicketLine, type TicketPurchased } from './record';

export type PurchaseStatus = 'PENDING' | 'CONFIRMED' | 'VOIDED';

export interface FoundPurchase {
  status: PurchaseStatus;
  record: TicketPurchased;
  /** Where the answer came from: the Redis purchase record or a store's tickets. */
  source: string;
}

/** What the api needs from a lookup by purchase id (the idempotency store asks it too). */
export interface PurchaseFinder {
  find(purchaseId: string): Promise<FoundPurchase | undefined>;
}

const STATUS: Record<PurchaseRecord['status'], PurchaseStatus> = { reserved: 'PENDING', confirmed: 'CONFIRMED', voided: 'VOIDED' };

/**
 * A purchase by its id: the Redis purchase record first, then the stores' tickets (the write
 * model, then the read model) through the ticket route's sources. The Redis record is gone
 * after a Redis loss or its TTL; a purchase the stores hold is confirmed (it was in the log),
 * which also settles a record left RESERVED because its confirm write was lost.
 *
 * Ticket ids are `<purchaseId>.<n>`, so a purchase's tickets are found without an index.
 */
export class PurchaseLookup implements PurchaseFinder {
  constructor(
    private readonly inventory: Inventory,
    /** In the order to ask them; each answers ticket by ticket. */
    private readonly stores: TicketSource[],
    /** No purchase holds more tickets than this (MAX_SEATS_PER_PURCHASE). */
    private readonly maxTickets: number,
  ) {}

  /**
   * The purchase, or undefined when no source knows it. Throws DEPENDENCY_UNAVAILABLE when
   * none knows it but one did not answer: it may exist there.
   */
  async find(purchaseId: string): Promise<FoundPurchase | undefined> {
    const ids = parsePurchaseId(purchaseId);
    if (!ids) return undefined;
    const failed: string[] = [];
    const rec = await this.inventory.getPurchase(ids.eventId, ids.zoneId, purchaseId).catch(() => void failed.push('redis'));
    if (rec && rec.status !== 'reserved') return { status: STATUS[rec.status], record: JSON.parse(rec.body) as TicketPurchased, source: 'purchase-record' };

    const pending = rec ? (JSON.parse(rec.body) as TicketPurchased) : undefined;
    for (const source of this.stores) {
      try {
        // A pending record's first ticket in a store proves the log holds the record.
        const stored = pending ? await this.firstTicket(source, purchaseId) : await this.fromTickets(source, purchaseId);
        if (stored) return { status: 'CONFIRMED', record: pending ?? stored, source: source.name };
      } catch {
        failed.push(source.name);
      }
    }
    if (pending) return { status: 'PENDING', record: pending, source: 'purchase-record' };
    if (failed.length > 0) throw new ApiError('DEPENDENCY_UNAVAILABLE', `The purchase stores did not answer (${failed.join(', ')}); try again shortly`);
    return undefined;
  }

  private async firstTicket(source: TicketSource, purchaseId: string): Promise<TicketPurchased | undefined> {
    const t = await source.findTicket(ticketIdOf(purchaseId, 1));
    return t && recordOf(purchaseId, [t]);
  }

  /** The purchase rebuilt from its tickets `.1`, `.2`, … as one store holds them. */
  private async fromTickets(source: TicketSource, purchaseId: string): Promise<TicketPurchased | undefined> {
    const tickets: Record<string, unknown>[] = [];
    for (let n = 1; n <= this.maxTickets; n++) {
      const t = await source.findTicket(ticketIdOf(purchaseId, n));
      if (!t) break;
      tickets.push(t);
    }
    return tickets.length > 0 ? recordOf(purchaseId, tickets) : undefined;
  }
}

/** The `TicketPurchased` record as its tickets in a store describe it. */
function recordOf(purchaseId: string, tickets: Record<string, unknown>[]): TicketPurchased {
  const first = tickets[0]!;
  const str = (v: unknown) => String(v ?? '');
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId: str(first.eventId),
    venueId: str(first.venueId),
    zoneId: str(first.zoneId),
    userId: str(first.userId),
    tickets: tickets.map((t): TicketLine => ({ ticketId: str(t.ticketId), row: str(t.row), column: Number(t.column), priceCents: Number(t.priceCents) })),
    currency: str(first.currency),
    createdOn: str(first.createdOn),
  };
}

/** A purchase as `GET /api/v1/purchases/{id}` shows it. */
export function purchaseView(p: TicketPurchased, status: PurchaseStatus) {
  return {
    purchaseId: p.purchaseId,
    status,
    venueId: p.venueId,
    eventId: p.eventId,
    zoneId: p.zoneId,
    userId: p.userId,
    createdOn: p.createdOn,
    tickets: p.tickets.map((t) => ({ ...t, status })),
  };
}
