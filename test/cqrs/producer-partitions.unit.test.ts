import { createEventLog } from '../../src/stream/kafka';
import { KafkajsEventLog } from '../../src/stream/kafkajs-adapter';
import { partitionFor } from '../../src/stream/platformatic-producer';
import { partitionKey } from '../../src/purchase/record';
import { testLogger } from '../support/env';

/**
 * The producer (@platformatic/kafka) and everything that asks `EventLog.partitionOf` (reset
 * fences, the writer's partition ownership, tests) must put a key on the same partition, or a
 * zone's records would land where the fence and the consumers do not look. Both are murmur2 as
 * the Java clients; @platformatic/kafka's default partitioner is not, its compatibility one is.
 * No broker is contacted: constructing an event log connects nothing.
 */
const kafkajs = new KafkajsEventLog({ brokers: ['127.0.0.1:1'], clientId: 'partitions-test' }, testLogger());

test('every key is on the same partition for the producer as for EventLog.partitionOf, for 1 to 64 partitions', () => {
  const keys = [
    ...Array.from({ length: 2000 }, (_, i) => partitionKey(`Event${i % 37}`, `Zone${i}`)),
    ...Array.from({ length: 500 }, (_, i) => `k-${i}-ü-${'x'.repeat(i % 50)}`),
  ];
  const disagreements: string[] = [];
  for (const partitions of [1, 2, 3, 6, 7, 12, 64])
    for (const key of keys) {
      const a = kafkajs.partitionOf(key, partitions);
      const b = partitionFor(key, partitions);
      if (a !== b) disagreements.push(`${key} on ${partitions}: kafkajs ${a}, producer ${b}`);
    }
  expect(disagreements).toEqual([]);
});

test('the platform’s event log partitions as kafkajs whichever producer client is configured', () => {
  for (const client of ['platformatic', 'kafkajs'] as const) {
    const log = createEventLog(
      { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CLIENT_ID: 'partitions-test', KAFKA_PRODUCER_CLIENT: client },
      testLogger(),
    );
    expect(log.partitionOf('Event1#Zone7', 6)).toBe(kafkajs.partitionOf('Event1#Zone7', 6));
  }
});
