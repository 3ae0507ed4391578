import { Cluster, Redis } from 'ioredis';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { ensureTopics, createEventLog, topics } from '../../src/stream/kafka';
import { testConfig, testLogger, uid } from '../support/env';
import { produceTo } from '../support/kafka';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster';

/**
 * The cluster topology's engines (TOPOLOGY=cluster, scripts/services/lib/*.cjs), on a private
 * copy from test/support/private-cluster.ts: a Redis Cluster of 3 masters + 3 replicas and a
 * 3-broker KRaft Kafka where the platform's topics get replication factor 3 and min ISR 2.
 */
jest.setTimeout(60_000);
let cluster: PrivateCluster;

beforeAll(async () => {
  cluster = await startPrivateCluster({ kafka: true, redisNodeTimeoutMs: 3000 });
}, 900_000); // it may wait its turn for the private Kafka cluster (one at a time)
afterAll(() => cluster?.stop());

const hostPort = (s: string) => ({ host: s.split(':')[0]!, port: Number(s.split(':')[1]) });
const direct = (port: number) => new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });

async function onEachNode<T>(fn: (r: Redis, port: number) => Promise<T>): Promise<T[]> {
  return Promise.all(
    cluster.nodes.map(async (n) => {
      const r = direct(hostPort(n).port);
      try {
        await r.connect();
        return await fn(r, hostPort(n).port);
      } finally {
        r.disconnect();
      }
    }),
  );
}

test('Redis: every node reports cluster_state:ok with all 16384 slots; 3 masters own disjoint ranges, each followed by one replica in sync, AOF on', async () => {
  const infos = await onEachNode(async (r) => ({
    info: String(await r.call('CLUSTER', 'INFO')),
    nodes: String(await r.call('CLUSTER', 'NODES')),
    replication: await r.info('replication'),
    aof: await r.config('GET', 'appendonly'),
  }));
  for (const { info, aof } of infos) {
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_assigned:16384');
    expect(info).toContain('cluster_known_nodes:6');
    expect(aof).toEqual(['appendonly', 'yes']);
  }
  const lines = infos[0]!.nodes
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  const masters = lines.filter((l) => l[2]!.includes('master'));
  const replicas = lines.filter((l) => l[2]!.includes('slave'));
  expect([masters.length, replicas.length]).toEqual([3, 3]);
  // Every slot is owned exactly once.
  const owned = masters.flatMap((m) =>
    m.slice(8).flatMap((r) => {
      const [a, b = a] = r.split('-').map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
    }),
  );
  expect(owned.length).toBe(16384);
  expect(new Set(owned).size).toBe(16384);
  // Each master has exactly one replica, and replicas are in sync.
  expect(replicas.map((r) => r[3]).sort()).toEqual(masters.map((m) => m[0]).sort());
  const roles = infos.map((i) => /role:(\w+)/.exec(i.replication)![1]);
  expect(roles.filter((r) => r === 'slave').length).toBe(3);
  for (const i of infos.filter((x) => x.replication.includes('role:slave'))) expect(i.replication).toContain('master_link_status:up');
});

test('Redis: masterOf names the master that holds a key; after SIGKILL its replica takes over with the key, and the old master rejoins as a replica', async () => {
  const client = new Cluster(cluster.nodes.map(hostPort), { redisOptions: { maxRetriesPerRequest: 3 } });
  const key = `{${uid('zone')}}:bits`;
  try {
    await client.set(key, 'sold');
    const master = await cluster.masterOf(key);
    const [replica] = await cluster.replicasOf(master);
    expect(replica).toBeDefined();
    const m = direct(master);
    try {
      expect(await m.get(key)).toBe('sold'); // the key lives on the master masterOf named
      expect(await m.call('WAIT', '1', '5000')).toBe(1); // and its replica acknowledged it
    } finally {
      m.disconnect();
    }
    await cluster.kill(master);
    await cluster.waitReady();
    expect(await cluster.masterOf(key)).toBe(replica);
    expect(await client.get(key)).toBe('sold');
    await cluster.restart(master);
    expect(await cluster.replicasOf(replica!)).toEqual([master]);
  } finally {
    client.disconnect();
  }
});

test('Kafka: 3 brokers registered; the platform creates its topics with replication factor 3 and min.insync.replicas 2, and produces with acks=all', async () => {
  const cfg = testConfig({ KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' });
  const eventLog = createEventLog(cfg, testLogger());
  const admin = new Kafka({ clientId: 'cluster-topology-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await ensureTopics(eventLog, cfg);
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    expect(brokers.map((b) => b.port).sort()).toEqual(cluster.brokers.map((b) => hostPort(b).port).sort());
    const topic = topics(cfg).tickets;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]!.partitions;
    expect(partitions.length).toBe(cfg.KAFKA_PARTITIONS);
    for (const p of partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.isr.length).toBe(3);
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas', 'unclean.leader.election.enable'] }],
    });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' });
    await produceTo(eventLog, topic, [{ key: 'k', value: 'acked by 2 of 3 at least' }]);
    expect((await eventLog.endOffsets(topic)).reduce((s, p) => s + p.high - p.low, 0)).toBe(1);
  } finally {
    await admin.disconnect();
    await eventLog.close();
  }
});
