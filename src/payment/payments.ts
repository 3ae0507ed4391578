import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import { parse } from '../http/validation';
import { ApiError } from '../shared/errors';
import {
  amountCentsSchema,
  currencySchema,
  InvalidPaymentToken,
  paymentMethodSchema,
  type PaymentMethod,
  type PaymentProvider,
} from './provider';
import type { Payment, PaymentStore } from './store';

export interface ChargeInput {
  /** The purchase paid for: the PSP's reference, and part of the charge's idempotency key. */
  purchaseId: string;
  method: PaymentMethod;
  amountCents: number;
  currency: string;
}

/** What a refund did. Only a SUCCEEDED payment gives money back; the others say why not. */
export type RefundOutcome =
  | { status: 'REFUNDED'; paymentId: string; refundId: string; amountCents: number; currency: string; refundedAt: string }
  /** The payment failed: nothing was taken, nothing to give back. */
  | { status: 'NOT_CHARGED'; paymentId: string }
  /** The payment has not completed: refund it once it has succeeded (its webhook's callback). */
  | { status: 'PENDING'; paymentId: string };

const chargeInputSchema = z.object({
  purchaseId: z.string().min(1),
  method: paymentMethodSchema,
  amountCents: amountCentsSchema,
  currency: currencySchema,
});

/**
 * Charges and refunds through the providers, recording every payment (docs/checkout.md,
 * "Payment"). What the checkout calls; its routes map the errors onto answers as they are.
 */
export class Payments {
  private readonly providers: Map<string, PaymentProvider>;

  constructor(
    private readonly store: PaymentStore,
    providers: PaymentProvider[],
    private readonly log: Logger,
    /**
     * Providers turned off for new charges (the `test` one with PAYMENT_TEST_PROVIDER=false). They
     * stay here for refunds: a payment taken while one was on is still refunded through it.
     */
    private readonly chargesOff: ReadonlySet<string> = new Set(),
  ) {
    this.providers = new Map(providers.map((p) => [p.name, p]));
  }

  /** The providers a buyer may pay with now. */
  chargeable(): string[] {
    return [...this.providers.keys()].filter((name) => !this.chargesOff.has(name));
  }

  /**
   * Charges a purchase. Resolves with the payment, SUCCEEDED or PENDING (a PENDING one completes
   * through the webhook, which calls the checkout's PaymentSettlement). Throws 402
   * PAYMENT_DECLINED (extra `paymentId`, `declineCode`; nothing was taken), 400
   * VALIDATION_FAILED for an unknown provider or token, 422 PAYMENT_PROVIDER_UNAVAILABLE for a
   * provider turned off on this deployment (nothing was charged), 503 DEPENDENCY_UNAVAILABLE when the
   * provider did not answer (retrying the same charge is safe: it is idempotent by purchase,
   * method and amount). A purchase that already has a PENDING or SUCCEEDED payment gets that
   * payment back and is not charged again; the checkout serialises charges of one purchase
   * (a hold converts once).
   */
  async charge(input: ChargeInput): Promise<Payment> {
    const { purchaseId, method, amountCents, currency } = parse(chargeInputSchema, input, 'payment');
    const provider = this.providers.get(method.provider);
    const choice = () => {
      const names = this.chargeable();
      return names.length > 0 ? `use one of: ${names.join(', ')}` : 'no payment provider is enabled here; ask the operator to enable one';
    };
    if (!provider) throw new ApiError('VALIDATION_FAILED', `payment.provider: unknown provider "${method.provider}"; ${choice()}`);
    if (this.chargesOff.has(provider.name)) {
      throw new ApiError(
        'PAYMENT_PROVIDER_UNAVAILABLE',
        `payment.provider: "${provider.name}" is turned off on this deployment and nothing was charged; ${choice()}`,
        { provider: provider.name },
      );
    }
    const existing = await this.store.ofPurchase(purchaseId);
    if (existing && existing.status !== 'FAILED') return existing;

    const idempotencyKey = createHash('sha256')
      .update(JSON.stringify(['charge', purchaseId, method.provider, method.token, amountCents, currency]))
      .digest('base64url');
    let result;
    try {
      result = await provider.charge({ token: method.token, amountCents, currency, reference: purchaseId, idempotencyKey });
    } catch (err) {
      if (err instanceof InvalidPaymentToken) throw new ApiError('VALIDATION_FAILED', `payment.token: ${err.message}`);
      this.log.warn({ err, provider: provider.name, purchaseId }, 'payment provider did not answer a charge');
      throw new ApiError(
        'DEPENDENCY_UNAVAILABLE',
        `The payment provider "${provider.name}" did not answer; retry the same request (it will not charge twice)`,
      );
    }
    const record = { paymentId: result.paymentId, provider: provider.name, purchaseId, amountCents, currency };
    if (result.outcome === 'DECLINED') {
      await this.store.create(record, 'FAILED');
      throw new ApiError(
        'PAYMENT_DECLINED',
        `The payment was declined (${result.declineCode}); nothing was charged: pay with another method`,
        { paymentId: result.paymentId, declineCode: result.declineCode },
      );
    }
    return this.store.create(record, result.outcome);
  }

  /**
   * Refunds a payment in full, once: a repeat (or a concurrent twin) answers with the same
   * refund and the provider refunds nothing more. Throws 404 NOT_FOUND for an unknown payment,
   * 503 DEPENDENCY_UNAVAILABLE when the provider did not answer (retrying is safe).
   */
  async refund(paymentId: string): Promise<RefundOutcome> {
    const payment = await this.store.get(paymentId);
    if (!payment) throw new ApiError('NOT_FOUND', `No payment ${paymentId} (payment records live PURCHASE_RECORD_TTL_SECONDS in Redis)`);
    if (payment.status === 'FAILED') return { status: 'NOT_CHARGED', paymentId };
    if (payment.status === 'PENDING') return { status: 'PENDING', paymentId };
    const refund = payment.refund ?? (await this.refundAtProvider(payment));
    return {
      status: 'REFUNDED',
      paymentId,
      refundId: refund.refundId,
      amountCents: refund.amountCents,
      currency: payment.currency,
      refundedAt: refund.refundedAt,
    };
  }

  get(paymentId: string): Promise<Payment | undefined> {
    return this.store.get(paymentId);
  }

  ofPurchase(purchaseId: string): Promise<Payment | undefined> {
    return this.store.ofPurchase(purchaseId);
  }

  private async refundAtProvider(payment: Payment) {
    const provider = this.providers.get(payment.provider);
    if (!provider)
      throw new Error(`payment ${payment.paymentId} was made with provider "${payment.provider}", which this process does not have`);
    let refunded;
    try {
      // One key per payment: a retry after a lost answer gets the same refund from the PSP.
      refunded = await provider.refund(payment.paymentId, `refund:${payment.paymentId}`);
    } catch (err) {
      this.log.warn({ err, provider: provider.name, paymentId: payment.paymentId }, 'payment provider did not answer a refund');
      throw new ApiError(
        'DEPENDENCY_UNAVAILABLE',
        `The payment provider "${provider.name}" did not refund yet; retry (it will not refund twice)`,
      );
    }
    return this.store.recordRefund(payment.paymentId, {
      refundId: refunded.refundId,
      amountCents: refunded.amountCents,
      refundedAt: new Date().toISOString(),
    });
  }
}
