import { SendBudgetSpentError, type EventLog, type LogProducer, type NewRecord } from '../../src/stream/event-log';
import { createEventLog } from '../../src/stream/kafka';
import { BatchingSender, NotSentError, OutcomeUnknownError, type SenderOptions } from '../../src/stream/sender';
import { testLogger, uid, waitFor } from '../support/env';
import { produceTo, readTopic } from '../support/kafka';
import { PrivateKafka } from '../support/private-kafka';

/**
 * A produce that fails may still have been appended: the broker, frozen (SIGSTOP) past the
 * client's request timeout, holds the request and appends it once it runs again. kafkajs rolls
 * its idempotent sequence numbers back after the failure, so the next batch of the same
 * producer carries the same numbers and the broker answers it "success" as a duplicate without
 * appending it (@platformatic/kafka, the default producer, takes a new producer id instead; the
 * sender does not count on either). The sender must therefore never send again on a producer whose send failed,
 * whatever it is doing (closing, or sending a refused batch in halves); otherwise a buyer hears
 * 201 for a record that is not in the log.
 */
let kafka: PrivateKafka;
let eventLog: EventLog;

beforeAll(async () => {
  kafka = await PrivateKafka.create();
  await kafka.start();
  eventLog = createEventLog({ KAFKA_BROKERS: kafka.brokers, KAFKA_CLIENT_ID: 'failed-producer-test' }, testLogger('failed-producer'));
}, 120000);

afterAll(async () => {
  kafka?.thaw();
  await eventLog?.close();
  await kafka?.destroy();
});

/** One partition, so the log's order is the order of appends and a sentinel read last proves what is absent. */
async function freshTopic(configs: Record<string, string> = {}): Promise<string> {
  const name = `${uid('test.')}.failed-producer`;
  await eventLog.ensureTopics([{ name, partitions: 1, replicationFactor: 1, configs }]);
  return name;
}

/** A record that says which one it is; `padding` bytes make it as large as a test needs. */
function recordNamed(id: string, padding = 0): NewRecord {
  return { key: 'k', value: JSON.stringify({ id, padding: 'x'.repeat(padding) }) };
}

/** The ids in the topic, read until a sentinel appended now (on a producer of its own) is seen. */
async function idsInLog(topic: string): Promise<string[]> {
  const sentinel = uid('sentinel-');
  await produceTo(eventLog, topic, [recordNamed(sentinel)]);
  const values = await readTopic(eventLog, topic, (v) => v.some((x) => x.includes(sentinel)), 60000);
  return values.map((v) => (JSON.parse(v) as { id: string }).id).filter((id) => id !== sentinel);
}

/** Every producer the sender opened and what happened to each of its sends, in order. */
interface ProducerUse {
  sends: { ids: string[]; ok: boolean }[];
}

/**
 * The private broker's event log, with each producer's sends written down (the real producer
 * does the work) and a hook that runs before each send, so a test can freeze the broker at
 * the exact moment it needs.
 */
function observedLog(uses: ProducerUse[], beforeSend: (ids: string[]) => void = () => undefined): EventLog {
  return Object.assign(Object.create(eventLog) as EventLog, {
    async openProducer(): Promise<LogProducer> {
      const real = await eventLog.openProducer();
      const use: ProducerUse = { sends: [] };
      uses.push(use);
      return {
        async send(topic: string, records: readonly NewRecord[], sendBy?: number) {
          const ids = records.map((r) => (JSON.parse(String(r.value)) as { id: string }).id);
          beforeSend(ids);
          try {
            await real.send(topic, records, sendBy);
            use.sends.push({ ids, ok: true });
          } catch (err) {
            use.sends.push({ ids, ok: false });
            throw err;
          }
        },
        close: () => real.close(),
      };
    },
  });
}

async function sender(log: EventLog, topic: string, overrides: Partial<SenderOptions> = {}): Promise<BatchingSender> {
  // A stall bound longer than the test: only real failures matter here.
  const s = new BatchingSender(
    log,
    { topic, lingerMs: 0, maxBatch: 100, maxBatchBytes: 900000, producers: 1, stallMs: 600000, ...overrides },
    testLogger('sender'),
  );
  await s.start();
  return s;
}

const settle = (p: Promise<void>) =>
  p.then(
    () => ({ ok: true as const }),
    (err: unknown) => ({ ok: false as const, err }),
  );

/** No producer sent anything after one of its sends failed. */
function expectNoSendAfterAFailure(uses: ProducerUse[]): void {
  for (const use of uses) {
    const failed = use.sends.findIndex((x) => !x.ok);
    if (failed >= 0) expect(use.sends.slice(failed + 1)).toEqual([]);
  }
}

test('a send that fails while the sender is closing retires its producer: the record queued behind it is refused, never "acknowledged" as a duplicate', async () => {
  const topic = await freshTopic();
  const uses: ProducerUse[] = [];
  const s = await sender(observedLog(uses), topic);
  await s.send(recordNamed('before'));

  kafka.freeze();
  try {
    const first = settle(s.send(recordNamed('first')));
    await waitFor(() => s.queued === 0, 'the first record to be in flight');
    const second = settle(s.send(recordNamed('second')));
    expect(s.queued).toBe(1);
    // SIGTERM: the sender drains while the frozen broker holds the first request.
    const closing = s.close();

    const firstOutcome = await first;
    expect(firstOutcome.ok).toBe(false);
    expect((firstOutcome as { err: unknown }).err).toBeInstanceOf(OutcomeUnknownError);
    kafka.thaw();

    const secondOutcome = await second;
    await closing;
    const inLog = await idsInLog(topic);
    // The premise: the failed request was appended once the broker ran again.
    expect(inLog).toEqual(expect.arrayContaining(['before', 'first']));
    // What the sender acknowledged is in the log, and the rest was refused as never sent.
    if (secondOutcome.ok) expect(inLog).toContain('second');
    else expect(secondOutcome.err).toBeInstanceOf(NotSentError);
    expect(secondOutcome.ok).toBe(false);
    expectNoSendAfterAFailure(uses);
  } finally {
    kafka.thaw();
  }
}, 180000);

test('when one half of a batch refused as too large fails, the other half is not sent on that producer; a fresh producer takes over', async () => {
  // The topic takes one 3 kB record per batch but not two: the pair is refused, then split.
  const topic = await freshTopic({ 'max.message.bytes': '5000' });
  const uses: ProducerUse[] = [];
  // Freeze the broker just before the first half goes out, so that half fails (and is appended later).
  const s = await sender(
    observedLog(uses, (ids) => ids.length === 1 && ids[0] === 'left' && kafka.freeze()),
    topic,
  );
  try {
    const left = settle(s.send(recordNamed('left', 3000)));
    const right = settle(s.send(recordNamed('right', 3000)));

    const leftOutcome = await left;
    expect(leftOutcome.ok).toBe(false);
    expect((leftOutcome as { err: unknown }).err).toBeInstanceOf(OutcomeUnknownError);
    kafka.thaw();
    const rightOutcome = await right;

    // The sender recovers on a fresh producer (a new producer id, no stale sequence numbers).
    await waitFor(() => s.available, 'the circuit to close once the broker answers again', 60000, 200);
    await s.send(recordNamed('after', 3000));

    const inLog = await idsInLog(topic);
    // 'left' may be in the log or not: @platformatic/kafka closes the connection when a request
    // times out, and the broker, thawed, may drop the request it held. Unknown was the truth.
    expect(inLog).toContain('after');
    if (rightOutcome.ok) expect(inLog).toContain('right');
    // It was part of the refused request, which another partition could have appended: unknown.
    else expect(rightOutcome.err).toBeInstanceOf(OutcomeUnknownError);
    expect(rightOutcome.ok).toBe(false);
    expectNoSendAfterAFailure(uses);
    expect(uses.length).toBeGreaterThanOrEqual(3); // the first, the one after the refusal, the fresh one
  } finally {
    kafka.thaw();
    await s.close();
  }
}, 180000);

test('no attempt starts past a record’s sendBy: a frozen broker costs one attempt, not a minute of retries, and a record that queued past its budget is never sent', async () => {
  const topic = await freshTopic();
  const uses: ProducerUse[] = [];
  const s = await sender(observedLog(uses), topic);
  await s.send(recordNamed('before'));

  kafka.freeze();
  try {
    const started = Date.now();
    const sendBy = started + 1500;
    const stuck = settle(s.send(recordNamed('stuck'), sendBy));
    await waitFor(() => s.queued === 0, 'the stuck record to be in flight');
    const behind = settle(s.send(recordNamed('behind'), started + 500));

    const stuckOutcome = await stuck;
    const gaveUpAfterMs = Date.now() - started;
    expect(stuckOutcome.ok).toBe(false);
    // One attempt (the request timeout), then the client's retry is refused: by sendBy + the overrun.
    expect(gaveUpAfterMs).toBeLessThan(sendBy - started + eventLog.sendOverrunMs);
    const behindOutcome = await behind;
    expect(behindOutcome.ok).toBe(false);
    expect((behindOutcome as { err: unknown }).err).toBeInstanceOf(NotSentError);
    kafka.thaw();

    // The record refused past its budget never reached the broker; the stuck one may have (written in time).
    const inLog = await idsInLog(topic);
    expect(inLog).toContain('before');
    expect(inLog).not.toContain('behind');
    expectNoSendAfterAFailure(uses);
  } finally {
    kafka.thaw();
    await s.close();
  }
}, 180000);

test('the log refuses a send whose sendBy has passed before its first attempt (SendBudgetSpentError), and sends nothing', async () => {
  const topic = await freshTopic();
  const producer = await eventLog.openProducer();
  try {
    await expect(producer.send(topic, [recordNamed('too-late')], Date.now() - 1)).rejects.toBeInstanceOf(SendBudgetSpentError);
  } finally {
    await producer.close();
  }
  expect(await idsInLog(topic)).not.toContain('too-late');
});
