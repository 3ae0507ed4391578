/** @jest-environment ./test/controller/support/kube-environment.ts */
import { CatalogStore } from '../../src/catalog/store';
import { reconcile } from '../../src/controller/reconcile';
import { Inventory } from '../../src/inventory/inventory';
import type { ScriptedRedis } from '../../src/commands/scripts';
import { waitFor } from '../support/env';
import { EVENTS, LEASES, startFakeKube, VENUES, type FakeKubeApiServer } from '../support/fake-kube';
import { testRedis } from '../support/platform';
import {
  clusterConfig,
  condition,
  deletePrefix,
  eventResource,
  NS,
  startTestController,
  testPrefix,
  venueResource,
  type TestController,
} from './support/cluster';

const LEASE = 'ticketing-controller';
const DURATION_MS = 2000;
const RETRY_MS = 300;

/** Wraps the real reconcile to see who runs it, when, and how many at once. */
function instrumentedReconcile() {
  let active = 0;
  const stats = { maxConcurrent: 0, runs: [] as { who: string; at: number }[] };
  const forIdentity =
    (who: string): typeof reconcile =>
    async (...args) => {
      active += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, active);
      stats.runs.push({ who, at: Date.now() });
      try {
        return await reconcile(...args);
      } finally {
        active -= 1;
      }
    };
  return { stats, forIdentity };
}

describe('leader election over a Lease (fake Kubernetes API server, real Redis)', () => {
  let fake: FakeKubeApiServer;
  let redis: ScriptedRedis;
  let prefix: string;
  let controllers: TestController[];
  let bothLeading = 0;
  let monitor: NodeJS.Timeout;

  beforeEach(async () => {
    fake = await startFakeKube();
    redis = testRedis();
    prefix = testPrefix();
    controllers = [];
    bothLeading = 0;
    // Sampled all along: two replicas must never both believe they lead.
    monitor = setInterval(() => {
      if (controllers.filter((c) => c.isLeader()).length > 1) bothLeading += 1;
    }, 10);
    fake.apply(venueResource('hall', 'VHall'));
    fake.apply(eventResource('opening', 'EvOpening', 'hall'));
  });

  afterEach(async () => {
    clearInterval(monitor);
    for (const c of controllers) fake.heal(c.identity);
    for (const c of controllers) await c.stop();
    await fake.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  async function start(identity: string, opts: Parameters<typeof startTestController>[3] = {}) {
    const c = await startTestController(fake, redis, clusterConfig(prefix), { identity, ...opts });
    controllers.push(c);
    return c;
  }
  const onSale = (name: string) => condition(fake.get(EVENTS, NS, name), 'OnSale')?.status === 'True';
  const leaseReads = () => fake.count('GET', new RegExp(`/leases/${LEASE}$`));

  test('a leader whose Lease is taken stops its informers and reconciles, and takes over again once the Lease expires', async () => {
    const a = await start('replica-a');
    await waitFor(() => a.isLeader() && onSale('opening'), 'replica-a leads and reconciled');
    expect(fake.get(LEASES, NS, LEASE)?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 2, leaseTransitions: 0 });

    const lease = fake.get(LEASES, NS, LEASE)!;
    fake.replace(LEASES, NS, { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString() } });
    await waitFor(() => !a.isLeader() && fake.openWatches() === 0, 'replica-a stepped down and closed its watches', 3000);
    const reconcilesWhenLost = a.reconciles();

    fake.apply(eventResource('late', 'EvLate', 'hall'));
    const reads = leaseReads();
    // Three lease attempts span far more than the 50 ms debounce: a leader would have reconciled.
    await waitFor(() => leaseReads() >= reads + 3, 'three more lease attempts', 3000);
    expect(a.reconciles()).toBe(reconcilesWhenLost);
    expect(await new CatalogStore(redis, prefix).getEvent('EvLate')).toBeUndefined();
    expect(await new Inventory(redis, prefix).zoneExists('EvLate', 'a')).toBe(false);
    expect(fake.get(EVENTS, NS, 'late')?.status).toBeUndefined();

    // The intruder never renews: after the lease duration replica-a takes over again.
    await waitFor(() => a.isLeader() && onSale('late'), 'replica-a leads again and reconciled the new event', DURATION_MS + 3000);
    expect(fake.get(LEASES, NS, LEASE)?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 1 });
    expect(await new Inventory(redis, prefix).zoneState('EvLate', 'a')).toMatchObject({ capacity: 10 });
  });

  test('failover: when the leader dies the follower takes over after the Lease expires, and the two never reconcile at once', async () => {
    const probe = instrumentedReconcile();
    // releaseLeaseOnStop false: stopping replica-a is a crash as far as the Lease is concerned.
    const a = await start('replica-a', { reconcileFn: probe.forIdentity('replica-a'), releaseLeaseOnStop: false });
    await waitFor(() => a.isLeader() && onSale('opening'), 'replica-a leads');
    const b = await start('replica-b', { reconcileFn: probe.forIdentity('replica-b') });

    // Changes and resyncs while both run: only the leader reconciles them.
    fake.apply(eventResource('second', 'EvSecond', 'hall'));
    const n = a.reconciles();
    await waitFor(() => onSale('second') && a.reconciles() >= n + 3, 'replica-a reconciled more');
    expect(b.isLeader()).toBe(false);
    expect(b.reconciles()).toBe(0);

    await a.stop();
    controllers = controllers.filter((c) => c !== a);
    const crashedAt = Date.now();
    fake.apply(eventResource('after', 'EvAfter', 'hall'));
    await waitFor(() => b.isLeader(), 'replica-b takes over', DURATION_MS + 3000, 10);
    const takeoverMs = Date.now() - crashedAt;
    await waitFor(() => onSale('after'), 'replica-b reconciled the event applied after the crash');

    // It waited for the lease to expire (less what had passed since the last renewal), not longer.
    expect(takeoverMs).toBeGreaterThanOrEqual(DURATION_MS - 2 * RETRY_MS);
    expect(takeoverMs).toBeLessThanOrEqual(DURATION_MS + 2 * RETRY_MS + 500);
    expect(fake.get(LEASES, NS, LEASE)?.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    expect(probe.stats.maxConcurrent).toBe(1);
    expect(probe.stats.runs.filter((r) => r.who === 'replica-a').every((r) => r.at < crashedAt)).toBe(true);
    expect(probe.stats.runs.some((r) => r.who === 'replica-b')).toBe(true);
    expect(probe.stats.runs.filter((r) => r.who === 'replica-b').every((r) => r.at >= crashedAt)).toBe(true);
    expect(bothLeading).toBe(0);
    console.log(
      `failover after a crash: replica-b led ${takeoverMs} ms after replica-a stopped (lease ${DURATION_MS} ms, retry ${RETRY_MS} ms)`,
    );
  });

  test('a leader cut off from the API server steps down before the follower takes over', async () => {
    const probe = instrumentedReconcile();
    const a = await start('replica-a', { reconcileFn: probe.forIdentity('replica-a') });
    await waitFor(() => a.isLeader() && onSale('opening'), 'replica-a leads');
    const b = await start('replica-b', { reconcileFn: probe.forIdentity('replica-b') });
    await waitFor(() => fake.requests.some((r) => r.client === 'replica-b' && /leases/.test(r.path)), 'replica-b is a candidate');

    fake.partition('replica-a');
    const cutAt = Date.now();
    await waitFor(() => !a.isLeader(), 'replica-a steps down', DURATION_MS + 1000, 10);
    const steppedDownMs = Date.now() - cutAt;
    await waitFor(() => b.isLeader(), 'replica-b takes over', DURATION_MS + 3000, 10);
    const takeoverMs = Date.now() - cutAt;
    fake.apply(eventResource('meanwhile', 'EvMeanwhile', 'hall'));
    await waitFor(() => onSale('meanwhile'), 'replica-b reconciles');

    fake.heal('replica-a');
    const healedAt = Date.now();
    const leaseCallsOfA = () => fake.requests.filter((r) => r.client === 'replica-a' && r.at >= healedAt && /leases/.test(r.path)).length;
    await waitFor(() => leaseCallsOfA() >= 3, 'replica-a back in touch with the API server');
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);

    expect(steppedDownMs).toBeLessThan(takeoverMs);
    expect(probe.stats.maxConcurrent).toBe(1);
    expect(bothLeading).toBe(0);
    console.log(`partition: replica-a stepped down after ${steppedDownMs} ms, replica-b led after ${takeoverMs} ms`);
  });

  test('two replicas started together: exactly one leads; a graceful stop hands the Lease over at once', async () => {
    const probe = instrumentedReconcile();
    const [a, b] = await Promise.all([
      start('replica-a', { reconcileFn: probe.forIdentity('replica-a') }),
      start('replica-b', { reconcileFn: probe.forIdentity('replica-b') }),
    ]);
    const leader = await waitFor(() => (a.isLeader() ? a : b.isLeader() ? b : undefined), 'a leader');
    const follower = leader === a ? b : a;
    await waitFor(() => onSale('opening') && leader.reconciles() >= 2, 'the leader reconciled');
    expect(follower.isLeader()).toBe(false);

    await leader.stop();
    controllers = controllers.filter((c) => c !== leader);
    const stoppedAt = Date.now();
    await waitFor(() => follower.isLeader(), 'the follower takes over', DURATION_MS, 10);
    const handoverMs = Date.now() - stoppedAt;
    expect(handoverMs).toBeLessThan(DURATION_MS - 2 * RETRY_MS); // released, not expired
    fake.apply(eventResource('handover', 'EvHandover', 'hall'));
    await waitFor(() => onSale('handover'), 'the new leader reconciles');
    expect(probe.stats.maxConcurrent).toBe(1);
    expect(bothLeading).toBe(0);
    expect(fake.openWatches(VENUES)).toBe(1);
    console.log(`graceful handover: the follower led ${handoverMs} ms after the leader stopped`);
  });
});
