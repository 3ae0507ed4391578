import { paymentAndAuthRoutes, paymentServices, loggingSettlement } from '../../src/payment/routes';
import { signWebhook } from '../../src/payment/signature';
import { authSettingsOf } from '../../src/auth/buyer';
import { TokenVerifier } from '../../src/auth/tokens';
import { call, serveRouters } from '../auth/support';
import { testConfig, testLogger, uid } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';

/** The api role mounts the webhook route, and the dev token route only with AUTH_DEV_TOKENS=true. */
const WEBHOOK_SECRET = 'whsec_api_routes_test_secret_32_bytes_long';
const HS256 = 'hs256-secret-of-the-api-routes-test-32b';
let platform: Awaited<ReturnType<typeof startTestPlatform>>;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], {
    AUTH_MODE: 'jwt',
    AUTH_HS256_SECRET: HS256,
    AUTH_DEV_TOKENS: 'true',
    PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
});
afterAll(async () => {
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

test('the api role serves the dev token route (AUTH_DEV_TOKENS=true); its token verifies in jwt mode', async () => {
  const r = await call(platform.url, 'POST', '/api/v1/dev/token', { body: { userId: 'gina' } });
  expect(r.status).toBe(200);
  const verified = await new TokenVerifier(authSettingsOf(platform.cfg)).verify(r.body.token);
  expect(verified.sub).toBe('gina');
});

test('the api role serves the signed webhook route', async () => {
  const { payments } = paymentServices(
    { cfg: platform.cfg, redis: platform.ctx.redis, log: testLogger() },
    loggingSettlement(testLogger()),
  );
  const pending = await payments.charge({
    purchaseId: uid('P'),
    method: { provider: 'test', token: 'tok_pending' },
    amountCents: 4200,
    currency: 'EUR',
  });
  const raw = JSON.stringify({ id: uid('evt_'), type: 'payment.succeeded', paymentId: pending.paymentId });
  const bad = await call(platform.url, 'POST', '/api/v1/payments/webhook', {
    body: raw,
    headers: { 'payment-signature': signWebhook('whsec_not_the_secret_but_32_bytes_long', raw) },
  });
  expect(bad.status).toBe(401);
  expect(bad.body.code).toBe('WEBHOOK_SIGNATURE_INVALID');
  const good = await call(platform.url, 'POST', '/api/v1/payments/webhook', {
    body: raw,
    headers: { 'payment-signature': signWebhook(WEBHOOK_SECRET, raw) },
  });
  expect(good.status).toBe(200);
  expect(good.body).toMatchObject({ applied: true, status: 'SUCCEEDED' });
  expect((await payments.get(pending.paymentId))?.status).toBe('SUCCEEDED');
});

test('without AUTH_DEV_TOKENS there is no dev token route', async () => {
  const cfg = testConfig({ AUTH_HS256_SECRET: HS256 });
  const app = await serveRouters([paymentAndAuthRoutes({ cfg, redis: platform.ctx.redis, log: testLogger() })]);
  try {
    const r = await call(app.url, 'POST', '/api/v1/dev/token', { body: { userId: 'gina' } });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
  } finally {
    await app.close();
  }
});
