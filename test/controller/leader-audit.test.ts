/** @jest-environment ./test/controller/support/kube-environment.ts */
import { auditWork } from '../../src/admin/audit-pass';
import { ZoneLayout } from '../../src/catalog/layout';
import { uid, waitFor } from '../support/env';
import { EVENTS, startFakeKube, type FakeKubeApiServer } from '../support/fake-kube';
import { startTestPlatform, testRedis } from '../support/platform';
import { asMessage, produce, record, testStores } from '../cqrs/support';
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
import { forgetEvents } from './support/stores';

jest.mock('@kubernetes/client-node', () => (globalThis as { __kubeClientNode?: unknown }).__kubeClientNode);

const ZONE = { zoneId: 'a', rows: ['A', 'B'], seatsPerRow: 5 };
const layout = ZoneLayout.of({ rows: ZONE.rows, seatCounts: ZONE.rows.map(() => ZONE.seatsPerRow) });

/**
 * The audit writes to Redis (it takes lost sales again), so it is leader work: it runs on the
 * leader's term only. Two controller replicas against the fake Kubernetes API server: only the
 * leader audits and repairs; after a handover, the new leader does.
 */
test('two controller replicas (fake Kubernetes API server): the audit and repair run on the leader only, and move with the Lease', async () => {
  const fake: FakeKubeApiServer = await startFakeKube();
  const redis = testRedis();
  const prefix = testPrefix();
  const cfg = clusterConfig(prefix);
  const eventId = uid('EvAudit');
  // The writer puts sales into DynamoDB; the replicas' audits compare Redis with it.
  const writer = await startTestPlatform(['writer'], { REDIS_KEY_PREFIX: prefix, KAFKA_TOPIC_PREFIX: cfg.KAFKA_TOPIC_PREFIX });
  const stores = testStores(cfg);
  const replicas: { c: TestController; audit: ReturnType<typeof auditWork>; seen?: unknown }[] = [];
  // Sampled all along: a pass that finishes on a replica that is not the leader.
  let followerPasses = 0;
  const monitor = setInterval(() => {
    for (const r of replicas) {
      const pass = r.audit.lastPass();
      if (pass !== r.seen && !r.c.isLeader()) followerPasses += 1;
      r.seen = pass;
    }
  }, 10);
  try {
    fake.apply(venueResource('hall', `V${eventId}`, [ZONE]));
    fake.apply(eventResource('gala', eventId, 'hall'));
    for (const identity of ['replica-a', 'replica-b']) {
      const audit = auditWork(stores, { everyMs: 200, log: writer.ctx.log });
      const c = await startTestController(fake, redis, cfg, { identity, leaderWork: [audit] });
      replicas.push({ c, audit });
    }
    const leaderOf = () => replicas.find((r) => r.c.isLeader());
    const first = await waitFor(leaderOf, 'a leader');
    const follower = replicas.find((r) => r !== first)!;
    await waitFor(() => condition(fake.get(EVENTS, NS, 'gala'), 'Seeded')?.status === 'True', 'the event seeded');

    // A sale DynamoDB holds but Redis never saw (lost writes): the leader's audit takes the seat again.
    const lostSale = async (column: number) => {
      await produce(writer.ctx.eventLog, cfg.KAFKA_TOPIC_PREFIX, [asMessage(record(eventId, 'a', [{ row: 'B', column }]))]);
      const bit = layout.locate('B', column)!.offset;
      await waitFor(
        async () => (await redis.getbit(stores.inventory.keys(eventId, 'a').bits, bit)) === 1,
        `seat B${column} taken again in Redis`,
        20000,
      );
    };
    await lostSale(1);
    expect(first.audit.lastPass()).toMatchObject({ complete: true, events: expect.arrayContaining([eventId]) });
    expect(follower.audit.lastPass()).toBeUndefined();
    expect(follower.c.isLeader()).toBe(false);

    // Graceful stop: the Lease is handed over, and with it the audit.
    replicas.splice(replicas.indexOf(first), 1);
    await first.c.stop();
    const passOfOld = first.audit.lastPass();
    await waitFor(() => follower.c.isLeader(), 'the follower leads');
    await lostSale(2);
    expect(follower.audit.lastPass()).toMatchObject({ complete: true });
    expect(first.audit.lastPass()).toBe(passOfOld);
    expect((await stores.inventory.zoneState(eventId, 'a'))?.available).toBe(8);
    expect(followerPasses).toBe(0);
  } finally {
    clearInterval(monitor);
    for (const r of replicas) await r.c.stop();
    await forgetEvents(stores.ctx, [{ eventId, venueId: `V${eventId}`, zoneIds: ['a'] }]);
    await stores.closeAll();
    await writer.stop();
    await fake.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
}, 90000);
