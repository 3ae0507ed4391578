import { parseHoldId } from '../inventory/holds';
import { purchaseView } from '../purchase/lookup';
import type { PaymentReference, TicketPurchased } from '../purchase/record';
import { ApiError } from '../shared/errors';
import type { CheckoutRecord, CheckoutState } from './checkout-store';

/* The answers of paying a hold and of reading its purchase (docs/checkout.md, "Holds and paying them"). */

/** The 201 of a paid hold: the multi-seat purchase answer, plus the hold and the payment. */
export type PurchaseAnswer = ReturnType<typeof purchaseView> & { holdId: string; payment?: PaymentReference };

export type PayAnswer =
  | { status: 201; body: PurchaseAnswer }
  | { status: 202; body: { purchaseId: string; holdId: string; paymentId: string; status: 'PAYMENT_PENDING' } };

/** A purchase of a hold as `GET /api/v1/purchases/{id}` shows it while it has no purchase record. */
export interface CheckoutView {
  purchaseId: string;
  status: 'PAYMENT_PENDING' | 'PAYMENT_DECLINED' | 'PAYMENT_FAILED' | 'PENDING' | 'REFUNDED';
  holdId: string;
  eventId: string;
  zoneId: string;
  userId: string;
  seats: { row: string; column: number }[];
  amountCents: number;
  currency: string;
  payment?: PaymentReference;
  reason?: string;
  detail?: string;
  refund?: CheckoutRecord['refund'];
  /** When the checkout began (ISO 8601). */
  createdOn: string;
  tickets: [];
}

/** What `GET /api/v1/purchases/{id}` reads for each checkout state without a purchase record. */
export const VIEW_STATUS: Record<Exclude<CheckoutState, 'converted'>, CheckoutView['status']> = {
  charging: 'PAYMENT_PENDING',
  pending: 'PAYMENT_PENDING',
  declined: 'PAYMENT_DECLINED',
  failed: 'PAYMENT_FAILED',
  paid: 'PENDING',
  refunded: 'REFUNDED',
};

/** The one purchase id of a hold: `<eventId>.<zoneId>.<the hold's 16 random characters>`. */
export function purchaseIdOfHold(holdId: string): string | undefined {
  const where = parseHoldId(holdId);
  return where && `${where.eventId}.${where.zoneId}.${holdId.slice(holdId.lastIndexOf('.') + 2)}`;
}

export function purchaseAnswer(record: TicketPurchased, holdId: string): PurchaseAnswer {
  return { ...purchaseView(record, 'CONFIRMED'), holdId, ...(record.payment ? { payment: record.payment } : {}) };
}

/** The hold of a purchase of a hold: the inverse of purchaseIdOfHold. */
export const holdIdOf = (p: TicketPurchased) => `${p.eventId}.${p.zoneId}.h${p.purchaseId.slice(p.purchaseId.lastIndexOf('.') + 1)}`;

export const pendingAnswer = (purchaseId: string, holdId: string, paymentId: string): PayAnswer => ({
  status: 202,
  body: { purchaseId, holdId, paymentId, status: 'PAYMENT_PENDING' },
});

export function checkoutView(rec: CheckoutRecord, status: CheckoutView['status']): CheckoutView {
  return {
    purchaseId: rec.purchaseId,
    status,
    holdId: rec.holdId,
    eventId: rec.eventId,
    zoneId: rec.zoneId,
    userId: rec.buyer || 'anonymous',
    seats: rec.seats,
    amountCents: rec.amountCents,
    currency: rec.currency,
    ...(rec.provider && rec.paymentId ? { payment: { provider: rec.provider, paymentId: rec.paymentId } } : {}),
    ...(rec.reason ? { reason: rec.reason } : {}),
    ...(rec.detail ? { detail: rec.detail } : {}),
    ...(rec.refund ? { refund: rec.refund } : {}),
    createdOn: new Date(rec.createdAt).toISOString(),
    tickets: [],
  };
}

export function refundedError(rec: CheckoutRecord): ApiError {
  return new ApiError(
    'PAYMENT_REFUNDED',
    `${rec.detail ?? 'The seats could not be sold'}; the payment was refunded in full. Create a new hold`,
    {
      purchaseId: rec.purchaseId,
      status: 'REFUNDED',
      reason: rec.reason,
      ...(rec.refund ? { refund: rec.refund } : {}),
    },
  );
}

export function unknownOutcome(purchaseId: string, why: string): ApiError {
  return new ApiError('PURCHASE_OUTCOME_UNKNOWN', `${why}. GET /api/v1/purchases/${purchaseId} tells the final outcome.`, { purchaseId });
}
