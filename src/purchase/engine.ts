import type { CatalogCache, CachedEvent, CachedZone } from '../catalog/cache';
import type { Config } from '../config/config';
import { Inventory, type SeatPosition } from '../inventory/inventory';
import { ReserveCode } from '../inventory/scripts';
import { metrics } from '../observability/metrics';
import { withTraceHeaders } from '../observability/trace-context';
import type { Logger } from '../observability/logger';
import { ApiError } from '../shared/errors';
import { NotSentError, type BatchingSender } from '../stream/sender';
import { newPurchaseId, ticketIdOf } from './ids';
import { RecentlyTaken } from './recently-taken';
import { partitionKey, SCHEMA_VERSION, type TicketPurchased } from './record';

export interface SeatRequest {
  row: string;
  column: number;
}

export interface PurchaseRequest {
  eventId: string;
  zoneId: string;
  venueId?: string;
  userId: string;
  seats: SeatRequest[];
  /** Assigned before the purchase runs when an Idempotency-Key must remember it (see idempotency.ts). */
  purchaseId?: string;
}

export interface PurchaseService {
  purchase(req: PurchaseRequest): Promise<TicketPurchased>;
}

type EngineConfig = Pick<
  Config,
  'MAX_SEATS_PER_PURCHASE' | 'PURCHASE_TIMEOUT_MS' | 'testHooks' | 'RECENTLY_TAKEN_TTL_MS'
>;

/** Resolves the event and zone of a request and checks it may be sold now. */
export async function resolveSale(catalog: CatalogCache, req: PurchaseRequest, cfg: Pick<Config, 'MAX_SEATS_PER_PURCHASE'>, now = Date.now()) {
  const event = await catalog.get(req.eventId);
  if (!event && catalog.recentlyKnown(req.eventId)) {
    throw new ApiError('INVENTORY_REBUILDING', `Event ${req.eventId} is being restored into the live inventory; try again shortly`);
  }
  if (!event) throw new ApiError('EVENT_NOT_FOUND', `Event ${req.eventId} does not exist; GET /api/v1/events lists the events`);
  if (req.venueId !== undefined && req.venueId !== event.entry.venue.venueId) {
    throw new ApiError('VENUE_NOT_FOUND', `Event ${req.eventId} takes place at ${event.entry.venue.venueId}, not ${req.venueId}`);
  }
  const zone = event.zones.get(req.zoneId);
  if (!zone) throw new ApiError('ZONE_NOT_FOUND', `Event ${req.eventId} has no zone ${req.zoneId}`);
  checkOnSale(event, now);
  const limit = Math.min(cfg.MAX_SEATS_PER_PURCHASE, event.entry.event.perUserLimit);
  if (req.seats.length > limit) {
    throw new ApiError('TOO_MANY_SEATS', `At most ${limit} seats per purchase for this event; you asked for ${req.seats.length}`, { limit });
  }
  return { event, zone, seats: locateSeats(zone, req.seats) };
}

function checkOnSale(event: CachedEvent, now: number): void {
  const e = event.entry.event;
  if (e.state !== 'OnSale') throw new ApiError('EVENT_NOT_ON_SALE', `Event ${e.eventId} is ${e.state}`);
  const opens = e.salesOpensAt ? Date.parse(e.salesOpensAt) : -Infinity;
  const closes = e.salesClosesAt ? Date.parse(e.salesClosesAt) : Infinity;
  if (now < opens || now >= closes) {
    throw new ApiError('SALES_WINDOW_CLOSED', `Sales for ${e.eventId} run from ${e.salesOpensAt ?? 'now'} to ${e.salesClosesAt ?? 'the event'}`);
  }
}

function locateSeats(zone: CachedZone, seats: SeatRequest[]): SeatPosition[] {
  const seen = new Set<number>();
  return seats.map((s) => {
    const pos = zone.layout.locate(s.row, s.column);
    if (!pos) {
      throw new ApiError('SEAT_OUTSIDE_LAYOUT', `Row ${s.row}, seat ${s.column} is not in zone ${zone.zone.zoneId}`, {
        seats: [s],
      });
    }
    if (seen.has(pos.offset)) throw new ApiError('DUPLICATE_SEAT', `Row ${s.row}, seat ${s.column} appears twice`, { seats: [s] });
    seen.add(pos.offset);
    return pos;
  });
}

/**
 * The purchase path: one Lua call reserves the seats and writes the pending record, one
 * batched Kafka produce confirms it. See docs/purchase-state-machine.md.
 */
export class PurchaseEngine implements PurchaseService {
  private readonly recent: RecentlyTaken;

  constructor(
    private readonly inventory: Inventory,
    private readonly catalog: CatalogCache,
    private readonly sender: BatchingSender,
    private readonly cfg: EngineConfig,
    private readonly log: Logger,
  ) {
    this.recent = new RecentlyTaken(cfg.RECENTLY_TAKEN_TTL_MS);
  }

  async purchase(req: PurchaseRequest): Promise<TicketPurchased> {
    const { event, zone, seats } = await resolveSale(this.catalog, req, this.cfg);
    this.refuseRecentlyTaken(req, seats);
    // The one place that answers "nothing was sold": before any seat is reserved. Past this
    // point a reservation is never released again (docs/purchase-state-machine.md).
    if (!this.sender.available) throw new ApiError('KAFKA_UNAVAILABLE', 'The event log is unreachable; nothing was sold, try again shortly');
    const record = purchaseRecord(req, event, zone);
    const { purchaseId } = record;
    const body = JSON.stringify(record);
    // One timer per purchase bounds both the reservation and the acknowledgement.
    const deadline = new Deadline(this.cfg.PURCHASE_TIMEOUT_MS);
    try {
      // A reservation that outlives the deadline may still land: the sweep then completes it.
      const reserved = await deadline.race(this.reserve(req, zone, purchaseId, seats, body), () => unknownOutcome(purchaseId, 'the seat inventory did not answer in time'));
      if (this.cfg.testHooks.FAULT_CRASH_AFTER_RESERVE) process.kill(process.pid, 'SIGKILL');

      const acked = this.sender.send({ key: partitionKey(req.eventId, req.zoneId), value: body, headers: withTraceHeaders({ 'x-purchase-id': purchaseId }) });
      // Whatever the buyer hears, a late acknowledgement still confirms the record.
      const settled = acked.then(() => this.confirm(req.eventId, req.zoneId, purchaseId));
      settled.catch(() => undefined);
      await deadline.race(settled, () => unknownOutcome(purchaseId, 'Kafka did not acknowledge in time'));
      this.recent.markTaken(zoneKeyOf(req), zone.layout.capacity, seats.map((s) => s.offset));
      if (reserved.available === 0) this.recent.markSoldOut(zoneKeyOf(req), zone.layout.capacity);
      return record;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // Never handed to Kafka, but the seats are reserved: the record stays RESERVED and the
      // sweep sends it once Kafka is back. Releasing it here would be a Redis-only write whose
      // loss (an older AOF, a replica) turns "nothing was sold" into a sale.
      if (err instanceof NotSentError) throw unknownOutcome(purchaseId, 'The event log is unreachable; your seats are held and the purchase completes once it is back');
      throw unknownOutcome(purchaseId, (err as Error).message);
    } finally {
      deadline.clear();
    }
  }

  /** Refuses at once what this process saw taken a moment ago (see RecentlyTaken). */
  private refuseRecentlyTaken(req: PurchaseRequest, seats: SeatPosition[]): void {
    if (this.cfg.RECENTLY_TAKEN_TTL_MS === 0) return;
    const key = zoneKeyOf(req);
    if (this.recent.soldOut(key)) {
      metrics.purchaseConflicts.inc({ reason: 'zone_sold_out' });
      throw conflict('ZONE_SOLD_OUT', `Zone ${req.zoneId} of ${req.eventId} is sold out`);
    }
    const hits = this.recent.taken(key, seats.map((s) => s.offset));
    if (hits.length === 0) return;
    metrics.purchaseConflicts.inc({ reason: 'seat_taken' });
    const taken = hits.map((i) => req.seats[i]!);
    throw conflict('SEATS_TAKEN', `Already taken: ${taken.map((s) => `row ${s.row} seat ${s.column}`).join(', ')}`, { seats: taken });
  }

  private async reserve(req: PurchaseRequest, zone: CachedZone, purchaseId: string, seats: SeatPosition[], body: string) {
    let result;
    try {
      result = await this.inventory.reserve(req.eventId, req.zoneId, zone.layout, purchaseId, seats, body);
    } catch (err) {
      this.log.warn({ err, purchaseId }, 'reserve failed');
      // The command may have run before the connection failed: the outcome is unknown.
      throw unknownOutcome(purchaseId, 'the seat inventory did not answer');
    }
    switch (result.code) {
      case ReserveCode.OK:
        return result;
      case ReserveCode.SEATS_TAKEN: {
        metrics.purchaseConflicts.inc({ reason: 'seat_taken' });
        this.recent.markTaken(zoneKeyOf(req), zone.layout.capacity, result.takenIndexes.map((i) => seats[i - 1]!.offset));
        const taken = result.takenIndexes.map((i) => req.seats[i - 1]);
        throw conflict('SEATS_TAKEN', `Already taken: ${taken.map((s) => `row ${s?.row} seat ${s?.column}`).join(', ')}`, { seats: taken });
      }
      case ReserveCode.SOLD_OUT:
        metrics.purchaseConflicts.inc({ reason: 'zone_sold_out' });
        this.recent.markSoldOut(zoneKeyOf(req), zone.layout.capacity);
        throw conflict('ZONE_SOLD_OUT', `Zone ${req.zoneId} of ${req.eventId} is sold out`);
      case ReserveCode.OUT_OF_LAYOUT:
        throw new ApiError('SEAT_OUTSIDE_LAYOUT', 'A seat is outside the zone layout', { seats: [req.seats[(result.detail ?? 1) - 1]] });
      case ReserveCode.DUPLICATE:
        throw new ApiError('DUPLICATE_SEAT', 'The same seat appears more than once in the request');
      case ReserveCode.LAYOUT_MISMATCH:
        this.catalog.invalidate(req.eventId);
        throw new ApiError('INVENTORY_UNAVAILABLE', 'The zone layout changed while you were buying; try again');
      case ReserveCode.NO_INVENTORY:
        throw new ApiError('INVENTORY_REBUILDING', `Zone ${req.zoneId} of ${req.eventId} has no live inventory yet; try again shortly`);
      case ReserveCode.ZONE_CLOSED:
        this.catalog.invalidate(req.eventId);
        throw new ApiError('EVENT_NOT_ON_SALE', `Zone ${req.zoneId} of ${req.eventId} is closed: it was removed from the catalog (GET /api/v1/events/${req.eventId} shows what is on sale)`);
    }
  }

  private async confirm(eventId: string, zoneId: string, purchaseId: string): Promise<void> {
    try {
      await this.inventory.confirm(eventId, zoneId, purchaseId);
    } catch (err) {
      // Kafka holds the record, so the sale stands; the sweep re-sends and confirms later.
      this.log.warn({ err, purchaseId }, 'confirm write failed after the Kafka acknowledgement');
    }
  }
}

const zoneKeyOf = (req: PurchaseRequest) => `${req.eventId}\u0000${req.zoneId}`;

/** The `TicketPurchased` record of a request: the Kafka message and the pending record's body. */
export function purchaseRecord(req: PurchaseRequest, event: CachedEvent, zone: CachedZone): TicketPurchased {
  const purchaseId = req.purchaseId ?? newPurchaseId(req.eventId, req.zoneId);
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId: req.eventId,
    venueId: event.entry.venue.venueId,
    zoneId: req.zoneId,
    userId: req.userId,
    tickets: req.seats.map((s, i) => ({ ticketId: ticketIdOf(purchaseId, i + 1), row: s.row, column: s.column, priceCents: zone.zone.priceCents })),
    currency: event.entry.event.currency,
    createdOn: new Date().toISOString(),
  };
}

/** An expected refusal (seat taken, sold out): thousands a second, so no stack trace is captured. */
export function conflict(code: 'SEATS_TAKEN' | 'ZONE_SOLD_OUT', detail: string, extra: Record<string, unknown> = {}): ApiError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ApiError(code, detail, extra);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** One timer that any number of steps race against. */
class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private readonly expired: Promise<void>;
  constructor(ms: number) {
    this.expired = new Promise<void>((resolve) => (this.timer = setTimeout(resolve, ms)));
  }

  race<T>(work: Promise<T>, onTimeout: () => Error): Promise<T> {
    work.catch(() => undefined);
    return Promise.race([work, this.expired.then((): never => { throw onTimeout(); })]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function unknownOutcome(purchaseId: string, why: string): ApiError {
  return new ApiError(
    'PURCHASE_OUTCOME_UNKNOWN',
    `${why}. GET /api/v1/purchases/${purchaseId} tells the final outcome.`,
    { purchaseId },
  );
}
