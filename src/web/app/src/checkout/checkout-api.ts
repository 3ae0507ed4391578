/**
 * The checkout routes the seat map uses (docs/checkout.md): holds, paying them, the buyer's own
 * lists and cancelling. Every call names the buyer with identity.headers(). The shapes are the
 * API's schemas (type-only imports).
 */
import { call, type Purchase, type Seat } from '../api';
import type { CheckoutPurchase, HoldAnswer, HoldPurchase, MyHolds, MyPurchases, PaymentPending } from '../../../../http/checkout-schemas';
import type { CancelAnswer } from '../../../../http/schemas';
import { identity } from './identity';
import { admissions, eventOfHold } from '../admission/admission-store';

export type { CancelAnswer, CheckoutPurchase, HoldAnswer, HoldPurchase, PaymentPending };
export type MyPurchase = MyPurchases['purchases'][number];

/** The test provider's tokens (src/payment/test-provider.ts), as Stripe's test cards behave. */
export const TEST_TOKENS = [
  { token: 'tok_visa', label: 'Card that pays', detail: 'the purchase confirms at once' },
  { token: 'tok_chargeDeclined', label: 'Card that is declined', detail: '402: nothing is charged, the seats stay held' },
  { token: 'tok_pending', label: 'Payment that completes later', detail: '202: confirmed when the provider’s webhook arrives' },
] as const;
export type TestToken = (typeof TEST_TOKENS)[number]['token'];

export type HoldRequest = { zoneId: string; seats: Seat[] } | { zoneId: string; best: { count: number } };

const seg = encodeURIComponent;
const json = (method: string, body: unknown, extra: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { ...identity.headers(), ...extra, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const read = (): RequestInit => ({ headers: identity.headers(), cache: 'no-store' });

/**
 * A call that a queued event gates (docs/admission.md): it carries the event's Admission-Token; a
 * 403 ADMISSION_REQUIRED, or a purchase (which ends the admission on the server), ends it here too.
 */
async function gated<T>(eventId: string, request: (headers: Record<string, string>) => Promise<T>, buys: (a: T) => boolean): Promise<T> {
  try {
    const answer = await request(admissions.headers(eventId));
    if (buys(answer)) admissions.ended(eventId, 'purchased');
    return answer;
  } catch (err) {
    if ((err as { code?: string }).code === 'ADMISSION_REQUIRED') admissions.ended(eventId, 'refused');
    throw err;
  }
}

export const checkoutApi = {
  hold: (eventId: string, body: HoldRequest, idempotencyKey: string) =>
    gated(
      eventId,
      (admission) =>
        call<HoldAnswer>(`api/v1/events/${seg(eventId)}/holds`, json('POST', body, { ...admission, 'idempotency-key': idempotencyKey })),
      () => false,
    ),
  getHold: (holdId: string) => call<HoldAnswer>(`api/v1/holds/${seg(holdId)}`, read()),
  extend: (holdId: string, seconds: number) =>
    gated(
      eventOfHold(holdId),
      (admission) => call<HoldAnswer>(`api/v1/holds/${seg(holdId)}/extend`, json('POST', { seconds }, admission)),
      () => false,
    ),
  release: (holdId: string) => call<HoldAnswer>(`api/v1/holds/${seg(holdId)}`, { method: 'DELETE', headers: identity.headers() }),
  /** 201 (the tickets) or 202 (PAYMENT_PENDING); a decline is an ApiProblem 402 PAYMENT_DECLINED. */
  pay: (holdId: string, token: TestToken, idempotencyKey: string) =>
    gated(
      eventOfHold(holdId),
      (admission) =>
        call<HoldPurchase | PaymentPending>(
          `api/v1/holds/${seg(holdId)}/purchase`,
          json('POST', { payment: { provider: 'test', token } }, { ...admission, 'idempotency-key': idempotencyKey }),
        ),
      (a) => !isPending(a),
    ),
  purchase: (purchaseId: string) => call<Purchase | CheckoutPurchase>(`api/v1/purchases/${seg(purchaseId)}`, read()),
  myHolds: (status?: HoldAnswer['status']) =>
    call<MyHolds>(`api/v1/me/holds${status ? `?status=${status}` : ''}`, read()).then((r) => r.holds),
  myPurchases: () => call<MyPurchases>('api/v1/me/purchases', read()).then((r) => r.purchases),
  cancel: (purchaseId: string) => call<CancelAnswer>(`api/v1/purchases/${seg(purchaseId)}/cancel`, json('POST', {})),
};

export const isPending = (a: HoldPurchase | PaymentPending): a is PaymentPending => a.status === 'PAYMENT_PENDING';
