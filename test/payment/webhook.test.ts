import { paymentAndAuthRoutes, paymentServices } from '../../src/payment/routes';
import { signWebhook } from '../../src/payment/signature';
import type { Payment } from '../../src/payment/store';
import type { PaymentSettlement } from '../../src/payment/webhook';
import { ApiError } from '../../src/shared/errors';
import { call, serveRouters } from '../auth/support';
import { testConfig, testLogger, uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/**
 * `POST /api/v1/payments/webhook` through the platform's Express app (raw body kept by its
 * JSON parser) against the real Redis: signatures, duplicates, out-of-order events, and the
 * checkout callbacks' at-least-once delivery.
 */
const SECRET = 'whsec_webhook_test_secret_32_bytes_or_more';
const cfg = testConfig({ PAYMENT_WEBHOOK_SECRET: SECRET });
const redis = testRedis(cfg.REDIS_URL);
const log = testLogger();

/** What the checkout heard, and a switch to make its next callback fail. */
const heard: { kind: 'succeeded' | 'failed'; payment: Payment }[] = [];
let failNext: ApiError | undefined;
const settlement: PaymentSettlement = {
  async onPaymentSucceeded(payment) {
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    heard.push({ kind: 'succeeded', payment });
  },
  async onPaymentFailed(payment) {
    heard.push({ kind: 'failed', payment });
  },
};
const services = paymentServices({ cfg, redis, log }, settlement);
let app: Awaited<ReturnType<typeof serveRouters>>;

beforeAll(async () => {
  app = await serveRouters([paymentAndAuthRoutes({ cfg, redis, log }, services)]);
});
afterAll(async () => {
  await app.close();
  await dropKeyPrefix(redis, cfg.REDIS_KEY_PREFIX);
  redis.disconnect();
});

const heardOf = (paymentId: string) => heard.filter((h) => h.payment.paymentId === paymentId).map((h) => h.kind);

async function pendingPayment(): Promise<Payment> {
  return services.payments.charge({
    purchaseId: uid('P'),
    method: { provider: 'test', token: 'tok_pending' },
    amountCents: 9900,
    currency: 'EUR',
  });
}

/** A delivery of `body` (sent byte for byte as given), signed unless a header is given. */
function deliver(body: unknown, opts: { header?: string | null; at?: number } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const header = opts.header === undefined ? signWebhook(SECRET, raw, opts.at) : opts.header;
  return call(app.url, 'POST', '/api/v1/payments/webhook', { body: raw, headers: header === null ? {} : { 'payment-signature': header } });
}

const event = (paymentId: string, type = 'payment.succeeded', id = uid('evt_')) => ({ id, type, paymentId });

describe('signatures', () => {
  test('a good signature settles the pending payment and calls the checkout once', async () => {
    const p = await pendingPayment();
    const e = event(p.paymentId);
    const r = await deliver(e);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ received: true, ...e, status: 'SUCCEEDED', applied: true, duplicate: false });
    expect((await services.payments.get(p.paymentId))?.status).toBe('SUCCEEDED');
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
    expect(heard.find((h) => h.payment.paymentId === p.paymentId)?.payment).toMatchObject({
      purchaseId: p.purchaseId,
      amountCents: 9900,
      status: 'SUCCEEDED',
    });
  });

  test('the signature is checked over the raw bytes: an unusual but signed formatting passes', async () => {
    const p = await pendingPayment();
    const raw = `{\n  "paymentId" : "${p.paymentId}",\n  "type":"payment.succeeded",   "id": "${uid('evt_')}"\n}`;
    const r = await deliver(raw);
    expect(r.status).toBe(200);
    expect(r.body.applied).toBe(true);
  });

  test.each([
    ['a bad signature', (raw: string) => ({ header: signWebhook('whsec_another_secret_also_32_bytes_long', raw) })],
    ['a stale signature', (raw: string) => ({ header: signWebhook(SECRET, raw, Math.floor(Date.now() / 1000) - 301) })],
    ['a tampered body', (raw: string) => ({ header: signWebhook(SECRET, raw.replace('payment.failed', 'payment.succeeded')) })],
    ['no header', () => ({ header: null })],
  ])('%s: 401 problem, nothing changes, and the event id is not used up', async (_name, sign) => {
    const p = await pendingPayment();
    const e = event(p.paymentId, 'payment.failed');
    const raw = JSON.stringify(e);
    const r = await deliver(raw, sign(raw));
    expect(r.status).toBe(401);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID', status: 401 });
    expect((await services.payments.get(p.paymentId))?.status).toBe('PENDING');
    expect(heardOf(p.paymentId)).toEqual([]);
    // The genuine delivery of the same event still applies.
    expect((await deliver(raw)).body).toMatchObject({ applied: true, status: 'FAILED' });
    expect(heardOf(p.paymentId)).toEqual(['failed']);
  });

  test('no PAYMENT_WEBHOOK_SECRET: every delivery is refused with 401 saying what to set', async () => {
    const bare = testConfig({ REDIS_KEY_PREFIX: cfg.REDIS_KEY_PREFIX });
    const unsigned = await serveRouters([paymentAndAuthRoutes({ cfg: bare, redis, log })]);
    try {
      const raw = JSON.stringify(event('pay_test_x'));
      const r = await call(unsigned.url, 'POST', '/api/v1/payments/webhook', {
        body: raw,
        headers: { 'payment-signature': signWebhook('', raw) },
      });
      expect(r.status).toBe(401);
      expect(r.body.detail).toMatch(/PAYMENT_WEBHOOK_SECRET/);
    } finally {
      await unsigned.close();
    }
  });
});

describe('idempotent by id, safe out of order', () => {
  test('a duplicate delivery answers 200 duplicate and calls nobody again', async () => {
    const p = await pendingPayment();
    const e = event(p.paymentId);
    expect((await deliver(e)).body.applied).toBe(true);
    const again = await deliver(e);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, applied: false, status: 'SUCCEEDED' });
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
  });

  test('ten copies at once: one applies, the checkout hears it once', async () => {
    const p = await pendingPayment();
    const e = event(p.paymentId);
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(e)));
    expect(answers.filter((a) => a.status === 200 && a.body.applied)).toHaveLength(1);
    // The others are duplicates, or 409 while the first was still processing (the PSP retries those).
    for (const a of answers)
      expect(a.status === 200 ? a.body.applied || a.body.duplicate : a.body.code === 'IDEMPOTENCY_IN_FLIGHT').toBe(true);
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
  });

  test('payment.failed after payment.succeeded (another event id) does not undo it', async () => {
    const p = await pendingPayment();
    await deliver(event(p.paymentId, 'payment.succeeded'));
    const late = await deliver(event(p.paymentId, 'payment.failed'));
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ applied: false, duplicate: false, status: 'SUCCEEDED' });
    expect((await services.payments.get(p.paymentId))?.status).toBe('SUCCEEDED');
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
  });

  test('payment.succeeded after payment.failed keeps FAILED', async () => {
    const p = await pendingPayment();
    await deliver(event(p.paymentId, 'payment.failed'));
    expect((await deliver(event(p.paymentId, 'payment.succeeded'))).body).toMatchObject({ applied: false, status: 'FAILED' });
    expect(heardOf(p.paymentId)).toEqual(['failed']);
  });

  test("the test provider's own settlement makes the event a PSP sends", async () => {
    const p = await pendingPayment();
    const e = await services.testProvider.settle(p.paymentId, 'succeeded');
    expect((await deliver(e)).body).toMatchObject({ applied: true, status: 'SUCCEEDED' });
  });

  test('a payment decided at once calls no callback when its webhook arrives too', async () => {
    const paid = await services.payments.charge({
      purchaseId: uid('P'),
      method: { provider: 'test', token: 'tok_visa' },
      amountCents: 100,
      currency: 'EUR',
    });
    expect((await deliver(event(paid.paymentId))).body).toMatchObject({ applied: false, status: 'SUCCEEDED' });
    expect(heardOf(paid.paymentId)).toEqual([]);
  });
});

describe('at-least-once delivery to the checkout', () => {
  test('a failing callback answers its error; the redelivery calls it again, then it is done', async () => {
    const p = await pendingPayment();
    const e = event(p.paymentId);
    failNext = new ApiError('DEPENDENCY_UNAVAILABLE', 'the event log is down');
    const first = await deliver(e);
    expect(first.status).toBe(503);
    expect(first.body.code).toBe('DEPENDENCY_UNAVAILABLE');
    // The outcome is recorded; only the checkout has not heard it yet.
    expect((await services.payments.get(p.paymentId))?.status).toBe('SUCCEEDED');
    expect(heardOf(p.paymentId)).toEqual([]);
    const retry = await deliver(e);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ applied: false, duplicate: false, status: 'SUCCEEDED' });
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
    expect((await deliver(e)).body.duplicate).toBe(true);
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
  });

  test('another event for the payment also delivers a callback that failed before', async () => {
    const p = await pendingPayment();
    failNext = new ApiError('DEPENDENCY_UNAVAILABLE', 'the event log is down');
    expect((await deliver(event(p.paymentId))).status).toBe(503);
    // The PSP's next event (here a contradicting one) finds the final state not yet heard.
    expect((await deliver(event(p.paymentId, 'payment.failed'))).body).toMatchObject({ status: 'SUCCEEDED' });
    expect(heardOf(p.paymentId)).toEqual(['succeeded']);
  });
});

describe('bodies', () => {
  test('an unknown payment is 404 and the event id stays usable for the retry', async () => {
    const e = event('pay_test_not_yet_recorded');
    const r = await deliver(e);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
    expect((await deliver(e)).status).toBe(404);
  });

  test('an event type this platform does not handle is acknowledged and ignored', async () => {
    const p = await pendingPayment();
    const r = await deliver(event(p.paymentId, 'payment.requires_action'));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ignored: true, applied: false });
    expect((await services.payments.get(p.paymentId))?.status).toBe('PENDING');
  });

  test('a signed body that misses fields is 400 VALIDATION_FAILED', async () => {
    const r = await deliver({ type: 'payment.succeeded' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
  });
});
