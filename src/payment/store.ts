import type { RedisClient } from '../shared/redis';
import { paymentKeys, purchasePaymentKey } from './keys';

/**
 * The platform's payment records in Redis, and their state machine (docs/checkout.md):
 *
 *   PENDING ──payment.succeeded──▶ SUCCEEDED ──refund──▶ REFUNDED
 *      └─────payment.failed─────▶ FAILED
 *
 * SUCCEEDED and FAILED are terminal for webhooks: the first outcome is written with SET NX
 * and nothing overwrites it, so a `payment.failed` after a `payment.succeeded` (or the reverse)
 * changes nothing. A refund is written once the same way. No token or card data is stored.
 */
export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
export type PaymentOutcome = 'SUCCEEDED' | 'FAILED';

export interface Refund {
  refundId: string;
  amountCents: number;
  refundedAt: string;
}

export interface Payment {
  paymentId: string;
  provider: string;
  purchaseId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  createdAt: string;
  /** When it reached SUCCEEDED or FAILED. */
  settledAt?: string;
  refund?: Refund;
}

export type NewPayment = Omit<Payment, 'status' | 'createdAt' | 'settledAt' | 'refund'>;

interface StoredOutcome {
  status: PaymentOutcome;
  at: string;
  /** The webhook event that settled it; empty when the provider answered at once. */
  eventId: string;
}

export class PaymentStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** How long payment records live in Redis (the checkout keeps provider and paymentId with the purchase for good). */
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Records a payment the provider just answered. A payment decided at once (SUCCEEDED or
   * FAILED) is recorded as already notified: its caller handles it synchronously, so a webhook
   * the PSP sends for it too calls no checkout callback. PENDING and SUCCEEDED payments become
   * their purchase's payment (ofPurchase).
   */
  async create(p: NewPayment, status: 'PENDING' | PaymentOutcome, now = new Date()): Promise<Payment> {
    const keys = paymentKeys(this.prefix, p.paymentId);
    const tx = this.redis
      .multi()
      .hset(keys.record, {
        paymentId: p.paymentId,
        provider: p.provider,
        purchaseId: p.purchaseId,
        amountCents: p.amountCents,
        currency: p.currency,
        createdAt: now.toISOString(),
      })
      .expire(keys.record, this.ttlSeconds);
    if (status !== 'PENDING') {
      tx.set(
        keys.outcome,
        JSON.stringify({ status, at: now.toISOString(), eventId: '' } satisfies StoredOutcome),
        'EX',
        this.ttlSeconds,
        'NX',
      );
      tx.set(keys.notified, status, 'EX', this.ttlSeconds);
    }
    await tx.exec();
    if (status !== 'FAILED') await this.redis.set(purchasePaymentKey(this.prefix, p.purchaseId), p.paymentId, 'EX', this.ttlSeconds);
    const created = await this.get(p.paymentId);
    if (!created) throw new Error(`payment ${p.paymentId} vanished right after it was recorded`);
    return created;
  }

  async get(paymentId: string): Promise<Payment | undefined> {
    const keys = paymentKeys(this.prefix, paymentId);
    // One MULTI (the keys share a hash tag): a consistent snapshot of record, outcome and refund.
    const replies = await this.redis.multi().hgetall(keys.record).get(keys.outcome).get(keys.refund).exec();
    const [record, outcome, refund] = (replies ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [Record<string, string>, string | null, string | null];
    if (!record?.paymentId) return undefined;
    const settled = outcome ? (JSON.parse(outcome) as StoredOutcome) : undefined;
    const refunded = refund ? (JSON.parse(refund) as Refund) : undefined;
    return {
      paymentId: record.paymentId,
      provider: record.provider ?? '',
      purchaseId: record.purchaseId ?? '',
      amountCents: Number(record.amountCents),
      currency: record.currency ?? '',
      status: refunded ? 'REFUNDED' : (settled?.status ?? 'PENDING'),
      createdAt: record.createdAt ?? '',
      ...(settled ? { settledAt: settled.at } : {}),
      ...(refunded ? { refund: refunded } : {}),
    };
  }

  /** The purchase's PENDING, SUCCEEDED or REFUNDED payment, if it has one. */
  async ofPurchase(purchaseId: string): Promise<Payment | undefined> {
    const paymentId = await this.redis.get(purchasePaymentKey(this.prefix, purchaseId));
    return paymentId === null ? undefined : this.get(paymentId);
  }

  /**
   * Moves a PENDING payment to its terminal outcome. `applied` says whether this call did it;
   * otherwise the payment already had an outcome (a duplicate or a contradicting event) and
   * keeps it. Undefined when there is no such payment.
   */
  async settle(
    paymentId: string,
    status: PaymentOutcome,
    eventId: string,
    now = new Date(),
  ): Promise<{ applied: boolean; payment: Payment } | undefined> {
    const before = await this.get(paymentId);
    if (!before) return undefined;
    if (before.status !== 'PENDING') return { applied: false, payment: before };
    const stored = JSON.stringify({ status, at: now.toISOString(), eventId } satisfies StoredOutcome);
    const applied = (await this.redis.set(paymentKeys(this.prefix, paymentId).outcome, stored, 'EX', this.ttlSeconds, 'NX')) === 'OK';
    const after = await this.get(paymentId);
    if (!after) throw new Error(`payment ${paymentId} expired while it was settled`);
    return { applied, payment: after };
  }

  /** The terminal status whose checkout callback has returned, if any. */
  async notifiedStatus(paymentId: string): Promise<PaymentOutcome | undefined> {
    return ((await this.redis.get(paymentKeys(this.prefix, paymentId).notified)) ?? undefined) as PaymentOutcome | undefined;
  }

  async markNotified(paymentId: string, status: PaymentOutcome): Promise<void> {
    await this.redis.set(paymentKeys(this.prefix, paymentId).notified, status, 'EX', this.ttlSeconds);
  }

  /** Records the payment's refund once; returns the one stored (this one or an earlier twin's). */
  async recordRefund(paymentId: string, refund: Refund): Promise<Refund> {
    const key = paymentKeys(this.prefix, paymentId).refund;
    if ((await this.redis.set(key, JSON.stringify(refund), 'EX', this.ttlSeconds, 'NX')) === 'OK') return refund;
    const stored = await this.redis.get(key);
    return stored ? (JSON.parse(stored) as Refund) : refund;
  }
}
