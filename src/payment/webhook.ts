import type { RedisClient } from '../shared/redis';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import { parse } from '../http/validation';
import { ApiError } from '../shared/errors';
import { webhookEventKey } from './keys';
import { SIGNATURE_TOLERANCE_SECONDS, verifyWebhookSignature } from './signature';
import type { Payment, PaymentOutcome, PaymentStatus, PaymentStore } from './store';

/**
 * What the checkout does when a PENDING payment completes. Delivery is at least once: a crash
 * or a failing callback (its error answers the PSP with 5xx, and the PSP delivers again) calls
 * it again for the same payment, so it must be idempotent by paymentId. It is not called for
 * payments the provider decided at once (the checkout handled those in the request).
 */
export interface PaymentSettlement {
  onPaymentSucceeded(payment: Payment): Promise<void>;
  onPaymentFailed(payment: Payment): Promise<void>;
}

export const WEBHOOK_TYPES = { 'payment.succeeded': 'SUCCEEDED', 'payment.failed': 'FAILED' } as const satisfies Record<
  string,
  PaymentOutcome
>;

const visible = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters');
const webhookBodySchema = z.object({ id: visible, type: z.string().min(1).max(255), paymentId: visible });

export interface WebhookReceipt {
  received: true;
  id: string;
  type: string;
  paymentId: string;
  /** The payment's status after this delivery (undefined for an ignored event type). */
  status?: PaymentStatus;
  /** This delivery changed the payment's state (false for duplicates and contradicting events). */
  applied: boolean;
  /** This event id was processed before; nothing was done again. */
  duplicate: boolean;
  /** An event type this platform does not handle, acknowledged so the PSP stops sending it. */
  ignored?: true;
}

export interface WebhookOptions {
  secret: string;
  toleranceSeconds?: number;
  /** How long a processed event id is remembered: beyond the PSP's retry window (Stripe: 3 days). */
  eventTtlSeconds?: number;
  /** How long a delivery in progress holds its event id (a crashed one frees it after this). */
  processingTtlSeconds?: number;
  nowMs?: () => number;
}

export const WEBHOOK_EVENT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Intake of `POST /api/v1/payments/webhook`: verify the signature over the raw body, then apply
 * the event once (by its `id`: SET NX), then make sure the checkout heard the payment's final
 * state. Out-of-order events cannot undo a terminal state (PaymentStore.settle).
 */
export class WebhookIntake {
  private readonly tolerance: number;
  private readonly eventTtl: number;
  private readonly processingTtl: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly store: PaymentStore,
    private readonly settlement: PaymentSettlement,
    private readonly log: Logger,
    private readonly opts: WebhookOptions,
  ) {
    this.tolerance = opts.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
    this.eventTtl = opts.eventTtlSeconds ?? WEBHOOK_EVENT_TTL_SECONDS;
    this.processingTtl = opts.processingTtlSeconds ?? 60;
    this.now = opts.nowMs ?? Date.now;
  }

  /**
   * Handles one delivery. Throws 401 WEBHOOK_SIGNATURE_INVALID (bad, stale or missing
   * signature), 400 for a malformed body, 404 NOT_FOUND for an unknown payment (its record may
   * not be written yet: the PSP's retry finds it), 409 IDEMPOTENCY_IN_FLIGHT while the same
   * event id is being processed, or the callback's own error (the PSP retries).
   */
  async receive(rawBody: Buffer, signature: string | undefined): Promise<WebhookReceipt> {
    verifyWebhookSignature(rawBody, signature, this.opts.secret, Math.floor(this.now() / 1000), this.tolerance);
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ApiError('MALFORMED_JSON', 'The webhook body is not valid JSON');
    }
    const event = parse(webhookBodySchema, json, 'body');
    const base = { received: true as const, id: event.id, type: event.type, paymentId: event.paymentId };
    const outcome = WEBHOOK_TYPES[event.type as keyof typeof WEBHOOK_TYPES] as PaymentOutcome | undefined;
    if (!outcome) return { ...base, applied: false, duplicate: false, ignored: true };

    const key = webhookEventKey(this.prefix, event.id);
    if ((await this.redis.set(key, 'processing', 'EX', this.processingTtl, 'NX')) !== 'OK') {
      if ((await this.redis.get(key)) === 'processing') {
        throw new ApiError('IDEMPOTENCY_IN_FLIGHT', `Webhook event ${event.id} is being processed; deliver it again later`);
      }
      const payment = await this.store.get(event.paymentId);
      return { ...base, ...(payment ? { status: payment.status } : {}), applied: false, duplicate: true };
    }
    try {
      const settled = await this.store.settle(event.paymentId, outcome, event.id);
      if (!settled)
        throw new ApiError('NOT_FOUND', `No payment ${event.paymentId}; if it was created a moment ago, deliver the event again`);
      if (!settled.applied) {
        this.log.warn(
          { eventId: event.id, paymentId: event.paymentId, type: event.type, status: settled.payment.status },
          'webhook event for a payment already settled: its state is kept',
        );
      }
      await this.notify(settled.payment);
      await this.redis.set(key, 'done', 'EX', this.eventTtl);
      return { ...base, status: settled.payment.status, applied: settled.applied, duplicate: false };
    } catch (err) {
      // Nothing is remembered for a delivery that did not finish: the PSP's retry runs it again.
      await this.redis.del(key).catch(() => undefined);
      throw err;
    }
  }

  /** Calls the checkout for the payment's final state unless a call already returned (at least once). */
  private async notify(payment: Payment): Promise<void> {
    const final: PaymentOutcome | undefined =
      payment.status === 'FAILED' ? 'FAILED' : payment.status === 'PENDING' ? undefined : 'SUCCEEDED';
    if (!final || (await this.store.notifiedStatus(payment.paymentId)) === final) return;
    if (final === 'SUCCEEDED') await this.settlement.onPaymentSucceeded(payment);
    else await this.settlement.onPaymentFailed(payment);
    await this.store.markNotified(payment.paymentId, final);
  }
}
