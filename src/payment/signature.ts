import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../shared/errors';

/**
 * Webhook signatures as Stripe makes them: the header
 * `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
 * PAYMENT_WEBHOOK_SECRET. Several `v1` entries are allowed (a PSP rolling its secret signs with
 * both); one matching is enough. Other schemes (`v0`, …) are ignored.
 */
export const SIGNATURE_HEADER = 'payment-signature';
/** A signature older (or further ahead) than this is refused, so a captured delivery cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

function hmac(secret: string, t: string, rawBody: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
}

/** The header value for a body: what a PSP sends, and what tests and the curl walkthrough compute. */
export function signWebhook(secret: string, rawBody: Buffer | string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const t = String(unixSeconds);
  return `t=${t},v1=${hmac(secret, t, Buffer.from(rawBody)).toString('hex')}`;
}

/** Throws 401 WEBHOOK_SIGNATURE_INVALID unless `header` signs exactly `rawBody`, recently, with `secret`. */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): void {
  const refuse = (detail: string) => new ApiError('WEBHOOK_SIGNATURE_INVALID', detail);
  if (!secret)
    throw refuse(
      'This server has no PAYMENT_WEBHOOK_SECRET, so no webhook can be verified; set it to the secret the payment provider signs with',
    );
  if (!header) throw refuse('Send the Payment-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">');

  let t: string | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && t === undefined) t = value;
    // A v1 that is not 64 hex digits can never match; skipping it keeps the comparison fixed-length.
    if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || !/^\d{1,12}$/.test(t)) throw refuse('Payment-Signature has no t=<unix seconds>');
  if (candidates.length === 0) throw refuse('Payment-Signature has no v1=<64 hex digits> entry');

  const expected = hmac(secret, t, rawBody);
  // Every candidate is compared, in constant time each.
  let matched = false;
  for (const c of candidates) matched = timingSafeEqual(c, expected) || matched;
  if (!matched) throw refuse('No v1 signature matches the body: sign the exact raw body bytes, "<t>.<body>", with PAYMENT_WEBHOOK_SECRET');
  if (Math.abs(nowSeconds - Number(t)) > toleranceSeconds) {
    throw refuse(`The signature's timestamp is more than ${toleranceSeconds} s from this server's clock; send a freshly signed delivery`);
  }
}
