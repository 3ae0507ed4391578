import { partitionKey } from '../../src/purchase/record';
import type { EventLog, NewRecord } from '../../src/stream/event-log';
import { createEventLog } from '../../src/stream/kafka';
import { BatchingSender, NotSentError, RecordTooLargeError, recordBytes, type SenderOptions } from '../../src/stream/sender';
import { testConfig, testLogger, uid } from '../support/env';
import { readTopic } from '../support/kafka';
import { record } from './support';

/**
 * The batching sender against the real broker (message.max.bytes at its default, 1 MiB): a hot
 * partition's batch of ten-seat records stays within the broker's limit, and one batch the
 * broker refuses affects only its own records.
 */
const cfg = testConfig();
let eventLog: EventLog;
const topics: string[] = [];

beforeAll(() => {
  eventLog = createEventLog(cfg, testLogger('batch-bytes'));
});
afterAll(async () => {
  await eventLog.deleteTopics(topics).catch(() => undefined);
  await eventLog.close();
});

async function freshTopic(): Promise<string> {
  const name = `${uid('test.')}.batches`;
  topics.push(name);
  await eventLog.ensureTopics([{ name, partitions: 3, replicationFactor: 1 }]);
  return name;
}

/** A ten-seat purchase of one zone (one key: one hot partition), as the api produces it. */
function tenSeats(eventId: string): NewRecord & { purchaseId: string } {
  const r = record(
    eventId,
    'hot',
    Array.from({ length: 10 }, (_, i) => ({ row: 'A', column: i + 1 })),
    `buyer-${uid()}`,
  );
  return {
    key: partitionKey(eventId, 'hot'),
    value: JSON.stringify(r),
    headers: { 'x-purchase-id': r.purchaseId },
    purchaseId: r.purchaseId,
  };
}

async function sender(topic: string, overrides: Partial<SenderOptions> = {}): Promise<BatchingSender> {
  const s = new BatchingSender(
    eventLog,
    {
      topic,
      lingerMs: cfg.KAFKA_LINGER_MS,
      maxBatch: cfg.KAFKA_MAX_BATCH,
      maxBatchBytes: cfg.KAFKA_MAX_BATCH_BYTES,
      producers: cfg.KAFKA_PRODUCERS,
      stallMs: 20000,
      ...overrides,
    },
    testLogger('sender'),
  );
  await s.start();
  return s;
}

const purchaseIdsIn = (values: string[]) => new Set(values.map((v) => (JSON.parse(v) as { purchaseId: string }).purchaseId));

test('1,500 ten-seat records for one hot partition (about 2 MB, more than a batch of KAFKA_MAX_BATCH may carry) are all acknowledged', async () => {
  const topic = await freshTopic();
  const eventId = uid('Hot');
  const records = Array.from({ length: 1500 }, () => tenSeats(eventId));
  // The premise: KAFKA_MAX_BATCH of these records is more than the broker's 1 MiB.
  expect(records.slice(0, cfg.KAFKA_MAX_BATCH).reduce((s, r) => s + recordBytes(r), 0)).toBeGreaterThan(1_048_588);
  const s = await sender(topic);
  try {
    const outcomes = await Promise.allSettled(records.map(({ purchaseId: _id, ...r }) => s.send(r)));
    expect(
      outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => String(o.reason))
        .slice(0, 3),
    ).toEqual([]);
    expect(s.available).toBe(true);
  } finally {
    await s.close();
  }
  const expected = new Set(records.map((r) => r.purchaseId));
  const values = await readTopic(eventLog, topic, (v) => purchaseIdsIn(v).size >= expected.size, 60000);
  expect(purchaseIdsIn(values)).toEqual(expected);
}, 120000);

test('a batch the broker refuses as too large is sent again in halves; a record too large on its own is refused alone, the others are acknowledged', async () => {
  const topic = await freshTopic();
  const eventId = uid('Split');
  const records = Array.from({ length: 1200 }, () => tenSeats(eventId));
  const giant = { key: partitionKey(eventId, 'hot'), value: 'x'.repeat(1_200_000) };
  // A bound above the broker's limit, as a misconfigured KAFKA_MAX_BATCH_BYTES would be.
  const s = await sender(topic, { maxBatchBytes: 5_000_000 });
  try {
    // The giant sits in the middle of the queue, so it shares its first batch with others.
    const first = records.slice(0, 600).map(({ purchaseId: _id, ...r }) => s.send(r));
    const refused = s.send(giant);
    const rest = records.slice(600).map(({ purchaseId: _id, ...r }) => s.send(r));
    const outcomes = await Promise.allSettled([...first, ...rest]);
    expect(
      outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => String(o.reason))
        .slice(0, 3),
    ).toEqual([]);
    const err = await refused.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect(err).toBeInstanceOf(NotSentError); // the purchase path releases the seats of a record that was never stored
    expect((err as Error).message).toMatch(/refused a record of \d+ bytes as too large/);
    // Nothing was wrong with the broker: the circuit stayed closed.
    expect(s.available).toBe(true);
  } finally {
    await s.close();
  }
  const expected = new Set(records.map((r) => r.purchaseId));
  const values = await readTopic(eventLog, topic, (v) => purchaseIdsIn(v).size >= expected.size, 60000);
  expect(values.some((v) => v.startsWith('xxx'))).toBe(false);
  // A half the broker may have appended before it refused another partition's batch can be in
  // the log twice (consumers deduplicate by ticket id); every record is there.
  expect(purchaseIdsIn(values)).toEqual(expected);
}, 120000);

test('a record larger than KAFKA_MAX_BATCH_BYTES is refused before it is sent, with what to do next', async () => {
  const topic = await freshTopic();
  const s = await sender(topic);
  try {
    const before = s.send(tenSeats(uid('Big')));
    const err = await s.send({ key: 'k', value: 'x'.repeat(cfg.KAFKA_MAX_BATCH_BYTES) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect((err as Error).message).toMatch(/KAFKA_MAX_BATCH_BYTES=900000\); it was not sent/);
    await expect(before).resolves.toBeUndefined();
    await expect(s.send(tenSeats(uid('Big')))).resolves.toBeUndefined();
  } finally {
    await s.close();
  }
});
