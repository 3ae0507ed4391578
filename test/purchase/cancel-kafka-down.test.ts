import { CancelInventory } from '../../src/inventory/cancellations';
import { isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { topics } from '../../src/stream/kafka';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { readTopic } from '../support/kafka';
import { PrivateKafka } from '../support/private-kafka';
import { http, startTestPlatform } from '../support/platform';

/**
 * Kafka goes down (a private broker, SIGKILLed) while a buyer cancels: the cancel answers 503
 * and no seat is freed, since the TicketsCancelled is not acknowledged; the api stays ready.
 * Once Kafka is back, the recovery sweep produces the event and only then frees the seats.
 */
const layout = new ZoneLayout(['A'], [10]);
const eventId = uid('CxlKDown');
let kafka: PrivateKafka;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  kafka = await PrivateKafka.create();
  await kafka.start();
  platform = await startTestPlatform(['api'], {
    KAFKA_BROKERS: kafka.brokers,
    PURCHASE_TIMEOUT_MS: '1500',
    PENDING_RESEND_AFTER_MS: '500',
    SWEEP_INTERVAL_MS: '250',
  });
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A'], seatCounts: [10] }] }),
  );
}, 120000);

afterAll(async () => {
  await cleanup?.();
  await platform?.stop();
  await kafka?.destroy();
});

test('no seat is freed before its cancellation is acknowledged; the sweep finishes it once Kafka is back', async () => {
  const cancels = new CancelInventory(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  const seats = [
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
  ];
  const sold = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'k', zoneId: 'z', seats });
  expect(sold.status).toBe(201);
  const purchaseId = sold.body.purchaseId as string;
  const taken = async () => {
    const bits = (await platform.ctx.redis.getBuffer(cancels.keys(eventId, 'z').bits))!;
    return seats.map((s) => isTaken(bits, layout.locate(s.row, s.column)!.offset));
  };

  await kafka.kill();
  const cancel = () => http(platform.url, 'POST', `/api/v1/purchases/${purchaseId}/cancel`, { userId: 'k' });
  const first = await cancel();
  expect(first).toMatchObject({ status: 503, body: { code: 'DEPENDENCY_UNAVAILABLE', purchaseId } });
  expect(await taken()).toEqual([true, true]);
  // The buyer's intent is recorded: the cancellation is under way, to be finished by the sweep.
  expect((await cancels.state(eventId, 'z', purchaseId))?.cancel).toBe('cancelling');
  // A repeat while Kafka is still down (the sweep has tried meanwhile too) frees nothing either.
  const second = await cancel();
  expect(second).toMatchObject({ status: 503, body: { purchaseId } });
  expect(await taken()).toEqual([true, true]);
  expect((await http(platform.url, 'GET', '/readyz')).status).toBe(200);

  await kafka.start();
  await waitFor(
    async () => (await cancels.state(eventId, 'z', purchaseId))?.cancel === 'cancelled',
    'the sweep to finish the cancellation once Kafka is back',
    60000,
    250,
  );
  expect(await taken()).toEqual([false, false]);
  const values = await readTopic(platform.ctx.eventLog, topics(platform.cfg).tickets, (v) =>
    v.some((x) => x.includes('"TicketsCancelled"')),
  );
  expect(values.filter((x) => x.includes('"TicketsCancelled"')).map((x) => JSON.parse(x).purchaseId)).toContain(purchaseId);
  expect(await cancel()).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
}, 150000);
