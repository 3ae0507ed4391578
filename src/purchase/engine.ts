import type { ReplicationBarrier } from '../inventory/replication-barrier';
import type { CatalogCache, CachedEvent, CachedZone } from '../catalog/cache';
import type { Config } from '../config/config';
import { Inventory, type SeatPosition } from '../inventory/inventory';
import { isDeclaredBuyer, type BuyerAllowance } from '../inventory/allowance';
import { reserveWithinBuyerLimit, type BuyerLimitHooks, type LimitedReserveResult } from '../checkout/buyer-limit';
import { ReserveCode } from '../commands/scripts';
import { withTraceHeaders } from '../observability/trace-context';
import type { Logger } from '../observability/logger';
import { NotSentError, type BatchingSender } from '../stream/sender';
import { newPurchaseId, ticketIdOf } from './ids';
import { RecentlyTaken, recentZoneKey } from './recently-taken';
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

/**
 * Everything a purchase can come to. The engine answers in these terms only: no HTTP status,
 * no problem code, no metric. `src/http/outcomes.ts` is the one table that maps each kind to
 * its answer (docs/contracts.md, "Purchase outcomes"); the compiler refuses a kind it lacks.
 */
export type PurchaseOutcome = { kind: 'confirmed'; record: TicketPurchased } | Unconfirmed;

/** A purchase that sold nothing, or whose outcome is not known yet (`unknown`). */
export type Unconfirmed =
  | { kind: 'event-not-found'; eventId: string }
  | { kind: 'venue-mismatch'; eventId: string; venueId: string; asked: string }
  | { kind: 'zone-not-found'; eventId: string; zoneId: string }
  | { kind: 'not-on-sale'; eventId: string; state: string }
  | { kind: 'outside-sales-window'; eventId: string; opensAt?: string; closesAt?: string }
  | { kind: 'too-many-seats'; limit: number; asked: number }
  /** The buyer's seats for the event (held and bought, across zones) would pass perUserLimit; `left` may still be taken. */
  | { kind: 'buyer-limit-reached'; left: number; limit: number }
  | { kind: 'seat-outside-layout'; zoneId: string; seats: SeatRequest[] }
  /** `seats` names the repeated seat when the engine found it (empty when reserve.lua did). */
  | { kind: 'duplicate-seat'; seats: SeatRequest[] }
  | { kind: 'seats-taken'; seats: SeatRequest[] }
  /** `left` (0) is given where the answer names the count left (the checkout's best available). */
  | { kind: 'zone-sold-out'; eventId: string; zoneId: string; left?: number }
  /** The event (no zoneId) or the zone has no live inventory yet. */
  | { kind: 'inventory-rebuilding'; eventId: string; zoneId?: string }
  | { kind: 'layout-changed' }
  | { kind: 'inventory-unavailable'; why: string }
  /** The event log is unreachable, checked before anything was reserved: nothing was sold. */
  | { kind: 'log-unavailable' }
  /** Seats may be held: `next` says how to learn the outcome (default: look the purchase up). */
  | { kind: 'unknown'; purchaseId: string; why: string; next?: string };

/**
 * An outcome thrown by domain code whose result is not a PurchaseOutcome (the checkout's holds):
 * it carries no HTTP status; src/http/outcomes.ts maps it like any returned outcome.
 */
export class OutcomeError extends Error {
  constructor(readonly outcome: Unconfirmed) {
    super(outcome.kind);
  }
}

export interface PurchaseService {
  purchase(req: PurchaseRequest): Promise<PurchaseOutcome>;
}

type EngineConfig = Pick<Config, 'MAX_SEATS_PER_PURCHASE' | 'PURCHASE_TIMEOUT_MS' | 'testHooks' | 'RECENTLY_TAKEN_TTL_MS'>;

export interface Sale {
  kind: 'sale';
  event: CachedEvent;
  zone: CachedZone;
  seats: SeatPosition[];
}

/** Resolves the event and zone of a request and checks it may be sold now. */
export async function resolveSale(
  catalog: CatalogCache,
  req: PurchaseRequest,
  cfg: Pick<Config, 'MAX_SEATS_PER_PURCHASE'>,
  now = Date.now(),
): Promise<Sale | Unconfirmed> {
  const event = await catalog.get(req.eventId);
  if (!event && catalog.recentlyKnown(req.eventId)) return { kind: 'inventory-rebuilding', eventId: req.eventId };
  if (!event) return { kind: 'event-not-found', eventId: req.eventId };
  if (req.venueId !== undefined && req.venueId !== event.entry.venue.venueId) {
    return { kind: 'venue-mismatch', eventId: req.eventId, venueId: event.entry.venue.venueId, asked: req.venueId };
  }
  const zone = event.zones.get(req.zoneId);
  if (!zone) return { kind: 'zone-not-found', eventId: req.eventId, zoneId: req.zoneId };
  const closed = checkOnSale(event, now);
  if (closed) return closed;
  const limit = Math.min(cfg.MAX_SEATS_PER_PURCHASE, event.entry.event.perUserLimit);
  if (req.seats.length > limit) return { kind: 'too-many-seats', limit, asked: req.seats.length };
  const seats = locateSeats(zone, req.seats);
  return Array.isArray(seats) ? { kind: 'sale', event, zone, seats } : seats;
}

function checkOnSale(event: CachedEvent, now: number): Unconfirmed | undefined {
  const e = event.entry.event;
  if (e.state !== 'OnSale') return { kind: 'not-on-sale', eventId: e.eventId, state: e.state };
  const opens = e.salesOpensAt ? Date.parse(e.salesOpensAt) : -Infinity;
  const closes = e.salesClosesAt ? Date.parse(e.salesClosesAt) : Infinity;
  if (now < opens || now >= closes)
    return { kind: 'outside-sales-window', eventId: e.eventId, opensAt: e.salesOpensAt, closesAt: e.salesClosesAt };
  return undefined;
}

function locateSeats(zone: CachedZone, seats: SeatRequest[]): SeatPosition[] | Unconfirmed {
  const seen = new Set<number>();
  const out: SeatPosition[] = new Array(seats.length);
  for (let i = 0; i < seats.length; i++) {
    const s = seats[i]!;
    const pos = zone.layout.locate(s.row, s.column);
    if (!pos) return { kind: 'seat-outside-layout', zoneId: zone.zone.zoneId, seats: [s] };
    if (seen.has(pos.offset)) return { kind: 'duplicate-seat', seats: [s] };
    seen.add(pos.offset);
    out[i] = pos;
  }
  return out;
}

/**
 * The purchase path: one Lua call reserves the seats and writes the pending record, one
 * batched Kafka produce confirms it. See docs/purchase-state-machine.md.
 *
 * With a `BuyerAllowance`, a declared buyer's purchase also counts against the event's
 * perUserLimit together with the buyer's holds, across zones (docs/checkout.md, "The per-buyer
 * limit on the direct multi-seat route"): two more Redis calls around reserve.lua, in the buyer's
 * slot. An anonymous purchase (no userId) keeps the per-request limit and stays one reserve.lua call.
 */
export class PurchaseEngine implements PurchaseService {
  private readonly recent: RecentlyTaken;
  private readonly limitHooks: BuyerLimitHooks;

  constructor(
    private readonly inventory: Inventory,
    private readonly catalog: CatalogCache,
    private readonly sender: BatchingSender,
    private readonly cfg: EngineConfig,
    private readonly log: Logger,
    /** The per-buyer limit across requests and zones; without it (a bare engine) only the per-request limit applies. */
    private readonly allowance?: BuyerAllowance,
    /** REDIS_WAIT_REPLICAS > 0: wait for replicas after each reservation (see ReplicationBarrier). */
    private readonly barrier?: ReplicationBarrier,
  ) {
    this.recent = new RecentlyTaken(cfg.RECENTLY_TAKEN_TTL_MS);
    this.limitHooks = {
      ...(cfg.testHooks.FAULT_CRASH_AFTER_BUYER_STEP ? { afterBuyerStep: () => process.kill(process.pid, 'SIGKILL') } : {}),
      // The reservation stands; the provisional entry keeps counting until it is resolved.
      onSettleError: (err) => this.log.warn({ err }, 'the buyer allowance entry could not be settled after reserve.lua'),
    };
  }

  async purchase(req: PurchaseRequest): Promise<PurchaseOutcome> {
    const sale = await resolveSale(this.catalog, req, this.cfg);
    if (sale.kind !== 'sale') return sale;
    const { event, zone, seats } = sale;
    const refused = this.refuseRecentlyTaken(req, seats);
    if (refused) return refused;
    // The one place that answers "nothing was sold": before any seat is reserved. Past this
    // point a reservation is never released again (docs/purchase-state-machine.md).
    if (!this.sender.available) return { kind: 'log-unavailable' };
    const record = purchaseRecord(req, event, zone);
    const { purchaseId } = record;
    const body = JSON.stringify(record);
    // One timer per purchase bounds both the reservation and the acknowledgement.
    const deadline = new Deadline(this.cfg.PURCHASE_TIMEOUT_MS);
    try {
      // A reservation that outlives the deadline may still land: the sweep then completes it.
      const reserved = await deadline.race(this.reserve(req, event, zone, purchaseId, seats, body), () =>
        unknown(purchaseId, 'the seat inventory did not answer in time'),
      );
      if (reserved.kind !== undefined) return reserved;
      if (this.cfg.testHooks.FAULT_CRASH_AFTER_RESERVE) process.kill(process.pid, 'SIGKILL');
      // Narrows the failover window (the fence covers it): the replicas hold the reservation first.
      // Bounded by the purchase's deadline; past it the record is not sent from here (the sweep
      // sends what Redis still holds), so no record a buyer heard 503 for lands late from here.
      if (this.barrier) {
        const waited = await deadline.race(
          this.barrier.after(req.eventId, req.zoneId).then(() => undefined),
          () => unknown(purchaseId, 'the Redis replicas did not answer in time'),
        );
        if (waited !== undefined) return waited;
      }

      // Never tried past the deadline either: a record the buyer heard 503 for reaches a broker
      // by the deadline plus the log's send overrun, or never (the fence's settle time).
      const acked = this.sender.send(
        {
          key: partitionKey(req.eventId, req.zoneId),
          value: body,
          headers: withTraceHeaders({ 'x-purchase-id': purchaseId }),
        },
        deadline.at,
      );
      // Whatever the buyer hears, a late acknowledgement still confirms the record.
      const settled = acked.then(() => this.confirm(req.eventId, req.zoneId, purchaseId));
      settled.catch(() => undefined);
      const late = await deadline.race(settled, () => unknown(purchaseId, 'Kafka did not acknowledge in time'));
      if (late !== undefined) return late;
      this.recent.markTaken(
        zoneKeyOf(req),
        zone.layout.capacity,
        seats.map((s) => s.offset),
      );
      if (reserved.available === 0 && !reserved.held) this.recent.markSoldOut(zoneKeyOf(req), zone.layout.capacity);
      return { kind: 'confirmed', record };
    } catch (err) {
      // Never handed to Kafka, but the seats are reserved: the record stays RESERVED and the
      // sweep sends it once Kafka is back. Releasing it here would be a Redis-only write whose
      // loss (an older AOF, a replica) turns "nothing was sold" into a sale.
      if (err instanceof NotSentError)
        return unknown(purchaseId, 'The event log is unreachable; your seats are held and the purchase completes once it is back');
      return unknown(purchaseId, (err as Error).message);
    } finally {
      deadline.clear();
    }
  }

  /** Refuses at once what this process saw taken a moment ago (see RecentlyTaken). */
  private refuseRecentlyTaken(req: PurchaseRequest, seats: SeatPosition[]): Unconfirmed | undefined {
    if (this.cfg.RECENTLY_TAKEN_TTL_MS === 0) return undefined;
    const key = zoneKeyOf(req);
    if (this.recent.soldOut(key)) return { kind: 'zone-sold-out', eventId: req.eventId, zoneId: req.zoneId };
    const hits = this.recent.taken(
      key,
      seats.map((s) => s.offset),
    );
    if (hits.length === 0) return undefined;
    return { kind: 'seats-taken', seats: hits.map((i) => req.seats[i]!) };
  }

  /** The OK reservation, or what became of the purchase instead. */
  private async reserve(
    req: PurchaseRequest,
    event: CachedEvent,
    zone: CachedZone,
    purchaseId: string,
    seats: SeatPosition[],
    body: string,
  ): Promise<Reserved | Unconfirmed> {
    const perUserLimit = event.entry.event.perUserLimit;
    let result: LimitedReserveResult;
    try {
      // The anonymous hot path: exactly one reserve.lua call, as without an allowance.
      result =
        this.allowance && isDeclaredBuyer(req.userId)
          ? await reserveWithinBuyerLimit(
              this.inventory,
              this.allowance,
              {
                eventId: req.eventId,
                zoneId: req.zoneId,
                layout: zone.layout,
                purchaseId,
                seats,
                body,
                buyer: req.userId,
                limit: perUserLimit,
              },
              this.limitHooks,
            )
          : await this.inventory.reserve(req.eventId, req.zoneId, zone.layout, purchaseId, seats, body);
    } catch (err) {
      this.log.warn({ err, purchaseId }, 'reserve failed');
      // The command may have run before the connection failed: the outcome is unknown.
      return unknown(purchaseId, 'the seat inventory did not answer');
    }
    switch (result.code) {
      case 'BUYER_LIMIT_REACHED':
        return { kind: 'buyer-limit-reached', left: result.left, limit: perUserLimit };
      case 'ALLOWANCE_UNAVAILABLE':
        // Step 1 of the buyer's allowance failed, so reserve.lua never ran: nothing was sold.
        this.log.warn({ err: result.error, purchaseId }, 'the buyer allowance did not answer');
        return { kind: 'inventory-unavailable', why: "The buyer's seat allowance did not answer; nothing was sold, try again shortly" };
      case ReserveCode.OK:
        return result;
      case ReserveCode.SEATS_TAKEN: {
        // Remembered are sold seats only: a held one may be on sale again in a moment.
        const held = new Set(result.heldIndexes);
        this.recent.markTaken(
          zoneKeyOf(req),
          zone.layout.capacity,
          result.takenIndexes.filter((i) => !held.has(i)).map((i) => seats[i - 1]!.offset),
        );
        return { kind: 'seats-taken', seats: seatsAt(req, result.takenIndexes) };
      }
      case ReserveCode.SOLD_OUT:
        // Sold out for good only when no seat is held (a held one comes back at its release).
        if (!result.detail) this.recent.markSoldOut(zoneKeyOf(req), zone.layout.capacity);
        return { kind: 'zone-sold-out', eventId: req.eventId, zoneId: req.zoneId };
      case ReserveCode.OUT_OF_LAYOUT:
        return { kind: 'seat-outside-layout', zoneId: req.zoneId, seats: seatsAt(req, [result.detail ?? 1]) };
      case ReserveCode.DUPLICATE:
        return { kind: 'duplicate-seat', seats: [] };
      case ReserveCode.LAYOUT_MISMATCH:
        this.catalog.invalidate(req.eventId);
        return { kind: 'layout-changed' };
      case ReserveCode.NO_INVENTORY:
      case ReserveCode.REBUILDING:
        // Lost or fenced (a Redis restart or failover): the controller re-marks it from the truth.
        return { kind: 'inventory-rebuilding', eventId: req.eventId, zoneId: req.zoneId };
      case ReserveCode.ZONE_CLOSED:
        // The zone left the catalog (close-zone.lua fenced it); this api's cache still shows it.
        this.catalog.invalidate(req.eventId);
        return {
          kind: 'not-on-sale',
          eventId: req.eventId,
          state: `closed for zone ${req.zoneId}, which was removed from the catalog (GET /api/v1/events/${req.eventId} shows what is on sale)`,
        };
      default:
        return unreachable(result);
    }
  }

  private async confirm(eventId: string, zoneId: string, purchaseId: string): Promise<undefined> {
    try {
      await this.inventory.confirm(eventId, zoneId, purchaseId);
    } catch (err) {
      // Kafka holds the record, so the sale stands; the sweep re-sends and confirms later.
      this.log.warn({ err, purchaseId }, 'confirm write failed after the Kafka acknowledgement');
    }
    return undefined;
  }
}

/** reserve.lua's OK answer as the inventory returns it (no `kind`: not an outcome yet). */
type Reserved = { kind?: undefined; available: number; held?: number };

/** The recently-taken cache's key: the one rule in recently-taken.ts, so a release there reaches it. */
const zoneKeyOf = (req: PurchaseRequest) => recentZoneKey(req.eventId, req.zoneId);

/** The requested seats at reserve.lua's 1-based indexes (request order). */
const seatsAt = (req: PurchaseRequest, indexes: number[]): SeatRequest[] => indexes.flatMap((i) => req.seats[i - 1] ?? []);

const unknown = (purchaseId: string, why: string): Unconfirmed => ({ kind: 'unknown', purchaseId, why });

/** A reserve.lua code without a case above: the compiler refuses it (add its outcome). */
function unreachable(result: { code: never }): never {
  throw new Error(`reserve.lua returned code ${String(result.code)}, which the engine does not know; add its outcome to PurchaseOutcome`);
}

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
    tickets: req.seats.map((s, i) => ({
      ticketId: ticketIdOf(purchaseId, i + 1),
      row: s.row,
      column: s.column,
      priceCents: zone.zone.priceCents,
    })),
    currency: event.entry.event.currency,
    createdOn: new Date().toISOString(),
  };
}

/** One timer that any number of steps race against; on expiry a step answers `onTimeout()`. */
class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private readonly expired: Promise<void>;
  /** When it expires, in ms since the epoch. */
  readonly at: number;
  constructor(ms: number) {
    this.at = Date.now() + ms;
    this.expired = new Promise<void>((resolve) => (this.timer = setTimeout(resolve, ms)));
  }

  race<T, U>(work: Promise<T>, onTimeout: () => U): Promise<T | U> {
    work.catch(() => undefined);
    return Promise.race([work, this.expired.then(onTimeout)]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
