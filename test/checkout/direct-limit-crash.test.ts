import { BuyerAllowance } from '../../src/inventory/allowance';
import { Holds } from '../../src/inventory/holds';
import { Inventory, isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { ReserveCode } from '../../src/commands/scripts';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, uid } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform, testRedis } from '../support/platform';
import { spawnRole, waitReady } from '../support/process';
import { TestClock } from '../inventory/holds-support';

/**
 * A crash between the buyer-limit step and the zone step on the direct route (issue 13,
 * "Crashes"; docs/purchase-state-machine.md, "Per-buyer limit"): an api process is SIGKILLed
 * right after allowance-acquire.lua wrote the buyer's provisional entry, before reserve.lua
 * (FAULT_CRASH_AFTER_BUYER_STEP). On Redis Cluster the two live in different slots, so this is
 * the state a crash can leave. Then:
 *  - nothing was sold, and the limit still holds: the provisional entry counts while its lease runs;
 *  - after the lease, resolution (fence.lua in the zone's slot) tombstones the purchase id and the
 *    buyer gets the seats back;
 *  - the crashed request's zone step, arriving late, can no longer take seats (DUPLICATE).
 */
const redis = testRedis();
const cfg = testConfig();
const prefix = cfg.REDIS_KEY_PREFIX;
const eventId = uid('LimCrash');
const LIMIT = 4;
const entry = testEntry({ eventId, perUserLimit: LIMIT, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10] }] });
const layout = ZoneLayout.of(entry.venue.zones[0]!);
const inventory = new Inventory(redis, prefix);
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = await seedTestEvent(redis, prefix, entry);
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(redis, prefix);
  await redis.quit();
});

const env = { KAFKA_TOPIC_PREFIX: uid('limcrash.'), REDIS_KEY_PREFIX: prefix };
type Seat = { row: string; column: number };
const seatsOf = (row: string, ...columns: number[]): Seat[] => columns.map((column) => ({ row, column }));

async function takenSeats(): Promise<string[]> {
  const st = (await inventory.zoneState(eventId, 'z'))!;
  return [...Array(layout.capacity).keys()]
    .filter((k) => isTaken(st.bits, k))
    .map((k) => `${layout.seatAt(k).row}${layout.seatAt(k).column}`);
}

test('a crash between the allowance step and reserve.lua sells nothing, keeps the limit, and gives the allowance back after the lease', async () => {
  const buyer = uid('dora');
  const doomed = await spawnRole('api', { ...env, FAULT_CRASH_AFTER_BUYER_STEP: 'true' });
  await waitReady(doomed);
  const res = await fetch(`${doomed.url}/api/v1/events/${eventId}/purchases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: buyer, zoneId: 'z', seats: seatsOf('A', 1, 2, 3) }),
  }).catch((err: Error) => err);
  expect(res).toMatchObject({ message: 'fetch failed' }); // the buyer heard nothing at all
  expect((await doomed.exited).signal).toBe('SIGKILL');

  // What the crash left: a provisional entry for 3 seats in the buyer's slot, nothing in the zone's.
  const holds = new Holds(redis, prefix);
  const [left, ...others] = await new BuyerAllowance(redis, prefix, holds).entries(eventId, buyer);
  expect(others).toEqual([]);
  expect(left).toMatchObject({ seats: 3, state: 'provisional', kind: 'purchase', zoneId: 'z' });
  const crashedId = left!.purchaseId!;
  expect(crashedId).toBe(left!.id);
  expect(await inventory.getPurchase(eventId, 'z', crashedId)).toBeUndefined();
  expect(await takenSeats()).toEqual([]);

  const survivor = await startTestPlatform(['api'], env);
  try {
    const buy = (seats: Seat[]) => http(survivor.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: buyer, zoneId: 'z', seats });
    // Within the lease the provisional entry counts: the buyer may take 1 more seat, not 2.
    expect(await buy(seatsOf('B', 1, 2))).toMatchObject({ status: 409, body: { code: 'BUYER_LIMIT_REACHED', left: 1 } });
    const one = await buy(seatsOf('B', 1));
    expect(one.status).toBe(201);

    // The lease ends (a clock 31 s ahead): resolving the entry fences the crashed purchase id.
    const clock = new TestClock(Date.now() + 31_000);
    const later = new BuyerAllowance(redis, prefix, new Holds(redis, prefix, clock.read), {}, clock.read);
    expect(await later.resolve(eventId, buyer, crashedId)).toBe('dropped');
    expect(await redis.hget(inventory.keys(eventId, 'z').purchase(crashedId), 'status')).toBe('fenced');
    expect(await later.used(eventId, buyer)).toBe(1);

    // The crashed request's zone step, if it ever arrived, is refused: it cannot sell seats the allowance no longer counts.
    const late = await inventory.reserve(
      eventId,
      'z',
      layout,
      crashedId,
      seatsOf('A', 1, 2, 3).map((s) => layout.locate(s.row, s.column)!),
      '{}',
    );
    expect(late.code).toBe(ReserveCode.DUPLICATE);

    // The allowance is back: 3 more seats, then the limit.
    const three = await buy(seatsOf('A', 1, 2, 3));
    expect(three.status).toBe(201);
    expect(await buy(seatsOf('B', 5))).toMatchObject({ status: 409, body: { code: 'BUYER_LIMIT_REACHED', left: 0 } });
    expect((await later.entries(eventId, buyer)).map((e) => [e.id, e.state]).sort()).toEqual(
      [
        [one.body.purchaseId, 'bought'],
        [three.body.purchaseId, 'bought'],
      ].sort(),
    );
    // Seat by seat: exactly the two sales hold seats.
    expect(await takenSeats()).toEqual(['A1', 'A2', 'A3', 'B1']);
  } finally {
    await survivor.stop();
  }
});
