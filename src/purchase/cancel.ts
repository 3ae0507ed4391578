import { OutcomeError } from './engine';
import type { CatalogStore } from '../catalog/store';
import { ZoneLayout } from '../catalog/layout';
import type { Config } from '../config/config';
import { cancellationOf, type TicketsCancelled } from '../events/tickets-cancelled';
import type { TicketSource } from '../http/routes/reads';
import { isDeclaredBuyer, type BuyerAllowance } from '../inventory/allowance';
import type { CancelInventory } from '../inventory/cancellations';
import type { SeatPosition } from '../inventory/inventory';
import { CancelCode, ReleaseCancelledCode } from '../commands/scripts';
import type { Logger } from '../observability/logger';
import { withTraceHeaders } from '../observability/trace-context';
import type { Payments, RefundOutcome } from '../payment/payments';
import { ApiError } from '../shared/errors';
import type { BatchingSender } from '../stream/sender';
import { parsePurchaseId, ticketIdOf } from './ids';
import type { PurchaseFinder } from './lookup';
import type { ReleasedSeats } from './released-seats';
import { partitionKey, type TicketPurchased } from './record';

/** What the refund of a cancelled purchase did. Money is what the tickets were sold at. */
export type CancelRefund =
  | Extract<RefundOutcome, { status: 'REFUNDED' }>
  | { status: 'PENDING'; paymentId: string; amountCents: number; currency: string }
  /** Nothing was paid through a provider (the one-step routes), or the payment had failed. */
  | { status: 'NOT_CHARGED'; amountCents: number; currency: string; paymentId?: string };

/** The 200 of `POST /api/v1/purchases/{purchaseId}/cancel`; a repeat answers the same. */
export interface CancelAnswer {
  purchaseId: string;
  status: 'CANCELLED';
  eventId: string;
  zoneId: string;
  venueId: string;
  userId: string;
  cancelledAt: string;
  tickets: { ticketId: string; row: string; column: number; priceCents: number; status: 'CANCELLED' }[];
  refund: CancelRefund;
}

export interface CancellationDeps {
  cancels: CancelInventory;
  catalog: CatalogStore;
  sender: BatchingSender;
  /** Purchases by id: the Redis record, then the stores (for a record whose TTL ended). */
  finder: PurchaseFinder;
  /** The stores' tickets, write model first: whether a purchase Redis forgot was cancelled. */
  stores: TicketSource[];
  payments: Pick<Payments, 'ofPurchase' | 'refund'>;
  /** Tells every api process's "recently taken" cache that these seats are free again. */
  released?: Pick<ReleasedSeats, 'announce'>;
  /** The per-buyer limit: a cancelled purchase's seats stop counting against its buyer's allowance. */
  allowance?: Pick<BuyerAllowance, 'cancel'>;
  cfg: Pick<Config, 'PURCHASE_TIMEOUT_MS' | 'testHooks'>;
  log: Logger;
}

/**
 * Cancels a confirmed purchase, durability first (docs/purchase-state-machine.md):
 *
 *   1. cancel.lua marks the record CANCELLING (and files it for the recovery sweep);
 *   2. the `TicketsCancelled` event is produced through the sender, acks=all;
 *   3. only after that acknowledgement, release-cancelled.lua frees the seats and marks it CANCELLED;
 *   4. the buyer's allowance (per-buyer limit) gives the seats back, and the payment, if any, is
 *      refunded (once; a repeat gets the same refund).
 *
 * A crash or a Kafka failure after step 1 leaves the record CANCELLING: the sweep (or the
 * buyer's repeat) produces the same event again and releases. No seat is freed before the
 * event is in the log, so a seat is sold again only after its cancellation is durable.
 */
export class Cancellations {
  constructor(private readonly deps: CancellationDeps) {}

  /**
   * Cancels the purchase for a caller that `authorize` lets act for its buyer (it throws 403
   * otherwise). Throws 404 PURCHASE_NOT_FOUND, 409 PURCHASE_NOT_CONFIRMED, or a 503 that says
   * what is done and what to repeat.
   */
  async cancel(purchaseId: string, authorize: (ownerUserId: string) => void): Promise<CancelAnswer> {
    const ids = parsePurchaseId(purchaseId);
    if (!ids) throw notFound(purchaseId);
    const { cancels } = this.deps;
    const state = await cancels.state(ids.eventId, ids.zoneId, purchaseId);
    let purchase: TicketPurchased;
    let seed = '';
    if (state) {
      purchase = JSON.parse(state.body) as TicketPurchased;
      authorize(purchase.userId);
      if (state.cancel === 'cancelled' && state.cancelBody) return this.answer(JSON.parse(state.cancelBody) as TicketsCancelled);
    } else {
      // Redis no longer has the record (its TTL ended, or Redis lost it): the stores know the purchase.
      const found = await this.deps.finder.find(purchaseId);
      if (!found) throw notFound(purchaseId);
      purchase = found.record;
      authorize(purchase.userId);
      const cancelledAt = await this.cancelledInStores(purchaseId);
      if (cancelledAt) return this.answer(cancellationOf(purchase, new Date(cancelledAt)));
      seed = JSON.stringify(purchase);
    }
    if (state?.status === 'reserved' || state?.status === 'voided') throw notConfirmed(purchaseId, state.status);
    // Fail fast while the log is unreachable: nothing was changed, so "nothing was cancelled" is true.
    if (!this.deps.sender.available && state?.cancel !== 'cancelling') {
      throw new ApiError('DEPENDENCY_UNAVAILABLE', 'The event log is unreachable; nothing was cancelled. Try again shortly.', {
        purchaseId,
      });
    }

    const marked = await cancels.markCancelling(
      ids.eventId,
      ids.zoneId,
      purchaseId,
      JSON.stringify(cancellationOf(purchase, new Date())),
      seed,
    );
    switch (marked.code) {
      case CancelCode.CANCELLING:
      case CancelCode.ALREADY_CANCELLING:
        return this.complete(JSON.parse(marked.cancelBody) as TicketsCancelled, marked.cancelBody);
      case CancelCode.ALREADY_CANCELLED:
        return this.answer(JSON.parse(marked.cancelBody) as TicketsCancelled);
      case CancelCode.NOT_CONFIRMED:
        throw notConfirmed(purchaseId, 'reserved');
      case CancelCode.VOIDED:
        throw notConfirmed(purchaseId, 'voided');
      case CancelCode.NO_RECORD:
        // The record expired between the read and the mark: the stores have the purchase.
        throw new ApiError(
          'DEPENDENCY_UNAVAILABLE',
          'The purchase record changed while it was being cancelled; nothing was cancelled. Repeat the cancel.',
          { purchaseId },
        );
    }
  }

  /**
   * The recovery sweep's part: finishes up to `limit` cancellations of a zone that have been
   * CANCELLING for longer than `olderThanMs` (their process died, or Kafka failed). Returns how
   * many it finished.
   */
  async finishStale(eventId: string, zoneId: string, olderThanMs: number, limit = 100): Promise<number> {
    if (!this.deps.sender.available) return 0;
    const ids = await this.deps.cancels.claimStale(eventId, zoneId, olderThanMs, limit);
    let finished = 0;
    for (const purchaseId of ids) {
      try {
        const state = await this.deps.cancels.state(eventId, zoneId, purchaseId);
        if (state?.cancel !== 'cancelling' || !state.cancelBody) {
          // Finished meanwhile (its release also drops it from the set), or the record is gone.
          await this.deps.cancels.redis.zrem(this.deps.cancels.keys(eventId, zoneId).cancelling, purchaseId);
          continue;
        }
        await this.complete(JSON.parse(state.cancelBody) as TicketsCancelled, state.cancelBody, { resent: true });
        finished++;
      } catch (err) {
        this.deps.log.warn({ err, purchaseId }, 'the sweep could not finish a cancellation yet; it tries again on its next pass');
      }
    }
    if (finished > 0) this.deps.log.info({ eventId, zoneId, finished }, 'sweep finished interrupted cancellations');
    return finished;
  }

  /** Steps 2–4 for a CANCELLING record, with the event cancel.lua stored. */
  private async complete(cancel: TicketsCancelled, body: string, opts: { resent?: boolean } = {}): Promise<CancelAnswer> {
    const { purchaseId, eventId, zoneId } = cancel;
    try {
      await withTimeout(
        this.deps.sender.send({
          key: partitionKey(eventId, zoneId),
          value: body,
          headers: withTraceHeaders({
            'x-purchase-id': purchaseId,
            'x-event-type': cancel.type,
            ...(opts.resent ? { 'x-resent': '1' } : {}),
          }),
        }),
        this.deps.cfg.PURCHASE_TIMEOUT_MS,
      );
    } catch (err) {
      this.deps.log.warn({ err, purchaseId }, 'TicketsCancelled was not acknowledged; the cancellation stays CANCELLING for the sweep');
      throw new ApiError(
        'DEPENDENCY_UNAVAILABLE',
        'The cancellation is recorded, but the event log did not acknowledge it yet: the seats stay taken until it does, and the recovery sweep completes it by itself. Repeat the cancel to see the outcome.',
        { purchaseId },
      );
    }
    if (this.deps.cfg.testHooks.FAULT_CRASH_AFTER_CANCEL_EVENT) process.kill(process.pid, 'SIGKILL');

    const layout = await this.layoutOf(eventId, zoneId);
    const seats = cancel.tickets.map((t): SeatPosition => {
      const pos = layout.locate(t.row, t.column);
      if (!pos) throw new Error(`seat ${t.row}-${t.column} of ${purchaseId} is outside the zone layout`);
      return pos;
    });
    const released = await this.deps.cancels.releaseCancelled(eventId, zoneId, layout, purchaseId, seats);
    switch (released.code) {
      case ReleaseCancelledCode.RELEASED:
        await this.deps.released?.announce(
          eventId,
          zoneId,
          seats.map((s) => s.offset),
        );
        break;
      case ReleaseCancelledCode.ALREADY_CANCELLED:
      case ReleaseCancelledCode.NO_INVENTORY:
        break;
      case ReleaseCancelledCode.FENCED:
        // Durable in the log, but the seats are still taken: no refund or allowance back yet. The
        // zone's re-mark settles it against DynamoDB (or the sweep, once the zone is trusted).
        throw new ApiError(
          'DEPENDENCY_UNAVAILABLE',
          `The cancellation of ${purchaseId} is durable, but its zone is being re-marked after a Redis failover; its seats are freed within a minute. Repeat the cancel to see it and get the refund.`,
          { purchaseId },
        );
      case ReleaseCancelledCode.NOT_CANCELLING:
        throw new ApiError(
          'DEPENDENCY_UNAVAILABLE',
          `The purchase record of ${purchaseId} vanished while it was being cancelled; the event log has the cancellation. Repeat the cancel.`,
          { purchaseId },
        );
      case ReleaseCancelledCode.LAYOUT_MISMATCH:
        this.deps.log.error(
          { eventId, zoneId, purchaseId },
          'the zone has another layout in Redis than in the catalog; the cancelled seats cannot be freed until they agree',
        );
        throw new ApiError(
          'DEPENDENCY_UNAVAILABLE',
          'The cancellation is durable, but the zone layout changed and its seats could not be freed yet; they are freed automatically. Repeat the cancel to see it.',
          { purchaseId },
        );
    }
    return this.answer(cancel);
  }

  /**
   * The answer of a cancelled purchase; gives its seats back to the buyer's allowance and refunds
   * its payment first (both once: a repeat changes nothing and gets the same refund).
   */
  private async answer(cancel: TicketsCancelled): Promise<CancelAnswer> {
    const givenBack = await this.giveAllowanceBack(cancel);
    const answer: CancelAnswer = {
      purchaseId: cancel.purchaseId,
      status: 'CANCELLED',
      eventId: cancel.eventId,
      zoneId: cancel.zoneId,
      venueId: cancel.venueId,
      userId: cancel.userId,
      cancelledAt: cancel.cancelledAt,
      tickets: cancel.tickets.map((t) => ({ ...t, status: 'CANCELLED' as const })),
      refund: await this.refund(cancel),
    };
    if (!givenBack)
      throw new ApiError(
        'DEPENDENCY_UNAVAILABLE',
        "The purchase is cancelled and its seats are on sale again, but the buyer's seat allowance for the event could not be given back yet. Repeat the cancel to give it back (nothing is cancelled or refunded twice).",
        { purchaseId: cancel.purchaseId, status: 'CANCELLED' },
      );
    return answer;
  }

  /**
   * Only for a CANCELLED purchase (its seats are on sale): the allowance entry goes after the
   * release, never before, so a crash in between errs on counting; the buyer's repeat (or the
   * sweep finishing the cancellation) gives it back. False when the allowance did not answer.
   */
  private async giveAllowanceBack(cancel: TicketsCancelled): Promise<boolean> {
    const { allowance } = this.deps;
    if (!allowance || !isDeclaredBuyer(cancel.userId)) return true;
    try {
      await allowance.cancel(cancel.eventId, cancel.userId, cancel.purchaseId);
      return true;
    } catch (err) {
      this.deps.log.warn({ err, purchaseId: cancel.purchaseId }, "the buyer's allowance was not given back after the cancellation");
      return false;
    }
  }

  private async refund(cancel: TicketsCancelled): Promise<CancelRefund> {
    const amountCents = cancel.tickets.reduce((s, t) => s + t.priceCents, 0);
    const notCharged = { status: 'NOT_CHARGED' as const, amountCents, currency: cancel.currency };
    try {
      const payment = await this.deps.payments.ofPurchase(cancel.purchaseId);
      if (!payment) return notCharged;
      const r = await this.deps.payments.refund(payment.paymentId);
      if (r.status === 'REFUNDED') return r;
      if (r.status === 'PENDING')
        return { status: 'PENDING', paymentId: r.paymentId, amountCents: payment.amountCents, currency: payment.currency };
      return { ...notCharged, paymentId: r.paymentId };
    } catch (err) {
      this.deps.log.warn({ err, purchaseId: cancel.purchaseId }, 'refund of a cancelled purchase failed');
      throw new ApiError(
        'DEPENDENCY_UNAVAILABLE',
        'The purchase is cancelled and its seats are on sale again, but the refund did not complete. Repeat the cancel to retry the refund (it never refunds twice).',
        { purchaseId: cancel.purchaseId, status: 'CANCELLED' },
      );
    }
  }

  /** When the stores cancelled the purchase's tickets (its first ticket tells), if they did. */
  private async cancelledInStores(purchaseId: string): Promise<string | undefined> {
    for (const source of this.deps.stores) {
      const t = await source.findTicket(ticketIdOf(purchaseId, 1)).catch(() => undefined);
      if (t) return t.status === 'CANCELLED' ? String(t.cancelledAt ?? new Date().toISOString()) : undefined;
    }
    return undefined;
  }

  /** The zone's layout: from the catalog, or from its closed zones once it left the catalog. */
  private async layoutOf(eventId: string, zoneId: string): Promise<ZoneLayout> {
    const { catalog } = this.deps;
    const zone =
      (await catalog.getEvent(eventId))?.venue.zones.find((z) => z.zoneId === zoneId) ??
      (await catalog.closedZonesOf(eventId)).find((c) => c.zone.zoneId === zoneId)?.zone;
    if (!zone)
      throw new OutcomeError({
        kind: 'inventory-unavailable',
        why: `Zone ${zoneId} of ${eventId} is in neither the catalog nor its closed zones; its seats cannot be freed yet. Repeat the cancel once the catalog has it.`,
      });
    return ZoneLayout.of(zone);
  }
}

const notFound = (purchaseId: string) =>
  new ApiError('PURCHASE_NOT_FOUND', `No purchase ${purchaseId.slice(0, 200)}; check the id the purchase answer carried`);

const notConfirmed = (purchaseId: string, status: string) =>
  new ApiError(
    'PURCHASE_NOT_CONFIRMED',
    status === 'voided'
      ? `Purchase ${purchaseId} was voided: nothing was sold, so there is nothing to cancel`
      : `Purchase ${purchaseId} is not confirmed yet; GET /api/v1/purchases/${purchaseId} tells when it is, then cancel it`,
    { purchaseId },
  );

/** Rejects when `work` has not settled within `ms` (the work itself goes on). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms)),
  );
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
