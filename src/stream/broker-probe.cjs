'use strict';
/**
 * Does a Kafka broker answer, and can it create a topic? `scripts/services.mjs` asks this before
 * anything is compiled, so this one file of the stream module is plain CommonJS, not TypeScript.
 * It uses the same client as `kafkajs-adapter.ts`; a second client replaces both.
 */
const { Kafka, logLevel } = require('kafkajs');

// kafkajs schedules a negative timeout on Node >= 23, which prints a harmless
// TimeoutNegativeWarning; keep the caller's output readable.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0]?.type ?? warning?.name);
  if (type === 'TimeoutNegativeWarning') return;
  emitWarning(warning, ...rest);
};

const probeAdmin = (brokers) =>
  new Kafka({
    clientId: 'services-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });

/**
 * Connects, lists topics and creates `probeTopic` (idempotent) with `replicationFactor` replicas
 * (1 by default; the cluster topology asks 3, which only a cluster of 3 live brokers can place).
 * Each step is bounded by the caller's `withTimeout(promise, ms, what)`. Resolves `{ ok, detail }`;
 * never rejects.
 */
async function probeBroker({ host, port, probeTopic, replicationFactor = 1 }, withTimeout) {
  const admin = probeAdmin([`${host}:${port}`]);
  try {
    await withTimeout(admin.connect(), 5000, 'connect');
    await withTimeout(admin.listTopics(), 5000, 'listTopics');
    await withTimeout(
      admin.createTopics({ topics: [{ topic: probeTopic, numPartitions: 1, replicationFactor }], waitForLeaders: true, timeout: 5000 }),
      8000,
      'createTopics',
    );
    return { ok: true, detail: 'metadata and createTopics ok' };
  } catch (e) {
    return { ok: false, detail: `Kafka admin check failed: ${e.message}` };
  } finally {
    await withTimeout(admin.disconnect(), 3000, 'disconnect').catch(() => {});
  }
}

/**
 * The brokers a cluster has registered (live, unfenced), as the brokers in `brokers`
 * ("host:port") see it. Resolves `{ ok, brokers: [{ nodeId, host, port }], detail }`; never rejects.
 */
async function describeBrokers({ brokers, attempts = 4 }, withTimeout) {
  const admin = probeAdmin(brokers);
  try {
    await withTimeout(admin.connect(), 5000, 'connect');
    // kafkajs asks a random broker of the last metadata, which may be one that just died (it
    // stays registered until its session times out): another attempt asks another one.
    let cluster;
    for (let attempt = 1; !cluster; attempt++) {
      try {
        cluster = await withTimeout(admin.describeCluster(), 5000, 'describeCluster');
      } catch (e) {
        if (attempt >= attempts) throw e;
      }
    }
    const found = cluster.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })).sort((a, b) => a.nodeId - b.nodeId);
    return { ok: true, brokers: found, detail: `${found.length} brokers registered (ids ${found.map((b) => b.nodeId).join(', ')})` };
  } catch (e) {
    return { ok: false, brokers: [], detail: `Kafka describeCluster failed: ${e.message}` };
  } finally {
    await withTimeout(admin.disconnect(), 3000, 'disconnect').catch(() => {});
  }
}

module.exports = { probeBroker, describeBrokers };
