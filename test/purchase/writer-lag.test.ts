import { idempotencyKey } from '../../src/inventory/keys';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { testStores } from '../cqrs/support';

/**
 * "Found nowhere" is "nothing sold" only once the writer has stored the event log. Here Redis
 * lost a confirmed purchase's record (a restore from an older AOF) while the writer has not
 * stored the record yet (it is not running): the purchase is in the log, so GET answers that
 * its outcome is unknown (not 404) and an Idempotency-Key retry answers 503 with the same
 * purchase id (not a fresh run); once the writer stored it, both answer the sale.
 */
const eventId = uid('Lag');
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10], priceCents: 3100 }] });
let api: Awaited<ReturnType<typeof startTestPlatform>>;
let writer: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
let stores: ReturnType<typeof testStores>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  api = await startTestPlatform(['api'], { PENDING_RESEND_AFTER_MS: '3600000' });
  stores = testStores(api.cfg);
  cleanup = await seedTestEvent(api.ctx.redis, api.cfg.REDIS_KEY_PREFIX, entry);
});

afterAll(async () => {
  await stores?.writeModel.dropEvent(eventId).catch(() => undefined);
  await cleanup?.();
  await stores?.closeAll();
  await writer?.stop();
  await api?.stop();
});

test('while the writer lags, a purchase Redis lost is unknown (503 with its id), never 404 or a fresh run', async () => {
  const key = uid('key');
  const seats = [
    { row: 'A', column: 4 },
    { row: 'B', column: 4 },
  ];
  const buy = () =>
    http(api.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'lagging', zoneId: 'z', seats }, { 'idempotency-key': key });
  const first = await buy();
  expect(first.status).toBe(201);
  const purchaseId = first.body.purchaseId as string;

  // As if the first attempt had ended 503 PURCHASE_OUTCOME_UNKNOWN (the acknowledgement came
  // after the deadline): the key keeps the purchase id, not the answer.
  const marker = idempotencyKey(api.cfg.REDIS_KEY_PREFIX, 'lagging', key);
  const done = JSON.parse((await api.ctx.redis.get(marker))!) as { fingerprint: string };
  await api.ctx.redis.set(marker, JSON.stringify({ state: 'pending', fingerprint: done.fingerprint, purchaseId }), 'EX', 3600);
  // Redis lost the purchase record; the seats stay taken (the bitmap is not what was lost).
  expect(await api.ctx.redis.del(stores.inventory.keys(eventId, 'z').purchase(purchaseId))).toBe(1);

  const read = await http(api.url, 'GET', `/api/v1/purchases/${purchaseId}`);
  expect(read).toMatchObject({ status: 503, body: { code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId } });
  expect(read.contentType).toContain('application/problem+json');
  const retry = await buy();
  expect(retry).toMatchObject({ status: 503, body: { code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId } });

  // The writer starts and stores the log: the purchase is read from DynamoDB, whole.
  writer = await startTestPlatform(['writer'], {
    KAFKA_TOPIC_PREFIX: api.cfg.KAFKA_TOPIC_PREFIX,
    REDIS_KEY_PREFIX: api.cfg.REDIS_KEY_PREFIX,
  });
  const stored = await waitFor(
    async () => {
      const r = await http(api.url, 'GET', `/api/v1/purchases/${purchaseId}`);
      if (r.status === 503) expect(r.body).toMatchObject({ code: 'PURCHASE_OUTCOME_UNKNOWN', purchaseId });
      return r.status === 503 ? undefined : r;
    },
    'the writer to store the purchase',
    60000,
    250,
  );
  expect(stored).toMatchObject({ status: 200, body: { purchaseId, status: 'CONFIRMED', userId: 'lagging' } });
  expect(stored.body.tickets.map((t: { ticketId: string; row: string; column: number }) => [t.ticketId, `${t.row}${t.column}`])).toEqual([
    [`${purchaseId}.1`, 'A4'],
    [`${purchaseId}.2`, 'B4'],
  ]);
  // The retry replays the original 201.
  expect(await buy()).toEqual(first);
}, 120000);
