import { Partitioners, type Admin, type Consumer, type IHeaders, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { metrics } from '../observability/metrics';
import { startConsumerSpan } from '../observability/trace-context';
import type { Logger } from '../observability/logger';

/** A message a handler could not use, with the reason that goes into `x-dlq-reason`. */
export interface DeadLetter {
  message: KafkaMessage;
  reason: string;
}

/** What a handler did with a chunk of messages. Everything but `deadLetters` must be durable. */
export interface HandledChunk {
  ok: number;
  duplicate: number;
  deadLetters: DeadLetter[];
}

export interface ConsumerLoopOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  /** Writes a chunk of one partition's messages (in log order) durably; throws on a store failure. */
  handle(messages: KafkaMessage[], partition: number): Promise<HandledChunk>;
  log: Logger;
  /** Messages handed to `handle` at once (one partition). */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  lagIntervalMs?: number;
}

/**
 * Test-only fault hooks. `crashBeforeCommit(groupId)` returning true makes that group's
 * consumer behave like a process killed after its durable write and before the offset
 * commit: nothing is resolved or committed, the consumer drops out of the group.
 */
export const consumerFaults: { crashBeforeCommit?: (groupId: string) => boolean } = {};

export interface ConsumerLoop {
  readonly groupId: string;
  /** Resolves once the consumer joined its group. */
  readonly started: Promise<void>;
  /** True once a crash fault fired (tests). */
  readonly crashed: boolean;
  /** Rejects when the loop is not consuming (not joined yet, crashed, stopped). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The consumer discipline shared by the writer and the projector: batches per partition,
 * written durably by `handle`, poison messages dead-lettered (acks=all), and only then the
 * offsets resolved and committed. A crash anywhere before the commit means redelivery, which
 * the handlers absorb because their writes are idempotent.
 */
export async function startConsumerLoop(opts: ConsumerLoopOptions): Promise<ConsumerLoop> {
  const { kafka, groupId, topic, log } = opts;
  const chunkSize = opts.chunkSize ?? 500;
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: 15000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 10 },
  });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const admin: Admin = kafka.admin();
  let crashed = false;
  let stopping = false;
  let joined = false;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    markStarted();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) joined = false; // kafkajs gave up: readiness turns red so the pod is restarted
    log.error({ err: e.payload.error, groupId, restart: e.payload.restart }, e.payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed for good; restart the process');
  });

  await Promise.all([consumer.connect(), producer.connect(), admin.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });

  /** Retries a store write until it succeeds or the partition is no longer ours. */
  async function untilDone<T>(what: string, fn: () => Promise<T>, stillOurs: () => boolean, heartbeat: () => Promise<void>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!stillOurs()) return undefined;
        const wait = Math.min(5000, 100 * 2 ** attempt);
        log.warn({ err, groupId, attempt }, `${what} failed; retrying in ${wait} ms (offsets stay uncommitted)`);
        await sleep(wait);
        await heartbeat().catch(() => undefined);
        if (!stillOurs()) return undefined;
      }
    }
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 3,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      const stillOurs = () => !crashed && !stopping && isRunning() && !isStale();
      for (let i = 0; i < batch.messages.length && stillOurs(); i += chunkSize) {
        const chunk = batch.messages.slice(i, i + chunkSize);
        const spans = chunk.map((m) => startConsumerSpan(`${topic} persist (${groupId})`, m.headers));
        const done = await untilDone('store write', () => opts.handle(chunk, batch.partition), stillOurs, heartbeat).finally(() => {
          for (const span of spans) span.end();
        });
        if (!done) return;
        if (done.deadLetters.length > 0) {
          const sent = await untilDone('dead-letter produce', () => deadLetter(producer, opts.deadLetterTopic, groupId, batch.partition, done.deadLetters), stillOurs, heartbeat);
          if (!sent) return;
        }
        if (consumerFaults.crashBeforeCommit?.(groupId)) {
          crashed = true;
          log.warn({ groupId }, 'fault hook: consumer dropped after the write, before the commit');
          void consumer.disconnect().catch(() => undefined);
          return;
        }
        metrics.consumerMessages.inc({ group: groupId, outcome: 'ok' }, done.ok);
        if (done.duplicate) metrics.consumerMessages.inc({ group: groupId, outcome: 'duplicate' }, done.duplicate);
        if (done.deadLetters.length) metrics.consumerMessages.inc({ group: groupId, outcome: 'dead_letter' }, done.deadLetters.length);
        const last = chunk[chunk.length - 1]!;
        resolveOffset(last.offset);
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }] }] });
        await heartbeat();
      }
    },
  });

  const lagTimer = setInterval(() => {
    void consumerLag(admin, groupId, topic)
      .then((lag) => metrics.consumerLag.set({ group: groupId }, lag))
      .catch((err) => log.debug({ err }, 'lag probe failed'));
  }, opts.lagIntervalMs ?? 5000);
  lagTimer.unref();

  return {
    groupId,
    started,
    get crashed() {
      return crashed;
    },
    async check() {
      if (crashed) throw new Error(`consumer ${groupId} crashed (fault hook)`);
      if (!joined) throw new Error(`consumer ${groupId} has not joined its group yet`);
    },
    async stop() {
      stopping = true;
      clearInterval(lagTimer);
      await consumer.disconnect().catch((err) => log.warn({ err }, 'consumer disconnect failed'));
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      metrics.consumerLag.remove({ group: groupId });
    },
  };
}

/** Produces the dead letters with acks=all; resolves true once they are durable. */
async function deadLetter(producer: Producer, dlqTopic: string, groupId: string, partition: number, letters: DeadLetter[]): Promise<true> {
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    messages: letters.map(({ message, reason }) => ({
      key: message.key,
      value: message.value,
      headers: {
        ...stringHeaders(message.headers),
        'x-dlq-reason': reason.slice(0, 1000),
        'x-dlq-group': groupId,
        'x-dlq-source-partition': String(partition),
        'x-dlq-source-offset': message.offset,
      },
    })),
  });
  return true;
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

/** Per partition: the end of the log and the group's committed offset (-1: none yet). */
export interface PartitionProgress {
  partition: number;
  end: number;
  low: number;
  committed: number;
}

/** The group's progress on a topic; an absent topic has no partitions (nothing to consume). */
export async function groupProgress(admin: Admin, groupId: string, topic: string): Promise<PartitionProgress[]> {
  // Asking for the offsets of an absent topic retries for seconds before failing: look first.
  if (!(await admin.listTopics()).includes(topic)) return [];
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.map((e) => ({ partition: e.partition, end: Number(e.high), low: Number(e.low), committed: byPartition.get(e.partition) ?? -1 }));
}

/** Messages not yet committed by the group, summed over partitions. */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  return (await groupProgress(admin, groupId, topic)).reduce((s, p) => s + behind(p), 0);
}

/** Messages a partition's group still has to commit. */
export const behind = (p: PartitionProgress) => Math.max(0, p.end - Math.max(p.committed, p.low));

/** The partition a key lands on with the producer's DefaultPartitioner (murmur2, Java-compatible). */
export function partitionOfKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
    message: { key, value: null },
  });
}

/**
 * Waits until the group has committed everything the topic held when the wait began
 * (optionally only some partitions). Returns the messages still behind (0 = caught up).
 */
export async function waitUntilCaughtUp(
  admin: Admin,
  groupId: string,
  topic: string,
  opts: { timeoutMs: number; partitions?: number[]; onProgress?: (behind: number) => void },
): Promise<number> {
  const target = new Map((await groupProgress(admin, groupId, topic)).map((p) => [p.partition, p.end]));
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const now = await groupProgress(admin, groupId, topic);
    const relevant = now.filter((p) => !opts.partitions || opts.partitions.includes(p.partition));
    const left = relevant.reduce((s, p) => s + Math.max(0, (target.get(p.partition) ?? 0) - Math.max(p.committed, p.low)), 0);
    opts.onProgress?.(left);
    if (left === 0 || Date.now() >= deadline) return left;
    await sleep(200);
  }
}
