import type { TicketSource } from '../http/routes/reads';
import type { Inventory, PurchaseRecord } from '../inventory/inventory';
import { ApiError } from '../shared/errors';
import { parsePurchaseId, ticketIdOf } from './ids';
import { partitionKey, SCHEMA_VERSION, type TicketLine, type TicketPurchased } from './record';

/**
 * CANCELLED once the cancellation freed the seats (release-cancelled.lua), or once a store holds
 * the tickets as cancelled; a purchase still CANCELLING reads CONFIRMED (its seats are still taken).
 */
export type PurchaseStatus = 'PENDING' | 'CONFIRMED' | 'VOIDED' | 'CANCELLED';

export interface FoundPurchase {
  status: PurchaseStatus;
  record: TicketPurchased;
  /** Where the answer came from: the Redis purchase record or a store's tickets. */
  source: string;
}

/** What the api needs from a lookup by purchase id (the idempotency store asks it too). */
export interface PurchaseFinder {
  find(purchaseId: string, opts?: FindOptions): Promise<FoundPurchase | undefined>;
}

export interface FindOptions {
  /**
   * The caller takes "found nowhere" as "not yet" (an attempt still running), not as "nothing
   * was sold": the writer's progress is not asked.
   */
  absentIsNotFinal?: boolean;
}

const STATUS: Record<Exclude<PurchaseRecord['status'], 'fenced'>, PurchaseStatus> = {
  reserved: 'PENDING',
  confirmed: 'CONFIRMED',
  voided: 'VOIDED',
};

/**
 * Messages the writer group still has to store from the partition a purchase's records go to
 * (0: DynamoDB holds everything that partition held when asked), given the record's
 * partition key; rejects when the progress cannot be read.
 */
export type WriterLag = (partitionKey: string) => Promise<number>;

/** How long "found nowhere" waits for the writer's progress before answering "still unknown". */
const WRITER_LAG_TIMEOUT_MS = 5000;

/**
 * A purchase by its id: the Redis purchase record first, then the stores' tickets (the write
 * model, then the read model) through the ticket route's sources. The Redis record is gone
 * after a Redis loss or its TTL; a purchase the stores hold is confirmed (it was in the log),
 * which also settles a record left RESERVED because its confirm write was lost.
 *
 * Ticket ids are `<purchaseId>.<n>`, so a purchase's tickets are found without an index.
 * A store that holds only some of a purchase's tickets (the writer's batch is not atomic) does
 * not make a smaller purchase: it is "not stored yet", the next store is asked, and if none
 * holds it whole the answer is still unknown (503 PURCHASE_OUTCOME_UNKNOWN).
 *
 * "Found nowhere" means "nothing was sold" only once the writer has stored the whole log
 * (`writerLag`): a record may be in the log and not yet in DynamoDB while Redis lost its
 * purchase record. Until then the answer is still unknown. This check runs only on that path.
 * An `fenced` record (a fence, see fence.lua) sold nothing: found nowhere else, it
 * is not found, with no need to ask the writer.
 */
export class PurchaseLookup implements PurchaseFinder {
  constructor(
    private readonly inventory: Inventory,
    /** In the order to ask them; each answers ticket by ticket. */
    private readonly stores: TicketSource[],
    /** No purchase holds more tickets than this (MAX_SEATS_PER_PURCHASE). */
    private readonly maxTickets: number,
    /** Without it (a Redis-only lookup, tests), "found nowhere" is not found at once. */
    private readonly writerLag?: WriterLag,
  ) {}

  /**
   * The purchase, or undefined when no source knows it (nothing was sold). Throws
   * DEPENDENCY_UNAVAILABLE when none knows it but one did not answer: it may exist there; and
   * PURCHASE_OUTCOME_UNKNOWN (with the purchase id) while it may still be on its way into the
   * stores.
   */
  async find(purchaseId: string, opts: FindOptions = {}): Promise<FoundPurchase | undefined> {
    const ids = parsePurchaseId(purchaseId);
    if (!ids) return undefined;
    let redisFailed = false;
    const rec = await this.inventory.getPurchase(ids.eventId, ids.zoneId, purchaseId).catch(() => void (redisFailed = true));
    if (rec && rec.status !== 'reserved' && rec.status !== 'fenced') {
      const status = rec.cancel === 'cancelled' ? 'CANCELLED' : STATUS[rec.status];
      return { status, record: JSON.parse(rec.body) as TicketPurchased, source: 'purchase-record' };
    }

    const pending = rec?.status === 'reserved' ? (JSON.parse(rec.body) as TicketPurchased) : undefined;
    const found = await this.fromStores(purchaseId, pending, redisFailed);
    if (found || pending || rec?.status === 'fenced' || !this.writerLag || opts.absentIsNotFinal) return found;
    // Found nowhere: nothing was sold only if the stores hold the whole log. They are read again
    // once the writer caught up: what they held before proves nothing.
    await this.writerCaughtUp(ids.eventId, ids.zoneId, purchaseId);
    return this.fromStores(purchaseId, undefined, false);
  }

  /**
   * The purchase as the stores hold it; PENDING for a pending record none confirms; undefined
   * when none holds it. Throws "still unknown" when a store holds only some of its tickets,
   * DEPENDENCY_UNAVAILABLE when none holds it but one (or Redis) did not answer.
   */
  private async fromStores(
    purchaseId: string,
    pending: TicketPurchased | undefined,
    redisFailed: boolean,
  ): Promise<FoundPurchase | undefined> {
    const failed = redisFailed ? ['redis'] : [];
    const partial: string[] = [];
    for (const source of this.stores) {
      try {
        // A pending record's first ticket in a store proves the log holds the record.
        const stored = pending ? await this.firstTicket(source, purchaseId) : await this.fromTickets(source, purchaseId);
        if (stored === 'incomplete') partial.push(source.name);
        else if (stored)
          return { status: stored.cancelled ? 'CANCELLED' : 'CONFIRMED', record: pending ?? stored.record, source: source.name };
      } catch {
        failed.push(source.name);
      }
    }
    if (pending) return { status: 'PENDING', record: pending, source: 'purchase-record' };
    // Some tickets are stored, so the log holds the record: sold, but not readable whole yet.
    if (partial.length > 0) throw stillUnknown(purchaseId, `${partial.join(', ')} holds only some of its tickets yet`);
    if (failed.length > 0)
      throw new ApiError('DEPENDENCY_UNAVAILABLE', `The purchase stores did not answer (${failed.join(', ')}); try again shortly`);
    return undefined;
  }

  /** Throws "still unknown" unless the writer has stored everything the purchase's partition holds. */
  private async writerCaughtUp(eventId: string, zoneId: string, purchaseId: string): Promise<void> {
    if (!this.writerLag) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${WRITER_LAG_TIMEOUT_MS} ms`)), WRITER_LAG_TIMEOUT_MS)),
    );
    const lag = await Promise.race([this.writerLag(partitionKey(eventId, zoneId)), timeout])
      .catch(() => -1)
      .finally(() => clearTimeout(timer));
    if (lag === 0) return;
    const why =
      lag < 0 ? "the writer's progress on the event log could not be read" : `the writer has ${lag} records of the event log left to store`;
    throw stillUnknown(purchaseId, `it is neither in Redis nor in the stores, but ${why}, so it may still be on its way`);
  }

  private async firstTicket(source: TicketSource, purchaseId: string): Promise<StoredPurchase | undefined> {
    const t = await source.findTicket(ticketIdOf(purchaseId, 1));
    return t && storedPurchase(purchaseId, [t]);
  }

  /**
   * The purchase rebuilt from its tickets `.1`, `.2`, … as one store holds them; 'incomplete'
   * when its tickets name more (`ticketCount`, written by the writer) than the store holds yet.
   * Tickets without a count (MySQL, which stores a purchase in one transaction; DynamoDB items
   * of older writers) end at the first missing id.
   */
  private async fromTickets(source: TicketSource, purchaseId: string): Promise<StoredPurchase | 'incomplete' | undefined> {
    const tickets: Record<string, unknown>[] = [];
    let count: number | undefined;
    for (let n = 1; n <= (count ?? this.maxTickets); n++) {
      const t = await source.findTicket(ticketIdOf(purchaseId, n));
      if (!t) break;
      tickets.push(t);
      count ??= ticketCountOf(t);
    }
    if (tickets.length === 0) return undefined;
    if (count !== undefined && tickets.length < count) return 'incomplete';
    return storedPurchase(purchaseId, tickets);
  }
}

/** A purchase as one store holds it: the record, and whether the store marked it cancelled. */
interface StoredPurchase {
  record: TicketPurchased;
  cancelled: boolean;
}

/**
 * A cancellation is of the whole purchase and the stores mark its tickets one by one (the
 * writer's DynamoDB updates are not atomic), so any ticket read as CANCELLED means the log holds
 * the purchase's TicketsCancelled.
 */
const storedPurchase = (purchaseId: string, tickets: Record<string, unknown>[]): StoredPurchase => ({
  record: recordOf(purchaseId, tickets),
  cancelled: tickets.some((t) => t.status === 'CANCELLED'),
});

const ticketCountOf = (t: Record<string, unknown>) => (typeof t.ticketCount === 'number' && t.ticketCount > 0 ? t.ticketCount : undefined);

function stillUnknown(purchaseId: string, why: string): ApiError {
  return new ApiError(
    'PURCHASE_OUTCOME_UNKNOWN',
    `The outcome of purchase ${purchaseId} is not known yet: ${why}. Retry shortly; it settles once the stores hold the event log.`,
    { purchaseId },
  );
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
    tickets: tickets.map((t): TicketLine => ({
      ticketId: str(t.ticketId),
      row: str(t.row),
      column: Number(t.column),
      priceCents: Number(t.priceCents),
    })),
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
