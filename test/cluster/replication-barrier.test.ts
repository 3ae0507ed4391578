import { withScripts } from '../../src/commands/scripts';
import { ReplicationBarrier } from '../../src/inventory/replication-barrier';
import { zoneKeys } from '../../src/inventory/keys';
import { createRedisClient, type RedisClient } from '../../src/shared/redis';
import { uid } from '../support/env';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster';

/**
 * REDIS_WAIT_REPLICAS (src/inventory/replication-barrier.ts) on a private Redis Cluster: a write
 * made before after() is on the replica when it resolves with 1; a frozen replica makes it
 * resolve with 0 after the timeout, never hang or throw; concurrent callers share WAIT rounds.
 */
let cluster: PrivateCluster;
let redis: RedisClient;
const prefix = `tp:${uid('rb')}:`;

beforeAll(async () => {
  cluster = await startPrivateCluster({ redisNodeTimeoutMs: 5000 });
  redis = withScripts(createRedisClient({ REDIS_URL: 'redis://unused:1', REDIS_CLUSTER_NODES: cluster.nodes.join(',') }));
}, 120_000);
afterAll(async () => {
  await redis?.quit();
  await cluster?.stop();
});

test('after() resolves once the replica holds the write; a frozen replica costs the timeout, not the purchase', async () => {
  const barrier = new ReplicationBarrier(redis, prefix, 1, 200);
  const k = zoneKeys(prefix, 'E', 'z');
  const master = await cluster.masterOf(k.bits);
  const [replica] = await cluster.replicasOf(master);

  await redis.set(k.bits, 'reserved');
  expect(await barrier.after('E', 'z')).toBe(1);

  // Many callers at once (they share WAIT rounds, a group commit): every one resolves with the replica.
  const many = await Promise.all(Array.from({ length: 50 }, () => barrier.after('E', 'z')));
  expect(many.every((n) => n === 1)).toBe(true);

  await cluster.kill(replica!, 'SIGSTOP');
  try {
    await redis.set(k.bits, 'while frozen');
    const started = Date.now();
    expect(await barrier.after('E', 'z')).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(5000);
  } finally {
    await cluster.kill(replica!, 'SIGCONT');
  }
  await barrier.close();
  await redis.del(k.bits, `${k.meta}:wait`);
}, 60_000);
