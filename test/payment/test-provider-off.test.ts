import { Payments } from '../../src/payment/payments';
import { PaymentStore } from '../../src/payment/store';
import { purchaseIdOfHold } from '../../src/checkout/checkout';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testLogger, uid } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';
import { checkoutClient } from '../checkout/support';

/**
 * An api with the built-in test provider turned off (PAYMENT_TEST_PROVIDER=false, the default in
 * production mode): paying a hold with provider `test` is a 4xx problem that charges nothing, and
 * the hold stays HELD for another way to pay.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('PayOff');
let cleanup: () => Promise<void>;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], { PAYMENT_TEST_PROVIDER: 'false' });
  cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, testEntry({ eventId, zones: [{ zoneId: 'z' }] }));
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

test('paying with the test provider is 422 PAYMENT_PROVIDER_UNAVAILABLE: nothing charged, the hold stays HELD', async () => {
  expect(platform.cfg.PAYMENT_TEST_PROVIDER).toBe(false);
  const c = checkoutClient(platform.url, eventId);
  const buyer = { user: uid('olive') };
  const h = await c.hold({ zoneId: 'z', seats: [{ row: 'A', column: 1 }] }, buyer);
  expect(h.status).toBe(201);
  for (const token of ['tok_visa', 'tok_pending']) {
    const paid = await c.pay(h.body.holdId, token, buyer);
    expect(paid).toMatchObject({ status: 422, body: { code: 'PAYMENT_PROVIDER_UNAVAILABLE', provider: 'test' } });
    expect(paid.contentType).toContain('application/problem+json');
  }
  expect((await c.getHold(h.body.holdId, buyer)).body.status).toBe('HELD');
  const payments = new Payments(new PaymentStore(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, 3600), [], testLogger());
  expect(await payments.ofPurchase(purchaseIdOfHold(h.body.holdId)!)).toBeUndefined();
});
