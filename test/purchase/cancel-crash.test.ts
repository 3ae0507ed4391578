import type { TicketsCancelled } from '../../src/events/tickets-cancelled';
import { CancelInventory } from '../../src/inventory/cancellations';
import { Inventory, isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { createEventLog, topics } from '../../src/stream/kafka';
import type { LogRecord } from '../../src/stream/event-log';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, testLogger, uid, waitFor } from '../support/env';
import { readRecords } from '../support/kafka';
import { http, testRedis } from '../support/platform';
import { spawnRole, waitReady } from '../support/process';

/**
 * A separate api process is SIGKILLed after Kafka acknowledged a TicketsCancelled and before
 * its seats were freed (fault hook FAULT_CRASH_AFTER_CANCEL_EVENT, test-only). The seats stay
 * taken while the event is already in the log; a restarted api's recovery sweep finishes the
 * cancellation (the same event again, then the release), and the seats sell again.
 */
const redis = testRedis();
const cfg = testConfig();
const inventory = new Inventory(redis, cfg.REDIS_KEY_PREFIX);
const cancels = new CancelInventory(redis, cfg.REDIS_KEY_PREFIX);
const eventId = uid('CxlCrash');
const prefix = uid('cxlcrash.');
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10] }] });
const layout = ZoneLayout.of(entry.venue.zones[0]!);
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, cfg.REDIS_KEY_PREFIX, entry);
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
const seats = [
  { row: 'A', column: 3 },
  { row: 'B', column: 7 },
];
const takenNow = async () => {
  const st = (await inventory.zoneState(eventId, 'z'))!;
  return seats.map((s) => isTaken(st.bits, layout.locate(s.row, s.column)!.offset));
};
const typeOf = (r: LogRecord) => (JSON.parse(r.value?.toString() ?? '{}') as { type?: string }).type;

test('a cancel interrupted by SIGKILL between its acknowledged event and the release is finished by the sweep; the seats sell again', async () => {
  const doomed = await spawnRole('api', { ...env, FAULT_CRASH_AFTER_CANCEL_EVENT: 'true' });
  await waitReady(doomed);
  const sold = await http(doomed.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'crash', zoneId: 'z', seats });
  expect(sold.status).toBe(201);
  const purchaseId = sold.body.purchaseId as string;

  const res = await fetch(`${doomed.url}/api/v1/purchases/${purchaseId}/cancel`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'crash' }),
  }).catch((err: Error) => err);
  expect(res).toMatchObject({ message: 'fetch failed' }); // the buyer got no answer at all
  expect((await doomed.exited).signal).toBe('SIGKILL');

  // Durability first: the event is in the log while the seats are still taken.
  const eventLog = createEventLog({ KAFKA_BROKERS: cfg.KAFKA_BROKERS, KAFKA_CLIENT_ID: 'cancel-crash-test' }, testLogger());
  const topic = topics({ KAFKA_TOPIC_PREFIX: prefix }).tickets;
  try {
    const before = await readRecords(eventLog, topic, (rs) => rs.some((r) => typeOf(r) === 'TicketsCancelled'));
    const event = JSON.parse(before.find((r) => typeOf(r) === 'TicketsCancelled')!.value!.toString()) as TicketsCancelled;
    expect(event).toMatchObject({
      purchaseId,
      eventId,
      zoneId: 'z',
      userId: 'crash',
      tickets: sold.body.tickets.map((t: { ticketId: string; row: string; column: number }) =>
        expect.objectContaining({ ticketId: t.ticketId, row: t.row, column: t.column }),
      ),
    });
    expect(await takenNow()).toEqual([true, true]);
    expect((await cancels.state(eventId, 'z', purchaseId))?.cancel).toBe('cancelling');

    const survivor = await spawnRole('api', env);
    try {
      await waitReady(survivor);
      await waitFor(
        async () => (await cancels.state(eventId, 'z', purchaseId))?.cancel === 'cancelled',
        'the sweep to finish the cancellation',
      );
      expect(await takenNow()).toEqual([false, false]);
      const st = (await inventory.zoneState(eventId, 'z'))!;
      expect(st.available).toBe(layout.capacity - (await redis.bitcount(inventory.keys(eventId, 'z').bits)));
      expect(st.available).toBe(layout.capacity);
      expect(await cancels.cancellingIds(eventId, 'z')).toEqual([]);

      // The buyer's repeat hears the outcome, with the event's own cancellation time.
      const again = await http(survivor.url, 'POST', `/api/v1/purchases/${purchaseId}/cancel`, { userId: 'crash' });
      expect(again).toMatchObject({ status: 200, body: { status: 'CANCELLED', cancelledAt: event.cancelledAt } });
      const resale = await http(survivor.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
        userId: 'next',
        zoneId: 'z',
        seats: [seats[0]],
      });
      expect(resale.status).toBe(201);
      expect(resale.body.tickets[0].ticketId).not.toBe(sold.body.tickets[0].ticketId);

      // In the log: the sale, its cancellation (re-produced by the sweep: the same event), then the resale.
      const after = await readRecords(eventLog, topic, (rs) => rs.some((r) => r.value?.toString().includes(resale.body.purchaseId)));
      const cancellations = after.filter((r) => typeOf(r) === 'TicketsCancelled');
      expect(cancellations.length).toBeGreaterThanOrEqual(2);
      for (const c of cancellations) expect(JSON.parse(c.value!.toString())).toEqual(event);
      const offsetOf = (pred: (r: LogRecord) => boolean) => after.find(pred)!.offset;
      expect(offsetOf((r) => typeOf(r) === 'TicketsCancelled')).toBeLessThan(
        offsetOf((r) => r.value!.toString().includes(resale.body.purchaseId)),
      );
    } finally {
      survivor.child.kill('SIGTERM');
      await survivor.exited;
    }
  } finally {
    await eventLog.close();
  }
});
