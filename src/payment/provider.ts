import { z } from 'zod';

/**
 * The seam between the checkout and a payment service provider (PSP). A provider charges a
 * buyer's payment token once per idempotency key, refunds, and tells a payment's status; the
 * platform keeps only what docs/checkout.md lists (provider, paymentId, amount, status), never
 * the token or any card data.
 */

/** What a buyer pays with: `{provider, token}` in a request body. The token is the PSP's (e.g. `tok_visa`), never card data. */
export interface PaymentMethod {
  provider: string;
  token: string;
}

export const paymentMethodSchema = z
  .object({
    provider: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a provider name such as "test"'),
    token: z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, 'must be the provider\'s payment token (1–255 visible ASCII characters), such as "tok_visa"'),
  })
  .strict();

/** An ISO 4217 code such as EUR. */
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as "EUR"');
/** Minor units (cents); 0 is allowed for free tickets. */
export const amountCentsSchema = z.number().int().min(0).max(100_000_000_000);

export interface ChargeRequest {
  token: string;
  amountCents: number;
  currency: string;
  /** The platform's reference shown in the PSP's dashboard (the purchase id). */
  reference: string;
  /** The same key always answers with the same payment, so a retried charge never charges twice. */
  idempotencyKey: string;
}

/** What the PSP answered: paid now, declined, or pending (completes later through a webhook). */
export type ChargeResult =
  | { outcome: 'SUCCEEDED'; paymentId: string }
  | { outcome: 'PENDING'; paymentId: string }
  | { outcome: 'DECLINED'; paymentId: string; declineCode: string };

export interface RefundResult {
  refundId: string;
  amountCents: number;
}

/** The PSP's view of a payment; `unknown` when it has never heard of it. */
export type ProviderStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED' | 'unknown';

/** A token the provider does not know: the buyer's mistake (400), not a decline. */
export class InvalidPaymentToken extends Error {}

export interface PaymentProvider {
  /** The `provider` of a PaymentMethod that selects this one. */
  readonly name: string;
  /** Authorizes and captures in one step. Throws InvalidPaymentToken, or any other error when the PSP cannot be reached. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Refunds the whole payment; the same idempotency key gives the same refund. */
  refund(paymentId: string, idempotencyKey: string): Promise<RefundResult>;
  status(paymentId: string): Promise<ProviderStatus>;
}
