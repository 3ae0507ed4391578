import type { Config } from '../config/config';
import { ZoneFence } from '../inventory/fence';
import type { Inventory } from '../inventory/inventory';
import type { Logger } from '../observability/logger';
import { withTraceHeaders } from '../observability/trace-context';
import type { Payments } from '../payment/payments';
import type { PaymentMethod } from '../payment/provider';
import type { Payment } from '../payment/store';
import type { PaymentSettlement } from '../payment/webhook';
import { OutcomeError } from '../purchase/engine';
import type { FoundPurchase, PurchaseFinder } from '../purchase/lookup';
import { partitionKey, type PaymentReference, type TicketPurchased } from '../purchase/record';
import { ApiError } from '../shared/errors';
import type { BatchingSender } from '../stream/sender';
import {
  checkoutView,
  holdIdOf,
  pendingAnswer,
  purchaseAnswer,
  purchaseIdOfHold,
  refundedError,
  unknownOutcome,
  VIEW_STATUS,
  type CheckoutView,
  type PayAnswer,
} from './answers';
import type { CheckoutRecord, CheckoutStore } from './checkout-store';
import type { ConvertOutcome, HoldService, HoldView } from './holds';

export { purchaseAnswer, purchaseIdOfHold, type CheckoutView, type PayAnswer, type PurchaseAnswer } from './answers';

/**
 * Paying a hold (docs/checkout.md, "Paying a hold"): charge, then convert.lua (the hold becomes a
 * RESERVED purchase, or a late payment retakes its seats, or it is refunded), then the same
 * confirmation rule as a direct purchase: the record goes through the api's BatchingSender
 * (acks=all), the buyer hears 201 only after the acknowledgement, `Inventory.confirm` follows, and
 * anything else after the charge is 503 PURCHASE_OUTCOME_UNKNOWN with the purchase id.
 *
 * The same completion runs for a pending payment's webhook (PaymentSettlement) and for the
 * recovery pass that finishes a checkout whose process died after the charge. Every step is
 * idempotent by purchase id, and a hold has exactly one purchase id (purchaseIdOfHold), so a
 * hold is charged once and sold once whoever finishes it.
 */

export interface CheckoutDeps {
  holds: HoldService;
  inventory: Inventory;
  /** The api's sender, the one PurchaseEngine uses (acks=all). */
  sender: BatchingSender;
  store: CheckoutStore;
  purchases: PurchaseFinder;
  cfg: Pick<Config, 'PURCHASE_TIMEOUT_MS' | 'PENDING_RESEND_AFTER_MS' | 'testHooks'>;
  log: Logger;
}

type Completion =
  | { kind: 'confirmed'; record: TicketPurchased }
  | { kind: 'unacknowledged'; purchaseId: string; why: string }
  | { kind: 'refunded'; record: CheckoutRecord };

/** A paying request holds the hold's lock this long at most (a provider's answer, then the confirmation). */
const LOCK_MS = 60_000;
/** A checkout still `charging` with no payment recorded after this is given up: the provider never answered. */
const ABANDON_AFTER_MS = 10 * 60_000;

export class Checkout implements PaymentSettlement {
  private payments: Payments | undefined;

  private readonly fence: ZoneFence;

  constructor(private readonly d: CheckoutDeps) {
    this.fence = new ZoneFence(d.inventory.redis, d.inventory.prefix);
  }

  /** The payment services are built with this checkout as their settlement, so they are attached after. */
  attach(payments: Payments): void {
    this.payments = payments;
  }

  private get pay(): Payments {
    if (!this.payments) throw new Error('Checkout.attach(payments) was not called');
    return this.payments;
  }

  /**
   * Pays a hold its buyer may act on (the route checked). A hold paid already answers its
   * purchase again; nothing is charged for a hold that is over, nor while Kafka is unreachable.
   */
  async payHold(hold: HoldView, method: PaymentMethod): Promise<PayAnswer> {
    const purchaseId = purchaseIdOfHold(hold.holdId)!;
    const previous = await this.d.store.get(purchaseId);
    if (previous?.state === 'refunded') throw refundedError(previous);
    if (hold.status === 'PURCHASED' || previous?.state === 'converted' || previous?.state === 'paid')
      return this.answerPaid(hold.holdId, purchaseId);
    if (previous?.state === 'pending' && previous.paymentId) return pendingAnswer(purchaseId, hold.holdId, previous.paymentId);
    if (hold.status === 'EXPIRED')
      throw new ApiError(
        'HOLD_EXPIRED',
        `Hold ${hold.holdId} has expired and nothing was charged; its seats are on sale again. Create a new hold`,
      );
    if (hold.status === 'RELEASED')
      throw new ApiError('HOLD_NOT_ACTIVE', `Hold ${hold.holdId} was released and nothing was charged; create a new hold`);
    // The only place that says "nothing was charged" for an unreachable log: before the charge.
    if (!this.d.sender.available)
      // The outcome table's KAFKA_UNAVAILABLE ("nothing was sold"); nothing was charged either.
      throw new OutcomeError({ kind: 'log-unavailable' });
    if (!(await this.d.store.lock(purchaseId, LOCK_MS))) {
      throw new ApiError(
        'HOLD_IN_PROGRESS',
        `Hold ${hold.holdId} is being paid by another request; GET /api/v1/purchases/${purchaseId} tells how it went`,
        { purchaseId },
      );
    }
    try {
      const zoneReplid = (await this.fence.status(hold.eventId, hold.zoneId).catch(() => undefined))?.replid;
      const rec = await this.d.store.begin(
        {
          ...(zoneReplid ? { zoneReplid } : {}),
          purchaseId,
          holdId: hold.holdId,
          eventId: hold.eventId,
          zoneId: hold.zoneId,
          buyer: hold.buyer ?? '',
          seats: hold.seats,
          amountCents: hold.amountCents,
          currency: hold.currency,
          provider: method.provider,
        },
        this.d.store.clock() + this.d.cfg.PENDING_RESEND_AFTER_MS,
      );
      let payment: Payment;
      try {
        payment = await this.pay.charge({ purchaseId, method, amountCents: hold.amountCents, currency: hold.currency });
      } catch (err) {
        // A refusal (declined, an unknown token) took nothing; a 503 may have, so it stays open.
        if (err instanceof ApiError && err.status < 500) await this.settleWithoutSale(purchaseId, 'declined', err);
        throw err;
      }
      const paid = { ...rec, paymentId: payment.paymentId, provider: payment.provider };
      if (payment.status === 'PENDING') {
        await this.d.store.update(purchaseId, 'pending', { paymentId: payment.paymentId, provider: payment.provider });
        await this.d.store.close(purchaseId); // the webhook finishes it
        return pendingAnswer(purchaseId, hold.holdId, payment.paymentId);
      }
      await this.d.store.update(purchaseId, 'paid', { paymentId: payment.paymentId, provider: payment.provider });
      if (this.d.cfg.testHooks.FAULT_CRASH_AFTER_CHARGE) process.kill(process.pid, 'SIGKILL');
      return answer(await this.completeOrUnknown({ ...paid, state: 'paid' }, payment));
    } finally {
      await this.d.store.unlock(purchaseId).catch(() => undefined);
    }
  }

  /** Webhook: a pending payment succeeded. Idempotent by paymentId (every step is). */
  async onPaymentSucceeded(payment: Payment): Promise<void> {
    const rec = await this.d.store.get(payment.purchaseId);
    if (!rec) {
      // Not a hold's purchase (or its record expired): nothing here knows what was paid for, so
      // nothing is sold or refunded automatically; the log names it for an operator.
      this.d.log.error(
        { paymentId: payment.paymentId, purchaseId: payment.purchaseId },
        'payment succeeded for a purchase the checkout has no record of; reconcile it by hand (refund it at the provider if nothing was sold)',
      );
      return;
    }
    if (rec.state === 'converted' || rec.state === 'refunded') return;
    await this.d.store.update(rec.purchaseId, 'paid', { paymentId: payment.paymentId, provider: payment.provider });
    // Open again, so the recovery pass finishes the sale even if the provider stops redelivering.
    await this.reopen(rec.purchaseId);
    const done = await this.complete({ ...rec, state: 'paid', paymentId: payment.paymentId, provider: payment.provider }, payment);
    this.d.log.info({ purchaseId: rec.purchaseId, paymentId: payment.paymentId, outcome: done.kind }, 'pending payment settled');
  }

  /** Webhook: a pending payment failed. The hold stays HELD until it expires: the buyer may pay it with another card. */
  async onPaymentFailed(payment: Payment): Promise<void> {
    const rec = await this.d.store.get(payment.purchaseId);
    if (rec && (rec.state === 'pending' || rec.state === 'charging')) await this.settleWithoutSale(rec.purchaseId, 'failed');
  }

  /**
   * One pass of the recovery: finishes checkouts whose payment succeeded but whose sale was not
   * settled (the process died, convert.lua or the refund failed). Returns how many it settled.
   */
  async recoverOnce(limit = 50): Promise<number> {
    const ids = await this.d.store.claimDue(this.d.cfg.PENDING_RESEND_AFTER_MS, limit);
    let settled = 0;
    for (const purchaseId of ids) {
      try {
        if (await this.recover(purchaseId)) settled++;
      } catch (err) {
        this.d.log.warn({ err, purchaseId }, 'checkout recovery failed; it is retried after PENDING_RESEND_AFTER_MS');
      }
    }
    return settled;
  }

  /** What `GET /api/v1/purchases/{id}` shows for a hold's purchase that has no purchase record; undefined otherwise. */
  async viewWithoutRecord(purchaseId: string): Promise<CheckoutView | undefined> {
    const rec = await this.d.store.get(purchaseId);
    if (!rec || rec.state === 'converted') return undefined;
    if (rec.state === 'charging' || rec.state === 'pending' || rec.state === 'paid') {
      // The record may lag behind a sale that happened (a crash before its update): the purchase decides.
      if (await this.d.purchases.find(purchaseId).catch(() => undefined)) return undefined;
    }
    return checkoutView(rec, VIEW_STATUS[rec.state]);
  }

  /** The buyer recorded for a hold's purchase ('' anonymous), or undefined for other purchases. */
  async buyerOf(purchaseId: string): Promise<string | undefined> {
    return (await this.d.store.get(purchaseId))?.buyer;
  }

  private async recover(purchaseId: string): Promise<boolean> {
    const rec = await this.d.store.get(purchaseId);
    if (!rec || (rec.state !== 'charging' && rec.state !== 'paid')) {
      await this.d.store.close(purchaseId);
      return false;
    }
    const payment = rec.paymentId ? await this.pay.get(rec.paymentId) : await this.pay.ofPurchase(purchaseId);
    if (!payment) {
      if (this.d.store.clock() - rec.updatedAt < ABANDON_AFTER_MS) return false;
      await this.settleWithoutSale(
        purchaseId,
        'failed',
        new Error('The payment provider never answered the charge; nothing was recorded. Pay the hold again'),
      );
      return true;
    }
    switch (payment.status) {
      case 'PENDING':
        await this.d.store.update(purchaseId, 'pending', { paymentId: payment.paymentId, provider: payment.provider });
        await this.d.store.close(purchaseId);
        return false;
      case 'FAILED':
        await this.settleWithoutSale(purchaseId, 'declined');
        return true;
      case 'REFUNDED':
        await this.d.store.update(purchaseId, 'refunded', {
          paymentId: payment.paymentId,
          ...(payment.refund ? { detail: `refund ${payment.refund.refundId}` } : {}),
        });
        await this.d.store.close(purchaseId);
        return true;
      case 'SUCCEEDED': {
        if (!this.d.sender.available) return false;
        const done = await this.complete({ ...rec, state: 'paid', paymentId: payment.paymentId, provider: payment.provider }, payment);
        this.d.log.info({ purchaseId, outcome: done.kind }, 'checkout recovered after its payment');
        return done.kind !== 'unacknowledged';
      }
    }
  }

  private async reopen(purchaseId: string): Promise<void> {
    await this.d.store.reopen(purchaseId, this.d.store.clock() + this.d.cfg.PENDING_RESEND_AFTER_MS);
  }

  /** complete(), with any failure after the charge answered as an unknown outcome (the recovery pass finishes it). */
  private async completeOrUnknown(rec: CheckoutRecord, payment: Payment): Promise<Completion> {
    try {
      return await this.complete(rec, payment);
    } catch (err) {
      this.d.log.warn({ err, purchaseId: rec.purchaseId }, 'paying a hold failed after the charge; the recovery pass finishes it');
      return {
        kind: 'unacknowledged',
        purchaseId: rec.purchaseId,
        why: 'Your payment was taken but the sale could not be completed yet; it completes (or is refunded) shortly',
      };
    }
  }

  /**
   * After a successful payment: convert.lua, then the record to Kafka, or the refund. Throws only
   * when convert.lua's outcome is unknown (the checkout stays `paid` and open for the recovery).
   */
  private async complete(rec: CheckoutRecord, payment: Payment): Promise<Completion> {
    const deadline = Date.now() + this.d.cfg.PURCHASE_TIMEOUT_MS;
    const ref = recordablePayment(payment);
    let outcome: ConvertOutcome;
    try {
      outcome = await this.d.holds.convert({
        holdId: rec.holdId,
        purchaseId: rec.purchaseId,
        seats: rec.seats,
        buyer: rec.buyer,
        ...(ref ? { payment: ref } : {}),
      });
    } catch (err) {
      // The event or zone left the catalog: nothing can be sold any more.
      if (!(err instanceof ApiError && err.code === 'EVENT_NOT_FOUND')) throw err;
      outcome = { outcome: 'refund', reason: 'ZONE_CLOSED', detail: err.message, purchaseId: rec.purchaseId };
    }
    if (outcome.outcome === 'refund') {
      const sold = await this.soldDespiteRedis(rec);
      if (sold) return this.keepSale(rec, sold, deadline);
      return this.refund(rec, payment, outcome.reason, outcome.detail);
    }
    // From here the purchase is RESERVED: the recovery sweep of the purchases owns it like any other.
    await this.d.store.update(rec.purchaseId, 'converted');
    await this.d.store.close(rec.purchaseId);
    if (this.d.cfg.testHooks.FAULT_CRASH_AFTER_HOLD_CONVERT) process.kill(process.pid, 'SIGKILL');
    return this.sendAndConfirm(rec, outcome.record, deadline);
  }

  /**
   * convert.lua says "refund", but the zone's node is not the history the checkout began on (a
   * restart or failover may have lost the converted hold and its purchase): the stores decide.
   * A sale they hold (it was in the log) is kept; "unknown" (the writer behind) throws, so the
   * checkout stays open and the recovery pass asks again. Same history: Redis is the truth.
   */
  private async soldDespiteRedis(rec: CheckoutRecord): Promise<FoundPurchase | undefined> {
    // A checkout without the id (begun before this rule, or its capture failed) cannot tell: ask.
    if (rec.zoneReplid && (await this.fence.status(rec.eventId, rec.zoneId)).replid === rec.zoneReplid) return undefined;
    const found = await this.d.purchases.find(rec.purchaseId);
    return found && found.status !== 'VOIDED' ? found : undefined;
  }

  /** The sale the stores hold stands: the checkout is converted, and the answer is that purchase. */
  private async keepSale(rec: CheckoutRecord, found: FoundPurchase, deadline: number): Promise<Completion> {
    this.d.log.warn(
      { purchaseId: rec.purchaseId, status: found.status, source: found.source },
      'a paid hold Redis forgot is in the stores: kept, not refunded',
    );
    await this.d.store.update(rec.purchaseId, 'converted');
    await this.d.store.close(rec.purchaseId);
    if (found.status === 'PENDING') return this.sendAndConfirm(rec, found.record, deadline);
    return { kind: 'confirmed', record: found.record };
  }

  private async refund(rec: CheckoutRecord, payment: Payment, reason: string, detail: string): Promise<Completion> {
    const refund = await this.pay.refund(payment.paymentId);
    await this.d.store.update(rec.purchaseId, 'refunded', { reason, detail, refund });
    await this.d.store.close(rec.purchaseId);
    this.d.log.info(
      { purchaseId: rec.purchaseId, paymentId: payment.paymentId, reason },
      'late payment refunded: the seats could not be taken again',
    );
    return { kind: 'refunded', record: { ...rec, state: 'refunded', reason, detail, refund } };
  }

  /** As PurchaseEngine: send the stored record, answer after the acknowledgement, confirm after it. */
  private async sendAndConfirm(rec: CheckoutRecord, built: TicketPurchased, deadline: number): Promise<Completion> {
    const { eventId, zoneId, purchaseId } = rec;
    // A re-run of convert.lua keeps the first record: send exactly what the recovery sweep would.
    const stored = await this.d.inventory.getPurchase(eventId, zoneId, purchaseId).catch(() => undefined);
    const body = stored?.body ?? JSON.stringify(built);
    const record = JSON.parse(body) as TicketPurchased;
    if (stored?.status === 'confirmed') return { kind: 'confirmed', record };
    // Not tried past the buyer's deadline (the recovery sweep sends what Redis still holds then).
    const acked = this.d.sender.send(
      {
        key: partitionKey(eventId, zoneId),
        value: body,
        headers: withTraceHeaders({ 'x-purchase-id': purchaseId }),
      },
      deadline,
    );
    // Whatever the buyer hears, a late acknowledgement still confirms the record.
    const settled = acked.then(() => this.confirm(eventId, zoneId, purchaseId));
    settled.catch(() => undefined);
    try {
      await beforeDeadline(settled, deadline);
      return { kind: 'confirmed', record };
    } catch (err) {
      return {
        kind: 'unacknowledged',
        purchaseId,
        why:
          err === TIMED_OUT
            ? 'Kafka did not acknowledge in time'
            : 'The event log did not take the record; your seats are held and the purchase completes once it is back',
      };
    }
  }

  private async confirm(eventId: string, zoneId: string, purchaseId: string): Promise<void> {
    try {
      await this.d.inventory.confirm(eventId, zoneId, purchaseId);
    } catch (err) {
      this.d.log.warn({ err, purchaseId }, 'confirm write failed after the Kafka acknowledgement; the sweep confirms it');
    }
  }

  private async answerPaid(holdId: string, purchaseId: string): Promise<PayAnswer> {
    const found = await this.d.purchases.find(purchaseId).catch(() => undefined);
    // A purchase cancelled since answers the sale the hold made, as an Idempotency-Key replay does.
    if (found?.status === 'CONFIRMED' || found?.status === 'CANCELLED') return { status: 201, body: purchaseAnswer(found.record, holdId) };
    throw unknownOutcome(purchaseId, 'This hold was paid already and its purchase is still being confirmed');
  }

  private async settleWithoutSale(purchaseId: string, state: 'declined' | 'failed', why?: Error): Promise<void> {
    await this.d.store.update(purchaseId, state, why ? { detail: why.message } : {});
    await this.d.store.close(purchaseId);
  }
}

function answer(done: Completion): PayAnswer {
  if (done.kind === 'confirmed') return { status: 201, body: purchaseAnswer(done.record, holdIdOf(done.record)) };
  if (done.kind === 'refunded') throw refundedError(done.record);
  throw unknownOutcome(done.purchaseId, done.why);
}

/** The payment as the Kafka record may carry it (the record's schema bounds the id). */
function recordablePayment(p: Payment): PaymentReference | undefined {
  return /^[a-z0-9_-]{1,32}$/.test(p.provider) && /^[\x21-\x7e]{1,64}$/.test(p.paymentId)
    ? { provider: p.provider, paymentId: p.paymentId }
    : undefined;
}

const TIMED_OUT = new Error('deadline passed');

/** `work`, or TIMED_OUT once `deadline` (ms since the epoch) passes. */
function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(TIMED_OUT), Math.max(0, deadline - Date.now()))));
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
