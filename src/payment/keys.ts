/**
 * Redis keys of payments, under the platform's key prefix. Each payment's keys share the hash
 * tag `{pay:<paymentId>}`, so one MULTI covers them on Redis Cluster; every other key here is
 * used alone, one command at a time.
 */
export function paymentKeys(prefix: string, paymentId: string) {
  const base = `${prefix}{pay:${paymentId}}:`;
  return {
    /** Hash: provider, paymentId, purchaseId, amountCents, currency, createdAt (never a token). */
    record: `${base}record`,
    /** String, set once (SET NX): the terminal outcome `{status, at, eventId}`; absent = PENDING. */
    outcome: `${base}outcome`,
    /** String: the terminal status whose checkout callback returned (at-least-once delivery). */
    notified: `${base}notified`,
    /** String, set once: the refund `{refundId, amountCents, refundedAt}`. */
    refund: `${base}refund`,
  };
}

/** String: the paymentId of a purchase's PENDING or SUCCEEDED payment (a second charge returns it). */
export const purchasePaymentKey = (prefix: string, purchaseId: string) => `${prefix}{paypurchase:${purchaseId}}`;

/** String, SET NX: a webhook event id, `processing` then `done` (deliveries are idempotent by id). */
export const webhookEventKey = (prefix: string, eventId: string) => `${prefix}{paywebhook:${eventId}}`;

/** The built-in test provider's own ledger (it plays the PSP): a payment, and an idempotency key's payment. */
export const testLedgerKey = (prefix: string, paymentId: string) => `${prefix}{paytest:${paymentId}}`;
export const testIdempotencyKey = (prefix: string, key: string) => `${prefix}{paytest-idem:${key}}`;
