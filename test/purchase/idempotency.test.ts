import { problemOf } from '../../src/http/outcomes';
import { Inventory } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { IdempotencyStore, type StoredResponse } from '../../src/purchase/idempotency';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { PurchaseLookup } from '../../src/purchase/lookup';
import { SCHEMA_VERSION, type TicketPurchased } from '../../src/purchase/record';
import { ApiError } from '../../src/shared/errors';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, uid, waitFor } from '../support/env';
import { testRedis } from '../support/platform';

/**
 * The Idempotency-Key rules after a 503 PURCHASE_OUTCOME_UNKNOWN, on the real Redis: the key
 * keeps the purchase id, and a retry answers from what became of that purchase.
 */
const redis = testRedis();
const prefix = testConfig().REDIS_KEY_PREFIX;
const inventory = new Inventory(redis, prefix);
const lookup = new PurchaseLookup(inventory, [], 10);
const store = new IdempotencyStore(redis, prefix, 3600, lookup);
const eventId = uid('Idem');
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A'], seatCounts: [20] }] });
const layout = ZoneLayout.of(entry.venue.zones[0]!);
let cleanup: () => Promise<void>;
let column = 0;

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, prefix, entry);
});
afterAll(async () => {
  await cleanup();
  await redis.quit();
});

const request = { route: 'purchases', seats: 1 };
const replay = (p: TicketPurchased): StoredResponse => ({ status: 201, body: { purchaseId: p.purchaseId, tickets: p.tickets } });
const unknown = (purchaseId: string) => new ApiError('PURCHASE_OUTCOME_UNKNOWN', 'Kafka did not acknowledge in time', { purchaseId });
const ids = () => newPurchaseId(eventId, 'z');
const sold = (purchaseId: string): StoredResponse => ({ status: 201, body: { purchaseId, fresh: true } });

/** A purchase reserved in Redis (its record never sent), as the engine leaves it on a 503. */
async function reserved(): Promise<TicketPurchased> {
  const purchaseId = newPurchaseId(eventId, 'z');
  const seat = { row: 'A', column: ++column };
  const record: TicketPurchased = {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: entry.venue.venueId,
    zoneId: 'z',
    userId: 'u',
    tickets: [{ ticketId: ticketIdOf(purchaseId, 1), ...seat, priceCents: 5000 }],
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
  expect(
    (await inventory.reserve(eventId, 'z', layout, purchaseId, [layout.locate(seat.row, seat.column)!], JSON.stringify(record))).code,
  ).toBe(0);
  return record;
}

/** Runs a first attempt that ends 503 with the purchase id; returns the key. */
async function unknownOutcome(purchaseId: string): Promise<string> {
  const key = uid('key');
  await expect(
    store.run(
      'u',
      key,
      request,
      ids,
      async () => {
        throw unknown(purchaseId);
      },
      replay,
    ),
  ).rejects.toMatchObject({ code: 'PURCHASE_OUTCOME_UNKNOWN' });
  return key;
}

const never = async (): Promise<StoredResponse> => {
  throw new Error('the retry must not run the purchase again');
};

test('while the purchase is reserved, a retry answers 503 with the same purchaseId and runs nothing', async () => {
  const p = await reserved();
  const key = await unknownOutcome(p.purchaseId);
  await expect(store.run('u', key, request, ids, never, replay)).rejects.toMatchObject({
    status: 503,
    code: 'PURCHASE_OUTCOME_UNKNOWN',
    extra: { purchaseId: p.purchaseId },
  });
});

test('once confirmed, a retry replays the 201 built from the record, and keeps it', async () => {
  const p = await reserved();
  const key = await unknownOutcome(p.purchaseId);
  await inventory.confirm(eventId, 'z', p.purchaseId);
  expect(await store.run('u', key, request, ids, never, replay)).toEqual(replay(p));
  await redis.del(inventory.keys(eventId, 'z').purchase(p.purchaseId)); // the stored answer no longer needs the record
  expect(await store.run('u', key, request, ids, never, replay)).toEqual(replay(p));
});

test('a purchase that never existed, or was voided by an older version, sold nothing: the retry runs afresh', async () => {
  const ghost = newPurchaseId(eventId, 'z');
  const key = await unknownOutcome(ghost);
  expect(await store.run('u', key, request, ids, async () => sold('second'), replay)).toEqual(sold('second'));
  expect(await store.run('u', key, request, ids, never, replay)).toEqual(sold('second'));

  const p = await reserved();
  const voidedKey = await unknownOutcome(p.purchaseId);
  await redis.hset(inventory.keys(eventId, 'z').purchase(p.purchaseId), 'status', 'voided');
  expect(await store.run('u', voidedKey, request, ids, async () => sold('third'), replay)).toEqual(sold('third'));
});

test('two retries at once of a purchase that sold nothing: one runs afresh, the other is told it is in flight', async () => {
  const key = await unknownOutcome(newPurchaseId(eventId, 'z'));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let runs = 0;
  const slow = async () => {
    runs++;
    await gate;
    return sold('once');
  };
  const settled = [store.run('u', key, request, ids, slow, replay), store.run('u', key, request, ids, slow, replay)].map((p) =>
    p.then(
      (value) => ({ value }),
      (error: ApiError) => ({ error }),
    ),
  );
  // The loser answers while the winner is still running.
  const loser = await Promise.race(settled);
  expect(loser).toMatchObject({ error: { code: 'IDEMPOTENCY_IN_FLIGHT' } });
  release();
  const both = await Promise.all(settled);
  expect(both.filter((r) => 'value' in r)).toEqual([{ value: sold('once') }]);
  expect(runs).toBe(1);
});

test('a 503 without a purchase id (nothing reserved) stores nothing: the retry runs', async () => {
  const key = uid('key');
  await expect(
    store.run(
      'u',
      key,
      request,
      ids,
      async () => {
        throw problemOf({ kind: 'log-unavailable' });
      },
      replay,
    ),
  ).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  expect(await redis.exists(`${prefix}idem:{u}:${key}`)).toBe(0);
  expect(await store.run('u', key, request, ids, async () => sold('after'), replay)).toEqual(sold('after'));
});

test('a retry of an unknown outcome with another body is refused (422)', async () => {
  const p = await reserved();
  const key = await unknownOutcome(p.purchaseId);
  await expect(store.run('u', key, { ...request, seats: 2 }, ids, never, replay)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
});

describe('an attempt whose process died mid-purchase (no answer at all)', () => {
  // A short in-flight window stands in for the minute after which a silent attempt is taken as dead.
  const quick = new IdempotencyStore(redis, prefix, 3600, lookup, 2);
  const hangs = (work: (purchaseId: string) => Promise<unknown>) => (purchaseId: string) =>
    work(purchaseId).then(() => new Promise<StoredResponse>(() => undefined));

  /** Retries with the same key until the answer is no longer 409 IDEMPOTENCY_IN_FLIGHT. */
  const retryUntilSettled = (key: string, handler: (id: string) => Promise<StoredResponse>) =>
    waitFor(
      async () => {
        const answer = await quick.run('u', key, request, ids, handler, replay).then(
          (value) => ({ value }),
          (error: ApiError) => ({ error }),
        );
        return 'error' in answer && answer.error.code === 'IDEMPOTENCY_IN_FLIGHT' ? undefined : answer;
      },
      'the retry settled',
      10_000,
      100,
    );

  test('its reservation, confirmed later by the sweep, is what the retry replays (never a fresh run)', async () => {
    const key = uid('key');
    const seat = { row: 'A', column: ++column };
    let record: TicketPurchased | undefined;
    // The first attempt reserves under the id the key chose, then its process "dies": no answer ever.
    void quick.run(
      'u',
      key,
      request,
      ids,
      hangs(async (purchaseId) => {
        record = {
          schemaVersion: SCHEMA_VERSION,
          type: 'TicketPurchased',
          purchaseId,
          eventId,
          venueId: entry.venue.venueId,
          zoneId: 'z',
          userId: 'u',
          tickets: [{ ticketId: ticketIdOf(purchaseId, 1), ...seat, priceCents: 5000 }],
          currency: 'USD',
          createdOn: new Date().toISOString(),
        };
        await inventory.reserve(eventId, 'z', layout, purchaseId, [layout.locate(seat.row, seat.column)!], JSON.stringify(record));
      }),
      replay,
    );
    await waitFor(() => record, 'the first attempt reserved');
    // While it may still be running, a repeat is told it is in flight; once overdue, 503 with
    // that purchase id; once the sweep confirms it, the 201.
    await expect(quick.run('u', key, request, ids, never, replay)).rejects.toMatchObject({ status: 409, code: 'IDEMPOTENCY_IN_FLIGHT' });
    expect(await retryUntilSettled(key, never)).toMatchObject({
      error: { status: 503, code: 'PURCHASE_OUTCOME_UNKNOWN', extra: { purchaseId: record!.purchaseId } },
    });
    await inventory.confirm(eventId, 'z', record!.purchaseId);
    expect(await quick.run('u', key, request, ids, never, replay)).toEqual(replay(record!));
  });

  test('an attempt that died before reserving sold nothing: after the in-flight window the retry runs afresh', async () => {
    const key = uid('key');
    void quick.run(
      'u',
      key,
      request,
      ids,
      hangs(async () => undefined),
      replay,
    );
    expect(await retryUntilSettled(key, async () => sold('fresh'))).toEqual({ value: sold('fresh') });
    expect(await quick.run('u', key, request, ids, never, replay)).toEqual(sold('fresh'));
  });
});
