import { createHmac } from 'node:crypto';
import { ApiError } from '../../src/shared/errors';
import { signWebhook, verifyWebhookSignature } from '../../src/payment/signature';

const SECRET = 'whsec_test_secret_of_at_least_32_bytes';
const body = Buffer.from('{"id":"evt_1","type":"payment.succeeded","paymentId":"pay_1"}');
const now = 1_800_000_000;

/** The refusal's detail, or 'ok' when the signature is accepted. */
function verdict(raw: Buffer, header: string | undefined, secret = SECRET, at = now): string {
  try {
    verifyWebhookSignature(raw, header, secret, at);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect((err as ApiError).status).toBe(401);
    return (err as ApiError).message;
  }
}

describe('Payment-Signature (Stripe scheme)', () => {
  test('signWebhook computes hex HMAC-SHA256 of "<t>.<raw body>"', () => {
    const expected = createHmac('sha256', SECRET).update(`${now}.${body.toString()}`).digest('hex');
    expect(signWebhook(SECRET, body, now)).toBe(`t=${now},v1=${expected}`);
  });

  test('a good signature passes, up to 5 minutes either side of the clock', () => {
    expect(verdict(body, signWebhook(SECRET, body, now))).toBe('ok');
    expect(verdict(body, signWebhook(SECRET, body, now - 300))).toBe('ok');
    expect(verdict(body, signWebhook(SECRET, body, now + 300))).toBe('ok');
  });

  test('stale: older than 5 minutes (or as far ahead)', () => {
    expect(verdict(body, signWebhook(SECRET, body, now - 301))).toMatch(/more than 300 s/);
    expect(verdict(body, signWebhook(SECRET, body, now + 301))).toMatch(/more than 300 s/);
  });

  test('a tampered body, or a body re-serialised differently, does not match', () => {
    const header = signWebhook(SECRET, body, now);
    expect(verdict(Buffer.from(body.toString().replace('succeeded', 'failed')), header)).toMatch(/No v1 signature matches/);
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(verdict(reformatted, header)).toMatch(/No v1 signature matches/);
  });

  test('another secret, or a tampered timestamp, does not match', () => {
    expect(verdict(body, signWebhook('another_secret_that_is_32_bytes_long!', body, now))).toMatch(/No v1 signature matches/);
    const v1 = signWebhook(SECRET, body, now).split(',')[1];
    expect(verdict(body, `t=${now - 1},${v1}`)).toMatch(/No v1 signature matches/);
  });

  test('several v1 entries: one match is enough (a secret being rolled); v0 and unknown parts are ignored', () => {
    const good = signWebhook(SECRET, body, now).split(',')[1];
    const stale = signWebhook('old_secret_that_is_also_32_bytes_long', body, now).split(',')[1];
    expect(verdict(body, `t=${now},${stale},${good}`)).toBe('ok');
    expect(verdict(body, `t=${now}, v0=abc, ${good}, x`)).toBe('ok');
    expect(verdict(body, `t=${now},${stale},v0=${good!.slice(3)}`)).toMatch(/No v1 signature matches/);
  });

  test('missing or malformed header', () => {
    expect(verdict(body, undefined)).toMatch(/Send the Payment-Signature header/);
    expect(verdict(body, '')).toMatch(/Send the Payment-Signature header/);
    expect(verdict(body, 'v1=' + 'a'.repeat(64))).toMatch(/no t=/);
    expect(verdict(body, `t=soon,v1=${'a'.repeat(64)}`)).toMatch(/no t=/);
    expect(verdict(body, `t=${now}`)).toMatch(/no v1=/);
    expect(verdict(body, `t=${now},v1=nothex`)).toMatch(/no v1=/);
  });

  test('no secret configured: every delivery is refused, saying what to set', () => {
    expect(verdict(body, signWebhook('', body, now), '')).toMatch(/PAYMENT_WEBHOOK_SECRET/);
  });
});
