import type { TicketPurchased } from '../../src/purchase/record';
import { Inventory } from '../../src/inventory/inventory';
import { createEventLog, topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, testLogger, uid, waitFor } from '../support/env';
import { readTopic } from '../support/kafka';
import { testRedis } from '../support/platform';
import { spawnRole, waitReady } from '../support/process';

/**
 * A separate api process is SIGKILLed between the Lua reservation and the Kafka
 * acknowledgement (fault hook FAULT_CRASH_AFTER_RESERVE, test-only). After a restart, the
 * recovery sweep must re-send the pending record: every taken seat then has exactly one
 * ticket in Kafka and no pending record remains.
 */
const redis = testRedis();
const cfg = testConfig();
const inventory = new Inventory(redis, cfg.REDIS_KEY_PREFIX);
const eventId = uid('Crash');
const prefix = uid('crash.');
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = await seedTestEvent(
    redis,
    cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10] }] }),
  );
});
afterAll(async () => {
  await cleanup();
  await redis.quit();
});

const env = {
  KAFKA_TOPIC_PREFIX: prefix,
  REDIS_KEY_PREFIX: cfg.REDIS_KEY_PREFIX,
  PENDING_RESEND_AFTER_MS: '300',
  SWEEP_INTERVAL_MS: '200',
};

test('a purchase interrupted by SIGKILL after the reservation is completed by the sweep, exactly once', async () => {
  const crashed: string[] = [];
  const seatsOf = [
    [{ row: 'A', column: 1 }],
    [
      { row: 'B', column: 4 },
      { row: 'B', column: 5 },
    ],
  ];
  for (const seats of seatsOf) {
    const doomed = await spawnRole('api', { ...env, FAULT_CRASH_AFTER_RESERVE: 'true' });
    await waitReady(doomed);
    const res = await fetch(`${doomed.url}/api/v1/events/${eventId}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'crash', zoneId: 'z', seats }),
    }).catch((err: Error) => err);
    expect(res).toMatchObject({ message: 'fetch failed' }); // the buyer got no answer at all
    expect((await doomed.exited).signal).toBe('SIGKILL');
    crashed.push(...seats.map((s) => `${s.row}-${s.column}`));
  }
  // The seats are held, each by a purchase record that is still pending, unless the second
  // process's own sweep already re-sent the first one before it too was killed.
  expect(await inventory.pendingCount(eventId, 'z')).toBeGreaterThanOrEqual(1);
  const st = (await inventory.zoneState(eventId, 'z'))!;
  expect(st.available).toBe(17);

  const survivor = await spawnRole('api', env);
  try {
    await waitReady(survivor);
    await waitFor(async () => (await inventory.pendingCount(eventId, 'z')) === 0, 'the sweep to confirm the pending purchases');
  } finally {
    survivor.child.kill('SIGTERM');
    await survivor.exited;
  }

  const eventLog = createEventLog({ KAFKA_BROKERS: cfg.KAFKA_BROKERS, KAFKA_CLIENT_ID: 'crash-test' }, testLogger());
  const values = await readTopic(eventLog, topics({ KAFKA_TOPIC_PREFIX: prefix }).tickets, (v) => v.length >= 2).finally(() =>
    eventLog.close(),
  );
  const ticketsBySeat = new Map<string, Set<string>>();
  for (const v of values) {
    const p = JSON.parse(v) as TicketPurchased;
    for (const t of p.tickets) {
      const key = `${t.row}-${t.column}`;
      ticketsBySeat.set(key, (ticketsBySeat.get(key) ?? new Set()).add(t.ticketId));
    }
  }
  expect([...ticketsBySeat.keys()].sort()).toEqual(crashed.sort());
  for (const ids of ticketsBySeat.values()) expect(ids.size).toBe(1);
  // The purchase records are confirmed, and their ticket ids are the ones in Kafka.
  for (const v of values) {
    const p = JSON.parse(v) as TicketPurchased;
    expect((await inventory.getPurchase(eventId, 'z', p.purchaseId))?.status).toBe('confirmed');
  }
  expect((await inventory.zoneState(eventId, 'z'))!.available).toBe(17);
});
