import { problemOf } from '../../src/http/outcomes';
import { IdempotencyStore, type StoredResponse } from '../../src/purchase/idempotency';
import { newPurchaseId } from '../../src/purchase/ids';
import type { PurchaseFinder } from '../../src/purchase/lookup';
import type { TicketPurchased } from '../../src/purchase/record';
import { testConfig, uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/**
 * Review proof: the first attempt outlives the in-flight window (its marker says nothing was
 * reserved yet), a retry takes the key over and sells; then the first attempt ends (409, its
 * seats are now the retry's) and its `finally` overwrites the key unconditionally. Every later
 * retry replays 409 although the buyer's purchase was confirmed.
 */
const redis = testRedis();
const prefix = testConfig().REDIS_KEY_PREFIX;
const confirmed = new Map<string, TicketPurchased>();
const finder: PurchaseFinder = {
  find: async (id) => (confirmed.has(id) ? { status: 'CONFIRMED', record: confirmed.get(id)!, source: 'test' } : undefined),
};
const store = new IdempotencyStore(redis, prefix, 3600, finder, 1);
afterAll(async () => {
  await dropKeyPrefix(redis, prefix); // the key, the retry's claim and the fence of the first purchase id
  await redis.quit();
});

test('a late first attempt overwrites the answer of the retry that took the key over', async () => {
  const key = uid('k');
  const req = { route: 'purchases', seats: 1 };
  const replay = (p: TicketPurchased): StoredResponse => ({ status: 201, body: { purchaseId: p.purchaseId } });
  const ids = () => newPurchaseId('E', 'z');
  let releaseFirst!: () => void;
  const firstMayEnd = new Promise<void>((r) => (releaseFirst = r));
  const first = store
    .run(
      'u',
      key,
      req,
      ids,
      async () => {
        await firstMayEnd; // e.g. a catalog read (outside the purchase deadline) stalled on a reconnect
        throw problemOf({ kind: 'seats-taken', seats: [{ row: 'A', column: 1 }] }); // the retry holds the seat now
      },
      replay,
    )
    .catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 1100)); // past the (shortened) in-flight window
  const retry = await store.run('u', key, req, ids, async (pid) => ({ status: 201, body: { purchaseId: pid } }), replay);
  expect(retry.status).toBe(201);
  releaseFirst();
  await first;
  const again = await store
    .run(
      'u',
      key,
      req,
      ids,
      async () => {
        throw new Error('must replay');
      },
      replay,
    )
    .catch((e: unknown) => e);
  // Invariant 7: the retry must replay the 201 the buyer's purchase got.
  expect(again).toMatchObject({ status: 201 });
});
