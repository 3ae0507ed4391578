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

/**
 * Connects, lists topics and creates `probeTopic` (idempotent). Each step is bounded by the
 * caller's `withTimeout(promise, ms, what)`. Resolves `{ ok, detail }`; never rejects.
 */
async function probeBroker({ host, port, probeTopic }, withTimeout) {
  const kafka = new Kafka({
    clientId: 'services-probe',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await withTimeout(admin.connect(), 5000, 'connect');
    await withTimeout(admin.listTopics(), 5000, 'listTopics');
    await withTimeout(
      admin.createTopics({ topics: [{ topic: probeTopic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true, timeout: 5000 }),
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

module.exports = { probeBroker };
