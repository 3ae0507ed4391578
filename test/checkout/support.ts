import { TestPaymentProvider } from '../../src/payment/test-provider';
import { signWebhook } from '../../src/payment/signature';
import type { ScriptedRedis } from '../../src/commands/scripts';
import { waitFor } from '../support/env';
import { http } from '../support/platform';

/** The webhook secret of the checkout tests' platforms (at least 32 bytes). */
export const WEBHOOK_SECRET = 'whsec_checkout_tests_secret_of_32_bytes_plus';

type Answer = Awaited<ReturnType<typeof http>>;

/** The checkout routes of one running api, as a buyer (declared: X-User-Id; jwt: a bearer token) calls them. */
export function checkoutClient(base: string, eventId: string) {
  const as = (who?: { user?: string; token?: string }): Record<string, string> => ({
    ...(who?.user ? { 'x-user-id': who.user } : {}),
    ...(who?.token ? { authorization: `Bearer ${who.token}` } : {}),
  });
  return {
    hold: (body: Record<string, unknown>, who?: { user?: string; token?: string }, headers: Record<string, string> = {}): Promise<Answer> =>
      http(base, 'POST', `/api/v1/events/${eventId}/holds`, body, { ...as(who), ...headers }),
    getHold: (holdId: string, who?: { user?: string; token?: string }) => http(base, 'GET', `/api/v1/holds/${holdId}`, undefined, as(who)),
    extend: (holdId: string, seconds: number, who?: { user?: string; token?: string }) =>
      http(base, 'POST', `/api/v1/holds/${holdId}/extend`, { seconds }, as(who)),
    release: (holdId: string, who?: { user?: string; token?: string }) =>
      http(base, 'DELETE', `/api/v1/holds/${holdId}`, undefined, as(who)),
    pay: (holdId: string, token: string, who?: { user?: string; token?: string }, headers: Record<string, string> = {}) =>
      http(base, 'POST', `/api/v1/holds/${holdId}/purchase`, { payment: { provider: 'test', token } }, { ...as(who), ...headers }),
    buy: (body: Record<string, unknown>) => http(base, 'POST', `/api/v1/events/${eventId}/purchases`, body),
    purchase: (purchaseId: string, who?: { user?: string; token?: string }) =>
      http(base, 'GET', `/api/v1/purchases/${purchaseId}`, undefined, as(who)),
    me: (what: 'holds' | 'purchases', who?: { user?: string; token?: string }) =>
      http(base, 'GET', `/api/v1/me/${what}`, undefined, as(who)),
    /** Waits until the purchase reads `status`. */
    purchaseReads: (purchaseId: string, status: string, who?: { user?: string; token?: string }) =>
      waitFor(
        async () => {
          const r = await http(base, 'GET', `/api/v1/purchases/${purchaseId}`, undefined, as(who));
          return r.body?.status === status ? r : undefined;
        },
        `purchase ${purchaseId} to read ${status}`,
        20_000,
      ),
    /** Waits until the hold reads `status` (an expiry takes its seconds). */
    holdReads: (holdId: string, status: string, who?: { user?: string; token?: string }) =>
      waitFor(
        async () => {
          const r = await http(base, 'GET', `/api/v1/holds/${holdId}`, undefined, as(who));
          return r.body?.status === status ? r : undefined;
        },
        `hold ${holdId} to read ${status}`,
        20_000,
      ),
  };
}

/**
 * Completes a `tok_pending` payment as the PSP would, and delivers its webhook signed with
 * `secret` (the platform's, unless a test wants a bad signature). Returns the webhook's answer.
 */
export async function settlePending(
  base: string,
  redis: ScriptedRedis,
  prefix: string,
  paymentId: string,
  outcome: 'succeeded' | 'failed',
  secret = WEBHOOK_SECRET,
) {
  const psp = new TestPaymentProvider(redis, prefix, 3600);
  const event = await psp.settle(paymentId, outcome);
  if (!event) throw new Error(`payment ${paymentId} was not pending at the test provider`);
  return deliver(base, JSON.stringify(event), secret);
}

/** One webhook delivery of a raw body, signed with `secret`. */
export function deliver(base: string, raw: string, secret = WEBHOOK_SECRET) {
  return http(base, 'POST', '/api/v1/payments/webhook', raw, {
    'content-type': 'application/json',
    'payment-signature': signWebhook(secret, raw),
  });
}

/** Whether a row of a seat map (taken flags, in column order) strands a single free seat between taken seats or a row's end. */
export function hasOrphan(taken: boolean[]): boolean {
  return taken.some((t, i) => !t && (i === 0 || taken[i - 1]!) && (i === taken.length - 1 || taken[i + 1]!));
}

/** The taken flags of a row from a seat-map answer (`sold.data`: the zone bitmap, most significant bit first). */
export function rowTaken(seatMap: { sold: { data: string }; seatCounts: number[] }, rowIdx: number): boolean[] {
  const bits = Buffer.from(seatMap.sold.data, 'base64');
  const start = seatMap.seatCounts.slice(0, rowIdx).reduce((a, b) => a + b, 0);
  return Array.from({ length: seatMap.seatCounts[rowIdx]! }, (_, i) => {
    const k = start + i;
    return (bits[k >> 3]! & (0x80 >> (k & 7))) !== 0;
  });
}
