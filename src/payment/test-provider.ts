import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../shared/redis';
import { testIdempotencyKey, testLedgerKey } from './keys';
import {
  InvalidPaymentToken,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  type ProviderStatus,
  type RefundResult,
} from './provider';

/** The test provider's tokens, named after Stripe's test cards. */
export const TEST_TOKENS = {
  /** Paid at once. */
  tok_visa: 'SUCCEEDED',
  /** Declined (`card_declined`): the checkout answers 402 PAYMENT_DECLINED. */
  tok_chargeDeclined: 'FAILED',
  /** Pending: completes later through the webhook (`payment.succeeded` or `payment.failed`). */
  tok_pending: 'PENDING',
} as const;

type TestToken = keyof typeof TEST_TOKENS;

/**
 * The built-in `test` provider: it plays the PSP, with its own small ledger in Redis (the
 * PSP's side, apart from the platform's payment records), so charges are idempotent by key,
 * refunds happen once, and `status` answers as a PSP would. It moves no money.
 *
 * Every ledger change is a single HSET / HSETNX on the payment's own hash, so two concurrent
 * refunds or settlements cannot both win.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test';

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const idemKey = testIdempotencyKey(this.prefix, request.idempotencyKey);
    const replayed = await this.redis.get(idemKey);
    if (replayed !== null) return this.answerOf(replayed);
    if (!(request.token in TEST_TOKENS)) {
      throw new InvalidPaymentToken(
        `The test provider knows the tokens ${Object.keys(TEST_TOKENS).join(', ')}; "${request.token}" is none of them`,
      );
    }
    const status = TEST_TOKENS[request.token as TestToken];
    const paymentId = `pay_test_${randomBytes(12).toString('hex')}`;
    const ledger = testLedgerKey(this.prefix, paymentId);
    await this.redis
      .multi()
      .hset(ledger, {
        status,
        amountCents: request.amountCents,
        currency: request.currency,
        reference: request.reference,
        ...(status === 'FAILED' ? { declineCode: 'card_declined' } : {}),
      })
      .expire(ledger, this.ttlSeconds)
      .exec();
    // The first charge under a key wins; a concurrent twin answers with the winner's payment
    // (its own ledger entry is never referenced and expires).
    if ((await this.redis.set(idemKey, paymentId, 'EX', this.ttlSeconds, 'NX')) === 'OK') return this.answerOf(paymentId);
    return this.answerOf((await this.redis.get(idemKey)) ?? paymentId);
  }

  /**
   * Refunds the whole payment once: every later call, whatever its key, gets the same refund. A
   * ledger entry still PENDING is refunded too: it was completed by a hand-made webhook (the
   * curl walkthrough) rather than by settle(), and the platform refunds only what it saw succeed.
   */
  async refund(paymentId: string, _idempotencyKey: string): Promise<RefundResult> {
    const ledger = testLedgerKey(this.prefix, paymentId);
    const status = statusOf(await this.redis.hgetall(ledger));
    if (status === 'unknown' || status === 'FAILED') {
      throw new Error(
        `test provider: payment ${paymentId} is ${status === 'unknown' ? 'unknown (or expired)' : 'declined'}; nothing to refund`,
      );
    }
    await this.redis.hsetnx(ledger, 'refundId', `re_test_${randomBytes(12).toString('hex')}`);
    const stored = await this.redis.hmget(ledger, 'refundId', 'amountCents');
    if (!stored[0]) throw new Error(`test provider: payment ${paymentId} expired while it was refunded`);
    return { refundId: stored[0], amountCents: Number(stored[1]) };
  }

  async status(paymentId: string): Promise<ProviderStatus> {
    return statusOf(await this.redis.hgetall(testLedgerKey(this.prefix, paymentId)));
  }

  /**
   * Completes a `tok_pending` payment as the PSP would when the buyer finishes paying, and
   * returns the webhook event the PSP then sends (sign it with signWebhook). The first
   * settlement wins; a later one returns undefined.
   */
  async settle(paymentId: string, outcome: 'succeeded' | 'failed'): Promise<{ id: string; type: string; paymentId: string } | undefined> {
    const ledger = testLedgerKey(this.prefix, paymentId);
    if (statusOf(await this.redis.hgetall(ledger)) !== 'PENDING') return undefined;
    if ((await this.redis.hsetnx(ledger, 'settledAs', outcome === 'succeeded' ? 'SUCCEEDED' : 'FAILED')) !== 1) return undefined;
    return { id: `evt_test_${randomBytes(12).toString('hex')}`, type: `payment.${outcome}`, paymentId };
  }

  private async answerOf(paymentId: string): Promise<ChargeResult> {
    const entry = await this.redis.hgetall(testLedgerKey(this.prefix, paymentId));
    // The charge's own answer, as the PSP replays it for a repeated idempotency key.
    switch (entry.status) {
      case 'SUCCEEDED':
        return { outcome: 'SUCCEEDED', paymentId };
      case 'PENDING':
        return { outcome: 'PENDING', paymentId };
      case 'FAILED':
        return { outcome: 'DECLINED', paymentId, declineCode: entry.declineCode ?? 'card_declined' };
    }
    throw new Error(`test provider: the ledger entry of ${paymentId} is gone (expired); charge again with a new idempotency key`);
  }
}

/** The ledger's status: set once at the charge, then a settlement of a pending one, then a refund. */
function statusOf(entry: Record<string, string>): ProviderStatus {
  if (!entry.status) return 'unknown';
  if (entry.refundId) return 'REFUNDED';
  return (entry.settledAs ?? entry.status) as ProviderStatus;
}
