import { problemOf } from '../../src/http/outcomes';
import { Inventory, isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { ConfirmCode, ReserveCode } from '../../src/commands/scripts';
import { IdempotencyStore, type StoredResponse } from '../../src/purchase/idempotency';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { PurchaseLookup, type PurchaseFinder } from '../../src/purchase/lookup';
import { SCHEMA_VERSION, type TicketPurchased } from '../../src/purchase/record';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/**
 * A retry that takes an Idempotency-Key over (its first attempt is past the in-flight window
 * and its purchase id sold nothing) fences the old purchase id before it runs afresh, on the
 * real Redis: a first attempt that reaches reserve.lua late holds nothing, and one that
 * reserved between the retry's lookup and the fence decides the retry's answer.
 */
const redis = testRedis();
const prefix = testConfig().REDIS_KEY_PREFIX;
const inventory = new Inventory(redis, prefix);
const lookup = new PurchaseLookup(inventory, [], 10);
const eventId = uid('Fence');
const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A'], seatCounts: [20] }] });
const layout = ZoneLayout.of(entry.venue.zones[0]!);
let cleanup: () => Promise<void>;
let column = 0;
/** The seats this file sold, as seat names: the zone's taken seats must be exactly these. */
const sold: string[] = [];

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, prefix, entry);
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(redis, prefix);
  await redis.quit();
});

const request = { route: 'purchases', seats: 1 };
const ids = () => newPurchaseId(eventId, 'z');
const replay = (p: TicketPurchased): StoredResponse => ({ status: 201, body: { purchaseId: p.purchaseId } });
const never = async (): Promise<StoredResponse> => {
  throw new Error('the retry must not run the purchase again');
};
const pastInFlightWindow = () => new Promise((r) => setTimeout(r, 1100)); // the store's window is 1 s

function recordOf(purchaseId: string, seatColumn: number): TicketPurchased {
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: entry.venue.venueId,
    zoneId: 'z',
    userId: 'u',
    tickets: [{ ticketId: ticketIdOf(purchaseId, 1), row: 'A', column: seatColumn, priceCents: 5000 }],
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
}

/** What reserve.lua answers for this purchase id and seat (the engine's first step). */
const reserve = (purchaseId: string, seatColumn: number) =>
  inventory.reserve(eventId, 'z', layout, purchaseId, [layout.locate('A', seatColumn)!], JSON.stringify(recordOf(purchaseId, seatColumn)));

/** The taken seats of the zone, as seat names. */
async function takenSeats(): Promise<string[]> {
  const st = await inventory.zoneState(eventId, 'z');
  return [...Array(layout.capacity).keys()]
    .filter((k) => isTaken(st!.bits, k))
    .map((k) => `${layout.seatAt(k).row}${layout.seatAt(k).column}`);
}

test('a first attempt that reaches reserve.lua after the retry took its key over holds nothing', async () => {
  const key = uid('key');
  const seat = ++column;
  let firstId = '';
  let release!: () => void;
  const stalled = new Promise<void>((r) => (release = r));
  let lateReserve: ReserveCode | undefined;
  // The first attempt stalls before reserving (e.g. a catalog read stuck on a reconnect).
  const first = new IdempotencyStore(redis, prefix, 3600, lookup, 1)
    .run(
      'u',
      key,
      request,
      ids,
      async (purchaseId) => {
        firstId = purchaseId;
        await stalled;
        lateReserve = (await reserve(purchaseId, seat)).code;
        throw problemOf({ kind: 'duplicate-seat', seats: [] }); // as the engine answers reserve.lua DUPLICATE
      },
      replay,
    )
    .catch((e: unknown) => e);
  await pastInFlightWindow();
  // The retry finds nothing under the first id and runs afresh; it sells nothing either
  // (the event log is down before anything is reserved): "nothing was sold".
  const store = new IdempotencyStore(redis, prefix, 3600, lookup, 1);
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

  release();
  await first;
  // The buyer was told "nothing was sold": the late first attempt must not sell the seat.
  expect(lateReserve).toBe(ReserveCode.DUPLICATE);
  expect(await takenSeats()).toEqual(sold);
  expect(await redis.zscore(inventory.keys(eventId, 'z').pending, firstId)).toBeNull();
  // The fence is a final record that sold nothing: not found, never confirmed, and it expires.
  expect(await lookup.find(firstId)).toBeUndefined();
  expect(await inventory.confirm(eventId, 'z', firstId)).toBe(ConfirmCode.FENCED);
  expect(await redis.hget(inventory.keys(eventId, 'z').purchase(firstId), 'status')).toBe('fenced');
  expect(await redis.ttl(inventory.keys(eventId, 'z').purchase(firstId))).toBeGreaterThan(0);
  // The lookup does not ask the writer about a fenced id: it sold nothing.
  const asksWriter = new PurchaseLookup(inventory, [], 10, async () => {
    throw new Error('the writer must not be asked about a fenced purchase id');
  });
  expect(await asksWriter.find(firstId)).toBeUndefined();
  // The seat is free, and the key runs afresh (its late first attempt stored nothing).
  expect(
    await store.run(
      'u',
      key,
      request,
      ids,
      async (pid) =>
        (await reserve(pid, seat)).code === ReserveCode.OK ? { status: 201, body: { purchaseId: pid } } : { status: 409, body: {} },
      replay,
    ),
  ).toMatchObject({ status: 201 });
  sold.push(`A${seat}`);
  expect(await takenSeats()).toEqual(sold);
});

test("a first attempt that reserved between the retry's lookup and the fence decides the retry: no fresh run", async () => {
  const key = uid('key');
  const seat = ++column;
  let firstId = '';
  let reservedLate = false;
  // The first attempt "dies" (no answer ever) before reserving...
  void new IdempotencyStore(redis, prefix, 3600, lookup, 1).run(
    'u',
    key,
    request,
    ids,
    async (purchaseId) => {
      firstId = purchaseId;
      return new Promise<StoredResponse>(() => undefined);
    },
    replay,
  );
  await pastInFlightWindow();
  // ...and its reservation lands right after the retry looked it up and found nothing.
  const racing: PurchaseFinder = {
    async find(purchaseId) {
      const found = await lookup.find(purchaseId);
      if (!reservedLate && purchaseId === firstId) {
        reservedLate = true;
        expect((await reserve(firstId, seat)).code).toBe(ReserveCode.OK);
      }
      return found;
    },
  };
  const store = new IdempotencyStore(redis, prefix, 3600, racing, 1);
  await expect(store.run('u', key, request, ids, never, replay)).rejects.toMatchObject({
    status: 503,
    code: 'PURCHASE_OUTCOME_UNKNOWN',
    extra: { purchaseId: firstId },
  });
  expect(reservedLate).toBe(true);
  // The reservation stands (never fenced over) and its confirmation is what the key replays.
  expect(await redis.hget(inventory.keys(eventId, 'z').purchase(firstId), 'status')).toBe('reserved');
  await inventory.confirm(eventId, 'z', firstId);
  expect(await store.run('u', key, request, ids, never, replay)).toEqual(replay(recordOf(firstId, seat)));
  sold.push(`A${seat}`);
  expect(await takenSeats()).toEqual(sold);
});
