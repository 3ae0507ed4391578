import { purchaseIdOfHold } from '../../src/checkout/checkout';
import { checkoutKeys, openCheckoutsKey } from '../../src/checkout/checkout-store';
import { zoneKeys } from '../../src/inventory/keys';
import { PaymentStore } from '../../src/payment/store';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, uid, waitFor } from '../support/env';
import { dropKeyPrefix, startTestPlatform, testRedis } from '../support/platform';
import { dynamoSeats, seatKey, testStores } from '../cqrs/support';
import { checkoutClient } from './support';

/**
 * A paid hold whose Redis state was lost after the sale (issue 14, the re-mark's known gap 3):
 * an AOF loss or a failover rolls the checkout back to `paid` and loses the converted hold and
 * its purchase record, while Kafka, and so DynamoDB, hold the sale. The recovery pass re-runs
 * convert.lua, which finds the seats taken and says "refund". The checkout began on another
 * node history (its `zoneReplid`), so the stores decide first: the sale stands and nothing is
 * refunded. The lost writes are simulated on the platform's own keys.
 */
const cfg = testConfig();
const prefix = cfg.REDIS_KEY_PREFIX;
const redis = testRedis();
const payments = new PaymentStore(redis, prefix, 3600);
const eventId = uid('CoHist');
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, prefix, testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A'], seatCounts: [6] }] }));
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(redis, prefix);
  await redis.quit();
});

test('after Redis forgot a paid hold’s sale, the recovery keeps the sale the stores hold instead of refunding it', async () => {
  const platform = await startTestPlatform(['writer', 'api'], {
    REDIS_KEY_PREFIX: prefix,
    KAFKA_TOPIC_PREFIX: uid('cohist.'),
    PENDING_RESEND_AFTER_MS: '300',
    SWEEP_INTERVAL_MS: '200',
  });
  const stores = testStores(platform.cfg);
  try {
    const c = checkoutClient(platform.url, eventId);
    const h = await c.hold({ zoneId: 'z', seats: [{ row: 'A', column: 1 }], userId: 'hal' });
    expect(h.status).toBe(201);
    const paid = await c.pay(h.body.holdId, 'tok_visa', { user: 'hal' });
    expect(paid.status).toBe(201);
    const purchaseId = purchaseIdOfHold(h.body.holdId)!;
    const ticketId = paid.body.tickets[0].ticketId as string;
    await waitFor(
      async () => (await dynamoSeats(stores, eventId, ['z'])).get(seatKey('z', 'A', 1)) === ticketId,
      'DynamoDB to hold the sale',
    );

    // The loss: the checkout is back at `paid` (begun on a node history that is gone), due for
    // the recovery pass; the hold and the purchase record are gone; the seat's bit survived.
    const k = zoneKeys(prefix, eventId, 'z');
    const record = checkoutKeys(prefix, purchaseId).record;
    // The checkout recorded the zone node's replication id when it began.
    expect(await redis.hget(record, 'zoneReplid')).toMatch(/^[0-9a-f]{40}$/);
    await redis.hset(record, 'state', 'paid', 'zoneReplid', 'a-history-this-node-does-not-have');
    await redis.unlink(k.hold(h.body.holdId as string), k.purchase(purchaseId));
    await redis.zrem(k.pending, purchaseId);
    await redis.zadd(openCheckoutsKey(prefix), Date.now(), purchaseId);

    const state = await waitFor(
      async () => ((s) => (s === 'converted' || s === 'refunded' ? s : undefined))(await redis.hget(record, 'state')),
      'the recovery pass to finish the checkout',
      30_000,
      100,
    );
    expect(state).toBe('converted');
    expect((await payments.ofPurchase(purchaseId))?.status).toBe('SUCCEEDED');
    expect((await c.purchase(purchaseId, { user: 'hal' })).body).toMatchObject({ status: 'CONFIRMED' });
  } finally {
    await platform.stop();
    await stores.closeAll();
  }
}, 120_000);
