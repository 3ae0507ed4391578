import { purchaseIdOfHold } from '../../src/checkout/checkout';
import { Holds } from '../../src/inventory/holds';
import { Inventory } from '../../src/inventory/inventory';
import { PaymentStore } from '../../src/payment/store';
import type { TicketPurchased } from '../../src/purchase/record';
import { createEventLog, topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, testLogger, uid } from '../support/env';
import { readTopic } from '../support/kafka';
import { dropKeyPrefix, testRedis } from '../support/platform';
import { spawnRole, waitReady, type RoleProcess } from '../support/process';
import { checkoutClient } from './support';

/**
 * A crash between a hold's payment and the Kafka acknowledgement (issue 13, "Crashes"): a
 * separate api process is SIGKILLed right after the charge (FAULT_CRASH_AFTER_CHARGE) or right
 * after convert.lua (FAULT_CRASH_AFTER_HOLD_CONVERT), before Kafka acknowledged. After a restart
 * the checkout recovery and the purchases' recovery sweep finish both sales: the purchases read
 * CONFIRMED, every paid seat has exactly one ticket in Kafka, and nothing was charged twice.
 */
const redis = testRedis();
const cfg = testConfig();
const prefix = cfg.REDIS_KEY_PREFIX;
const inventory = new Inventory(redis, prefix);
const holds = new Holds(redis, prefix);
const payments = new PaymentStore(redis, prefix, 3600);
const eventId = uid('CoCrash');
const topicPrefix = uid('cocrash.');
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, prefix, testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10] }] }));
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(redis, prefix);
  await redis.quit();
});

const env = { KAFKA_TOPIC_PREFIX: topicPrefix, REDIS_KEY_PREFIX: prefix, PENDING_RESEND_AFTER_MS: '300', SWEEP_INTERVAL_MS: '200' };

/** Holds `seats` on a fresh api with `hook` set, pays with tok_visa, and sees the process die before answering. */
async function payAndCrash(hook: string, seats: { row: string; column: number }[]): Promise<{ holdId: string; purchaseId: string }> {
  const doomed: RoleProcess = await spawnRole('api', { ...env, [hook]: 'true' });
  await waitReady(doomed);
  const c = checkoutClient(doomed.url, eventId);
  const h = await c.hold({ zoneId: 'z', seats, userId: 'zed' });
  expect(h.status).toBe(201);
  const paid = await c.pay(h.body.holdId, 'tok_visa', { user: 'zed' }).catch((err: Error) => err);
  expect(paid).toMatchObject({ message: 'fetch failed' }); // the buyer heard nothing at all
  expect((await doomed.exited).signal).toBe('SIGKILL');
  return { holdId: h.body.holdId, purchaseId: purchaseIdOfHold(h.body.holdId)! };
}

test('a paid hold whose api died before the Kafka acknowledgement is confirmed after the restart, exactly once', async () => {
  // Killed after convert.lua: the purchase is RESERVED, the hold PURCHASED, nothing in Kafka from this process.
  const converted = await payAndCrash('FAULT_CRASH_AFTER_HOLD_CONVERT', [
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
  ]);
  expect((await holds.get(converted.holdId))?.status).toBe('purchased');
  // Killed after the charge: paid, but the hold is still HELD and there is no purchase yet.
  const charged = await payAndCrash('FAULT_CRASH_AFTER_CHARGE', [{ row: 'B', column: 5 }]);
  expect((await holds.get(charged.holdId))?.status).toBe('held');
  expect(await inventory.getPurchase(eventId, 'z', charged.purchaseId)).toBeUndefined();
  const chargedPayment = await payments.ofPurchase(charged.purchaseId);
  expect(chargedPayment?.status).toBe('SUCCEEDED');

  const survivor = await spawnRole('api', env);
  try {
    await waitReady(survivor);
    const c = checkoutClient(survivor.url, eventId);
    for (const { purchaseId } of [converted, charged]) await c.purchaseReads(purchaseId, 'CONFIRMED');
    expect((await holds.get(charged.holdId))?.status).toBe('purchased');
  } finally {
    survivor.child.kill('SIGTERM');
    await survivor.exited;
  }

  const eventLog = createEventLog({ KAFKA_BROKERS: cfg.KAFKA_BROKERS, KAFKA_CLIENT_ID: 'checkout-crash-test' }, testLogger());
  const values = await readTopic(eventLog, topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets, (v) => {
    const ids = new Set(v.map((x) => (JSON.parse(x) as TicketPurchased).purchaseId));
    return ids.has(converted.purchaseId) && ids.has(charged.purchaseId);
  }).finally(() => eventLog.close());
  const ticketsBySeat = new Map<string, Set<string>>();
  for (const v of values) {
    for (const t of (JSON.parse(v) as TicketPurchased).tickets)
      ticketsBySeat.set(`${t.row}${t.column}`, (ticketsBySeat.get(`${t.row}${t.column}`) ?? new Set()).add(t.ticketId));
  }
  expect([...ticketsBySeat.keys()].sort()).toEqual(['A1', 'A2', 'B5']);
  for (const ids of ticketsBySeat.values()) expect(ids.size).toBe(1);
  // One payment each, never a second charge.
  expect((await payments.ofPurchase(charged.purchaseId))?.paymentId).toBe(chargedPayment?.paymentId);
  expect((await inventory.zoneState(eventId, 'z'))!.available).toBe(17);
  expect(await inventory.pendingCount(eventId, 'z')).toBe(0);
});
