import type { CachedEvent, CachedZone, CatalogCache } from '../catalog/cache';
import { HOLD_MIN_SECONDS, type Config } from '../config/config';
import { BuyerAllowance, isDeclaredBuyer, type AcquireResult } from '../inventory/allowance';
import { effectiveStatus, Holds, newHoldId, nextToEachOther, parseHoldId, type HoldRecord, type HoldResult } from '../inventory/holds';
import type { SeatPosition } from '../inventory/inventory';
import { AllowanceCode, HoldCode } from '../commands/scripts';
import { metrics } from '../observability/metrics';
import { OutcomeError, resolveSale, type SeatRequest } from '../purchase/engine';
import { newPurchaseId, ticketIdOf } from '../purchase/ids';
import { SCHEMA_VERSION, type PaymentReference, type TicketPurchased } from '../purchase/record';
import { ApiError } from '../shared/errors';

/**
 * The checkout's hold surface that the HTTP routes and the payment step call
 * (docs/purchase-state-machine.md, "Holds"): validation against the catalog, the per-buyer
 * limit around every zone step, and the API's view of a hold. Refusals are ApiErrors with the
 * contract's codes; a payment's refund cases are returned, not thrown (see ConvertOutcome).
 * Who may read or change a hold (its buyer, or admin) is the route's check: `buyer` is in the view.
 */

export type HoldApiStatus = 'HELD' | 'EXPIRED' | 'RELEASED' | 'PURCHASED';

export interface HoldView {
  holdId: string;
  eventId: string;
  zoneId: string;
  seats: SeatRequest[];
  /** ISO 8601. */
  expiresAt: string;
  /** The latest expiresAt extensions may reach (createdAt + HOLD_MAX_SECONDS), ISO 8601. */
  maxExpiresAt: string;
  amountCents: number;
  currency: string;
  nextToEachOther: boolean;
  status: HoldApiStatus;
  /** The buyer's id, or undefined for an anonymous hold. */
  buyer?: string;
  /** Set once the hold was paid (PURCHASED, or a late payment of an EXPIRED hold). */
  purchaseId?: string;
}

export interface CreateHoldRequest {
  eventId: string;
  zoneId: string;
  /** A declared or authenticated buyer; undefined or `anonymous` skips the per-buyer limit. */
  buyer?: string;
  /** Exactly one of seats and best. */
  seats?: SeatRequest[];
  best?: { count: number };
  /** HOLD_MIN_SECONDS (5) .. HOLD_MAX_SECONDS; default HOLD_DEFAULT_SECONDS. */
  expiresInSeconds?: number;
  /** To retry a request whose answer was lost: the same id never holds twice. Default: a new id. */
  holdId?: string;
}

export interface ConvertRequest {
  holdId: string;
  /** Default: a new purchase id. Pass the same one to retry (convert.lua answers its first outcome). */
  purchaseId?: string;
  /** The hold's seats and buyer as the payment recorded them: used only when the hold is gone from Redis. */
  seats?: SeatRequest[];
  buyer?: string;
  /** The payment that paid it, carried in the TicketPurchased record (src/checkout/checkout.ts). */
  payment?: PaymentReference;
}

/**
 * What paying a hold did. `converted` / `late`: the purchase is RESERVED (the same pending record
 * as a direct purchase): send `record` to Kafka, answer 201 after the acknowledgement, then
 * `Inventory.confirm` (or let the recovery sweep do it), exactly as PurchaseEngine does.
 * `refund`: nothing was sold; the payment must be refunded.
 */
export type ConvertOutcome =
  | { outcome: 'converted' | 'late'; record: TicketPurchased; available: number }
  | {
      outcome: 'refund';
      reason: 'SEATS_TAKEN' | 'HOLD_RELEASED' | 'HOLD_ALREADY_PURCHASED' | 'ZONE_CLOSED' | 'BUYER_LIMIT_REACHED';
      detail: string;
      purchaseId: string;
    };

interface HoldInfo {
  priceCents: number;
  currency: string;
}

type HoldConfig = Pick<Config, 'HOLD_DEFAULT_SECONDS' | 'HOLD_MAX_SECONDS' | 'MAX_SEATS_PER_PURCHASE'>;

const STATUS: Record<HoldRecord['status'], HoldApiStatus> = {
  held: 'HELD',
  expired: 'EXPIRED',
  released: 'RELEASED',
  purchased: 'PURCHASED',
  fenced: 'RELEASED',
};

export class HoldService {
  constructor(
    readonly holds: Holds,
    readonly allowance: BuyerAllowance,
    private readonly catalog: CatalogCache,
    private readonly cfg: HoldConfig,
  ) {}

  async create(req: CreateHoldRequest): Promise<HoldView> {
    if ((req.seats === undefined) === (req.best === undefined)) {
      throw new ApiError('VALIDATION_FAILED', 'Give either seats: [{row, column}] or best: {count}, not both and not neither');
    }
    const seconds = req.expiresInSeconds ?? this.cfg.HOLD_DEFAULT_SECONDS;
    if (!Number.isInteger(seconds) || seconds < HOLD_MIN_SECONDS) {
      throw new ApiError('VALIDATION_FAILED', `expiresInSeconds must be a whole number of at least ${HOLD_MIN_SECONDS}`);
    }
    if (seconds > this.cfg.HOLD_MAX_SECONDS) {
      throw new ApiError('HOLD_LIMIT_REACHED', `A hold lives at most ${this.cfg.HOLD_MAX_SECONDS} s; ask for that or less`, {
        maxSeconds: this.cfg.HOLD_MAX_SECONDS,
      });
    }
    const sale = await resolveSale(
      this.catalog,
      { eventId: req.eventId, zoneId: req.zoneId, userId: req.buyer ?? '', seats: req.seats ?? [] },
      this.cfg,
    );
    if (sale.kind !== 'sale') throw new OutcomeError(sale);
    const { event, zone, seats } = sale;
    const perUser = Math.min(this.cfg.MAX_SEATS_PER_PURCHASE, event.entry.event.perUserLimit);
    const count = req.best ? req.best.count : seats.length;
    if (req.best && (!Number.isInteger(count) || count < 1))
      throw new ApiError('VALIDATION_FAILED', 'best.count must be a whole number of at least 1');
    if (count > perUser) throw new OutcomeError({ kind: 'too-many-seats', limit: perUser, asked: count });
    if (req.holdId !== undefined && parseHoldId(req.holdId)?.zoneId !== req.zoneId)
      throw new ApiError('VALIDATION_FAILED', 'holdId must be one this service issued for this event and zone');

    const now = this.holds.clock();
    const holdId = req.holdId ?? newHoldId(req.eventId, req.zoneId);
    const info: HoldInfo = { priceCents: zone.zone.priceCents, currency: event.entry.event.currency };
    const h = {
      holdId,
      buyer: isDeclaredBuyer(req.buyer) ? req.buyer : '',
      expiresAt: now + seconds * 1000,
      maxUntil: now + this.cfg.HOLD_MAX_SECONDS * 1000,
      info: JSON.stringify(info),
    };
    const zoneStep = () =>
      req.best
        ? this.holds.best(req.eventId, req.zoneId, zone.layout, h, count)
        : this.holds.hold(req.eventId, req.zoneId, zone.layout, h, seats);

    let result: HoldResult;
    if (isDeclaredBuyer(req.buyer)) {
      const limited = await this.allowance.around(
        {
          eventId: req.eventId,
          buyer: req.buyer,
          entryId: holdId,
          seats: count,
          limit: event.entry.event.perUserLimit,
          kind: 'hold',
          zoneId: req.zoneId,
          holdId,
        },
        zoneStep,
        (r) => (r.code === HoldCode.OK ? { firm: 'hold', expiresAt: r.expiresAt } : { firm: 'none' }),
      );
      if (!limited.ok) throw buyerLimit(limited, event.entry.event.perUserLimit);
      result = limited.value;
    } else {
      result = await zoneStep();
    }
    if (result.code !== HoldCode.OK) throw this.refusal(result, req, zone, req.seats ?? []);
    metrics.holds.inc({ transition: 'created' });
    // The sweeper's index; a crash before it is caught by the sweeper's rescan.
    await this.holds.indexZone(req.eventId, req.zoneId, result.expiresAt);
    // A retry under a given id answers the hold as it was first made.
    if (req.holdId !== undefined) return this.get(holdId);
    return view(
      {
        holdId,
        status: 'held',
        seats: result.seats,
        buyer: h.buyer,
        createdAt: now,
        expiresAt: result.expiresAt,
        maxUntil: h.maxUntil,
        info: h.info,
      },
      req.eventId,
      req.zoneId,
      zone,
      now,
    );
  }

  async get(holdId: string): Promise<HoldView> {
    const { hold, where, zone } = await this.load(holdId);
    return view(hold, where.eventId, where.zoneId, zone, this.holds.clock());
  }

  /** Adds `seconds` to the current expiry (the allowance first: a crash in between errs on counting). */
  async extend(holdId: string, seconds: number): Promise<HoldView> {
    if (!Number.isInteger(seconds) || seconds < 1) throw new ApiError('VALIDATION_FAILED', 'seconds must be a whole number of at least 1');
    const { hold, where } = await this.load(holdId);
    this.refuseInactive(hold);
    const wanted = hold.expiresAt + seconds * 1000;
    if (wanted > hold.maxUntil) throw limitReached(hold, this.holds.clock());
    if (isDeclaredBuyer(hold.buyer)) await this.allowance.extend(where.eventId, hold.buyer, holdId, wanted);
    const r = await this.holds.extend(where.eventId, where.zoneId, holdId, seconds * 1000);
    if (r.code === HoldCode.HOLD_LIMIT_REACHED) throw limitReached(hold, this.holds.clock());
    if (r.code !== HoldCode.OK) this.refuseInactive({ ...hold, status: r.code === HoldCode.HOLD_EXPIRED ? 'expired' : 'released' });
    return this.get(holdId);
  }

  /** Releases now; a second release answers the same. The seats are on sale when this returns. */
  async release(holdId: string): Promise<HoldView> {
    const { hold, where } = await this.load(holdId);
    const r = await this.holds.release(where.eventId, where.zoneId, holdId);
    if (r.code === HoldCode.HOLD_NOT_ACTIVE) this.refuseInactive(hold);
    if (r.code === HoldCode.OK && r.freed > 0) metrics.holds.inc({ transition: 'released' });
    if (isDeclaredBuyer(hold.buyer) && (r.code === HoldCode.OK || r.code === HoldCode.HOLD_EXPIRED))
      await this.allowance.release(where.eventId, hold.buyer, holdId);
    if (r.code === HoldCode.HOLD_EXPIRED)
      throw new ApiError('HOLD_EXPIRED', `Hold ${holdId} had expired already; its seats are on sale again`);
    return this.get(holdId);
  }

  /** Pays a hold: it becomes a RESERVED purchase, or a late payment retakes its seats, or it is a refund. */
  async convert(req: ConvertRequest): Promise<ConvertOutcome> {
    const where = parseHoldId(req.holdId);
    if (!where) throw holdNotFound(req.holdId);
    const hold = await this.holds.get(req.holdId);
    const event = await this.catalog.get(where.eventId);
    const zone = event?.zones.get(where.zoneId);
    if (!event || !zone)
      throw new ApiError('EVENT_NOT_FOUND', `The event or zone of hold ${req.holdId} is not in the catalog any more; refund the payment`);
    const positions = hold ? hold.seats : locate(zone, req.seats ?? []);
    if (positions.length === 0) throw holdNotFound(req.holdId, ' and no seats were given to pay it late');
    const buyer = hold ? hold.buyer : (req.buyer ?? '');
    const info = hold ? (JSON.parse(hold.info) as HoldInfo) : { priceCents: zone.zone.priceCents, currency: event.entry.event.currency };
    const purchaseId = req.purchaseId ?? newPurchaseId(where.eventId, where.zoneId);
    const record = purchaseRecord(purchaseId, where, event, zone, positions, buyer, info, req.payment);
    const zoneStep = () =>
      this.holds.convert(where.eventId, where.zoneId, zone.layout, req.holdId, purchaseId, positions, JSON.stringify(record));

    let result;
    if (isDeclaredBuyer(buyer)) {
      const limited = await this.allowance.around(
        {
          eventId: where.eventId,
          buyer,
          entryId: req.holdId,
          seats: positions.length,
          limit: event.entry.event.perUserLimit,
          kind: 'convert',
          zoneId: where.zoneId,
          holdId: req.holdId,
          purchaseId,
        },
        zoneStep,
        // Refused: back to the hold's own entry (it lapses at once if the hold is over).
        (r) =>
          r.code === HoldCode.OK || r.code === HoldCode.LATE_RETAKEN
            ? { firm: 'purchase', purchaseId }
            : { firm: 'hold', expiresAt: hold?.expiresAt ?? 0 },
      );
      if (!limited.ok && limited.code === AllowanceCode.BUSY)
        throw new ApiError('HOLD_IN_PROGRESS', `Hold ${req.holdId} is being paid by another request; look it up before retrying`);
      if (!limited.ok)
        return refund(
          'BUYER_LIMIT_REACHED',
          `The hold had expired and retaking its seats would pass the buyer's limit (${limited.left} left)`,
          purchaseId,
        );
      result = limited.value;
    } else {
      result = await zoneStep();
    }
    switch (result.code) {
      case HoldCode.OK:
      case HoldCode.LATE_RETAKEN:
        metrics.holds.inc({ transition: 'converted' });
        return { outcome: result.code === HoldCode.OK ? 'converted' : 'late', record, available: result.available };
      case HoldCode.SEATS_TAKEN:
        return refund('SEATS_TAKEN', 'The hold had expired and some of its seats were sold meanwhile', purchaseId);
      case HoldCode.HOLD_NOT_ACTIVE:
        return refund('HOLD_RELEASED', 'The buyer released the hold before the payment completed', purchaseId);
      case HoldCode.ZONE_CLOSED:
        return refund('ZONE_CLOSED', 'The event stopped selling before the payment completed', purchaseId);
      case HoldCode.DUPLICATE:
        return refund('HOLD_ALREADY_PURCHASED', 'The hold was paid already under another purchase', purchaseId);
      case HoldCode.LAYOUT_MISMATCH:
        this.catalog.invalidate(where.eventId);
        throw new OutcomeError({ kind: 'layout-changed' });
      case HoldCode.NO_INVENTORY:
      case HoldCode.REBUILDING:
        throw new ApiError('INVENTORY_REBUILDING', `Zone ${where.zoneId} of ${where.eventId} has no live inventory yet; try again shortly`);
      default:
        throw new ApiError('VALIDATION_FAILED', `The seats given are not the seats of hold ${req.holdId}`);
    }
  }

  private async load(holdId: string) {
    const where = parseHoldId(holdId);
    const hold = where && (await this.holds.get(holdId));
    if (!where || !hold || hold.status === 'fenced') throw holdNotFound(holdId);
    const event = await this.catalog.get(where.eventId);
    const zone = event?.zones.get(where.zoneId);
    if (!zone) throw new ApiError('EVENT_NOT_FOUND', `The event or zone of hold ${holdId} is not in the catalog any more`);
    return { hold, where, zone };
  }

  private refuseInactive(hold: HoldRecord): void {
    const status = effectiveStatus(hold, this.holds.clock());
    if (status === 'expired')
      throw new ApiError('HOLD_EXPIRED', `Hold ${hold.holdId} has expired; its seats are on sale again. Create a new hold`);
    if (status !== 'held') throw new ApiError('HOLD_NOT_ACTIVE', `Hold ${hold.holdId} is ${STATUS[status]}; create a new hold`);
  }

  private refusal(
    r: Exclude<HoldResult, { code: HoldCode.OK }>,
    req: CreateHoldRequest,
    zone: CachedZone,
    asked: SeatRequest[],
  ): ApiError | OutcomeError {
    switch (r.code) {
      case HoldCode.SEATS_TAKEN: {
        const taken = r.takenIndexes.map((i) => asked[i - 1]!);
        return new OutcomeError({ kind: 'seats-taken', seats: taken });
      }
      case HoldCode.SOLD_OUT:
        return new OutcomeError({ kind: 'zone-sold-out', eventId: req.eventId, zoneId: req.zoneId, left: 0 });
      case HoldCode.NOT_ENOUGH_SEATS:
        return new ApiError('NOT_ENOUGH_SEATS', `Zone ${req.zoneId} has ${r.left} free seats; ask for ${r.left} or fewer`, {
          left: r.left,
        });
      case HoldCode.ZONE_CLOSED:
        return new OutcomeError({
          kind: 'not-on-sale',
          eventId: req.eventId,
          state: `closed for zone ${req.zoneId}, which left the catalog`,
        });
      case HoldCode.LAYOUT_MISMATCH:
        this.catalog.invalidate(req.eventId);
        return new OutcomeError({ kind: 'layout-changed' });
      case HoldCode.NO_INVENTORY:
      case HoldCode.REBUILDING:
        return new ApiError('INVENTORY_REBUILDING', `Zone ${req.zoneId} of ${req.eventId} has no live inventory yet; try again shortly`);
      case HoldCode.DUPLICATE:
        return req.holdId
          ? new ApiError('HOLD_NOT_ACTIVE', `Hold ${req.holdId} exists and is not held any more`)
          : new OutcomeError({ kind: 'duplicate-seat', seats: [] });
      default:
        return new OutcomeError({ kind: 'seat-outside-layout', zoneId: zone.zone.zoneId, seats: [] });
    }
  }
}

function view(
  hold: Pick<HoldRecord, 'holdId' | 'status' | 'seats' | 'buyer' | 'expiresAt' | 'maxUntil' | 'info' | 'purchaseId'> & {
    createdAt: number;
  },
  eventId: string,
  zoneId: string,
  zone: CachedZone,
  now: number,
): HoldView {
  const info = JSON.parse(hold.info) as HoldInfo;
  return {
    holdId: hold.holdId,
    eventId,
    zoneId,
    seats: hold.seats.map((s) => zone.layout.seatAt(s.offset)),
    expiresAt: new Date(hold.expiresAt).toISOString(),
    maxExpiresAt: new Date(hold.maxUntil).toISOString(),
    amountCents: info.priceCents * hold.seats.length,
    currency: info.currency,
    nextToEachOther: nextToEachOther(hold.seats),
    status: STATUS[effectiveStatus(hold, now)],
    ...(hold.buyer ? { buyer: hold.buyer } : {}),
    ...(hold.purchaseId ? { purchaseId: hold.purchaseId } : {}),
  };
}

function purchaseRecord(
  purchaseId: string,
  where: { eventId: string; zoneId: string },
  event: CachedEvent,
  zone: CachedZone,
  seats: SeatPosition[],
  buyer: string,
  info: HoldInfo,
  payment?: PaymentReference,
): TicketPurchased {
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId: where.eventId,
    venueId: event.entry.venue.venueId,
    zoneId: where.zoneId,
    userId: buyer || 'anonymous',
    tickets: seats.map((s, i) => ({
      ticketId: ticketIdOf(purchaseId, i + 1),
      ...zone.layout.seatAt(s.offset),
      priceCents: info.priceCents,
    })),
    currency: info.currency,
    createdOn: new Date().toISOString(),
    ...(payment ? { payment: { provider: payment.provider, paymentId: payment.paymentId } } : {}),
  };
}

function locate(zone: CachedZone, seats: SeatRequest[]): SeatPosition[] {
  return seats.map((s) => {
    const pos = zone.layout.locate(s.row, s.column);
    if (!pos) throw new OutcomeError({ kind: 'seat-outside-layout', zoneId: zone.zone.zoneId, seats: [s] });
    return pos;
  });
}

const holdNotFound = (holdId: string, why = '') =>
  new ApiError('HOLD_NOT_FOUND', `No hold ${holdId}${why}; create one with POST /api/v1/events/{eventId}/holds`);

function limitReached(hold: HoldRecord, now: number): ApiError {
  const left = Math.max(0, Math.floor((hold.maxUntil - hold.expiresAt) / 1000));
  return new ApiError(
    'HOLD_LIMIT_REACHED',
    `Hold ${hold.holdId} may be extended by at most ${left} more seconds (it lives until ${new Date(hold.maxUntil).toISOString()} at the latest)`,
    {
      maxExpiresAt: new Date(hold.maxUntil).toISOString(),
      secondsLeft: left,
      expiresInSeconds: Math.max(0, Math.floor((hold.expiresAt - now) / 1000)),
    },
  );
}

function buyerLimit(r: Exclude<AcquireResult, { ok: true }>, limit: number): ApiError {
  if (r.code === AllowanceCode.BUSY) return new ApiError('HOLD_IN_PROGRESS', 'Another request for this hold is still running; try again');
  const { left } = r;
  return new ApiError(
    'BUYER_LIMIT_REACHED',
    `This buyer may hold or buy ${left} more seat(s) for this event (limit ${limit}); release a hold or ask for fewer`,
    { left, limit },
  );
}

const refund = (reason: Extract<ConvertOutcome, { outcome: 'refund' }>['reason'], detail: string, purchaseId: string): ConvertOutcome => ({
  outcome: 'refund',
  reason,
  detail,
  purchaseId,
});
