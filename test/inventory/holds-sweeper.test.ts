import { Holds } from '../../src/inventory/holds';
import { HoldSweeper } from '../../src/inventory/hold-sweeper';
import { holdIndexKeys } from '../../src/inventory/keys';
import { HoldCode } from '../../src/commands/scripts';
import { testEntry } from '../support/catalog';
import { testLogger, waitFor } from '../support/env';
import { testRedis } from '../support/platform';
import { holdsHarness, zoneDef } from './holds-support';

/** The hold sweeper (docs/purchase-state-machine.md, "The hold sweeper"), on the real clock. */
const t = holdsHarness();
const realHolds = new Holds(t.redis, t.prefix); // Date.now
const ix = holdIndexKeys(t.prefix);
const sweepers: HoldSweeper[] = [];
const extraConnections: ReturnType<typeof testRedis>[] = [];
afterAll(async () => {
  for (const s of sweepers) await s.stop();
  for (const c of extraConnections) await c.quit();
  await t.close();
});

const z = zoneDef(['A', 'B'], [5, 5]);
const now = () => Date.now();

test('expired seats are on sale again within about a second, with two replicas sweeping at once', async () => {
  const { eventId, layout } = await t.newZone(z);
  // Two "replicas": own connections, own sweepers, the same index.
  const expiredBy: string[] = [];
  for (let i = 0; i < 2; i++) {
    const redis = testRedis();
    extraConnections.push(redis);
    const s = new HoldSweeper(new Holds(redis, t.prefix), undefined, { intervalMs: 250 }, testLogger(), (_e, _z, ids) =>
      expiredBy.push(...ids),
    );
    sweepers.push(s);
    s.start();
  }
  const ids: string[] = [];
  let lastExpiry = 0;
  for (let i = 0; i < 6; i++) {
    const expiresAt = now() + 300 + 50 * i;
    const h = { holdId: t.holdId(eventId, z.zoneId), buyer: '', expiresAt, maxUntil: expiresAt + 60_000, info: '{}' };
    expect((await realHolds.hold(eventId, z.zoneId, layout, h, [{ offset: i, rowIdx: i < 5 ? 0 : 1 }])).code).toBe(HoldCode.OK);
    await realHolds.indexZone(eventId, z.zoneId, expiresAt);
    ids.push(h.holdId);
    lastExpiry = expiresAt;
  }
  const freedAt = await waitFor(
    async () => ((await t.takenOffsets(eventId, z)).size === 0 ? now() : 0),
    'the sweepers to free every expired seat',
    10_000,
    20,
  );
  // About a second: a pass every 250 ms (slack for two shared cores).
  expect(freedAt - lastExpiry).toBeLessThan(1500);
  for (const id of ids) expect((await realHolds.get(id))!.status).toBe('expired');
  expect(expiredBy.sort()).toEqual([...ids].sort()); // each expired exactly once, by one replica or the other
  await waitFor(async () => (await t.redis.zscore(ix.due, `${eventId}.${z.zoneId}`)) === null, 'the zone to leave the index');
  await t.expectConsistent(eventId, z);
  for (const s of sweepers.splice(0)) await s.stop();
});

test('a hold created while a sweeper settles the zone is never dropped from the index', async () => {
  const { eventId, layout } = await t.newZone(z);
  const member = `${eventId}.${z.zoneId}`;
  const first = { holdId: t.holdId(eventId, z.zoneId), buyer: '', expiresAt: now() + 60_000, maxUntil: now() + 60_000, info: '{}' };
  await realHolds.hold(eventId, z.zoneId, layout, first, [{ offset: 0, rowIdx: 0 }]);
  await realHolds.indexZone(eventId, z.zoneId, now() - 1); // due now, so a pass claims the zone
  // A sweeper's pass, step by step: claim, read the version, expire (nothing due: the hold lives).
  const claimed = await t.redis.tpClaim(ix.due, now(), now() + 5000, 10);
  expect(claimed).toContain(member);
  const version = (await t.redis.hget(ix.version, member)) ?? '';
  await realHolds.release(eventId, z.zoneId, first.holdId); // the zone has no hold now...
  const expired = await realHolds.expire(eventId, z.zoneId);
  expect(expired.next).toBeUndefined();
  // ...and a holder creates one before the sweeper settles.
  const second = { holdId: t.holdId(eventId, z.zoneId), buyer: '', expiresAt: now() + 200, maxUntil: now() + 60_000, info: '{}' };
  expect((await realHolds.hold(eventId, z.zoneId, layout, second, [{ offset: 1, rowIdx: 0 }])).code).toBe(HoldCode.OK);
  await realHolds.indexZone(eventId, z.zoneId, second.expiresAt);
  expect(await t.redis.tpSettleZone(ix.due, ix.version, member, version, -1)).toBe(0); // left due
  expect(await t.redis.zscore(ix.due, member)).not.toBeNull();
  // The next passes expire the new hold.
  const sweeper = new HoldSweeper(realHolds, undefined, { intervalMs: 100, claimMs: 100 }, testLogger());
  await waitFor(
    async () => (await sweeper.runOnce(), (await realHolds.get(second.holdId))!.status === 'expired'),
    'the second hold to expire',
    10_000,
  );
  await t.expectConsistent(eventId, z);
});

test('the rescan re-indexes a zone whose holder died before indexing it', async () => {
  const { eventId, layout } = await t.newZone(z);
  const h = { holdId: t.holdId(eventId, z.zoneId), buyer: '', expiresAt: now() + 100, maxUntil: now() + 60_000, info: '{}' };
  await realHolds.hold(eventId, z.zoneId, layout, h, [{ offset: 3, rowIdx: 0 }]); // no indexZone: "crash"
  const entry = testEntry({ eventId, zones: [{ zoneId: z.zoneId, rows: z.rows, seatCounts: z.seatCounts }] });
  const sweeper = new HoldSweeper(realHolds, { listEvents: async () => [entry] }, { intervalMs: 100, rescanMs: 0 }, testLogger());
  await waitFor(
    async () => (await sweeper.runOnce(), (await t.takenOffsets(eventId, z)).size === 0),
    'the rescanned hold to expire',
    10_000,
  );
  expect((await realHolds.get(h.holdId))!.status).toBe('expired');
  await t.expectConsistent(eventId, z);
});
