import {
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Message,
  type PartitionerArgs,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import type { Logger } from '../observability/logger';
import {
  PartlyAcknowledgedError,
  RecordsTooLargeError,
  SendBudgetSpentError,
  type ConsumeOptions,
  type EventLog,
  type LogProducer,
  type LogRecord,
  type NewRecord,
  type PartitionOffsets,
  type RecordHeaders,
  type Subscription,
  type SubscriptionState,
  type TopicSpec,
} from './event-log';

/**
 * The EventLog on kafkajs 2.x: the one file that knows this client. A second client is one more
 * file like this one (see docs/cqrs.md, "The event-log seam").
 */
export interface KafkajsSettings {
  brokers: string[];
  clientId: string;
}

/** Warnings the client is known to raise harmlessly: kafkajs 2.2.4 arms a timer with a negative delay on Node ≥ 23. */
export const KAFKAJS_HARMLESS_WARNINGS: ReadonlySet<string> = new Set(['TimeoutNegativeWarning']);

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** kafkajs wraps the broker's error in retry errors; the protocol error is somewhere down the causes. */
function isTooLarge(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.type && TOO_LARGE.has(e.type)) return true;
  }
  return false;
}

/** What the partitioner threw, if kafkajs gave up for it (possibly wrapped). */
function budgetSpent(err: unknown): SendBudgetSpentError | undefined {
  for (let e = err as { cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e instanceof SendBudgetSpentError) return e;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

function plainHeaders(headers: IHeaders | undefined): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

const plainRecord = (topic: string, partition: number, m: KafkaMessage): LogRecord => ({
  topic,
  partition,
  offset: Number(m.offset),
  key: m.key ? m.key.toString('utf8') : null,
  value: m.value,
  headers: plainHeaders(m.headers),
});

/**
 * The partition kafkajs's own partitioner (murmur2 on the key, as the Java clients) put each
 * message of a send in; kafkajs hands the partitioner our message objects, so a WeakMap keyed by
 * them needs no cleanup.
 */
const partitionOf = new WeakMap<Message, number>();

/** The send a producer is on: kafkajs calls the partitioner at the start of every attempt, retries included. */
interface SendInProgress {
  sendBy: number | undefined;
  /** Messages of this send; the partitioner is called once per message per attempt. */
  messages: number;
  /** Partitioner calls that passed: at least `messages` means an attempt went on to send. */
  passed: number;
}

/**
 * kafkajs's murmur2 partitioner, recording each message's partition, and refusing to start an
 * attempt past the send's `sendBy`: thrown here, before any request of the attempt is built,
 * the error is not retriable, so kafkajs gives the send up and nothing more goes to a broker.
 */
const boundedRecordingPartitioner = (current: SendInProgress) => () => {
  const murmur2 = Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs): number => {
    if (current.sendBy !== undefined && Date.now() > current.sendBy) {
      const mayHaveSent = current.passed >= current.messages;
      throw new SendBudgetSpentError(
        mayHaveSent
          ? 'the send budget passed before kafkajs could try again; the records were not sent again'
          : 'the send budget passed before the first attempt; nothing was sent',
        mayHaveSent,
      );
    }
    // Sticky: a retry regroups the messages, and a keyless one must not move to a partition
    // that answered already (kafkajs would not send it there again).
    const partition = partitionOf.get(args.message) ?? murmur2(args);
    partitionOf.set(args.message, partition);
    current.passed++;
    return partition;
  };
};

/**
 * Indexes of the messages whose partition has no acknowledgement in `acks`. kafkajs 2.2.4 keys
 * its retry state by broker: when a partition's leader moves, during a retry, to a broker that
 * had already answered for other partitions, the moved partition is never sent again, yet
 * `send` resolves (tulios/kafkajs#1303, #1798). Those records' outcome is unknown.
 */
export function unacknowledged(messages: readonly Message[], acks: readonly Pick<RecordMetadata, 'partition' | 'errorCode'>[]): number[] {
  const acked = new Set(acks.filter((a) => a.errorCode === 0).map((a) => a.partition));
  const out: number[] = [];
  messages.forEach((m, i) => {
    const partition = partitionOf.get(m);
    if (partition === undefined || !acked.has(partition)) out.push(i);
  });
  return out;
}

class KafkajsProducer implements LogProducer {
  constructor(
    private readonly producer: Producer,
    private readonly current: SendInProgress,
  ) {}

  async send(topic: string, records: readonly NewRecord[], sendBy?: number): Promise<void> {
    const messages: Message[] = records.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) }));
    let acks: RecordMetadata[];
    Object.assign(this.current, { sendBy, messages: messages.length, passed: 0 });
    try {
      acks = await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    } catch (err) {
      const spent = budgetSpent(err);
      if (spent) throw new SendBudgetSpentError(spent.message, spent.mayHaveSent, { cause: err });
      if (isTooLarge(err))
        throw new RecordsTooLargeError(`the broker refused the batch as too large (${(err as Error).message})`, { cause: err });
      throw err;
    }
    const missing = unacknowledged(messages, acks);
    if (missing.length > 0) {
      const acknowledged = new Set(messages.keys());
      for (const i of missing) acknowledged.delete(i);
      throw new PartlyAcknowledgedError(
        `kafkajs reported success, but ${missing.length} of ${messages.length} records were in partitions without an acknowledgement (a leader moved during its retry); their outcome is unknown`,
        acknowledged,
      );
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

/** `PartitionBatch.assignment`: one counter for the whole process, so no two subscriptions share a value. */
let assignments = 0;
const nextAssignment = () => ++assignments;

const CONNECTION_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 10000;

export class KafkajsEventLog implements EventLog {
  /**
   * An attempt that started before `sendBy` connects (≤ the connection timeout) and may queue its
   * request behind the producer's previous one to that broker (≤ the request timeout), plus slack.
   */
  readonly sendOverrunMs = CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS + 1000;
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;

  constructor(settings: KafkajsSettings, log: Logger) {
    const toPino = (level: logLevel) =>
      level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          log[toPino(level)]({ kafka: rest }, `kafka: ${message}`);
        },
    });
  }

  /** One admin connection per log, opened on first use; a failed connect is retried on the next call. */
  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const a = this.kafka.admin();
      await a.connect();
      return a;
    })().catch((err: unknown) => {
      this.admin = undefined;
      throw err;
    });
    return this.admin;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10000 });
  }

  async openProducer(): Promise<LogProducer> {
    const current: SendInProgress = { sendBy: undefined, messages: 0, passed: 0 };
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: boundedRecordingPartitioner(current),
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
    });
    await producer.connect();
    return new KafkajsProducer(producer, current);
  }

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 15000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 10 },
    });
    let state: SubscriptionState = 'joining';
    let markJoined: () => void = () => undefined;
    const joined = new Promise<void>((resolve) => (markJoined = resolve));
    let assignment = nextAssignment();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // kafkajs rebalances eagerly: every join revokes and reassigns every partition.
      assignment = nextAssignment();
      if (state === 'joining' || state === 'consuming') state = 'consuming';
      markJoined();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) state = 'failed';
      opts.onCrash?.(e.payload.error, e.payload.restart);
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning ?? true });
    } catch (err) {
      // Not left connected behind a failed subscribe (e.g. a broker still loading its partitions).
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        const stillOurs = () => state !== 'stopped' && isRunning() && !isStale();
        const records = batch.messages.map((m) => plainRecord(batch.topic, batch.partition, m));
        await opts.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records,
          assignment,
          stillOurs,
          heartbeat,
          commit: async (nextOffset) => {
            resolveOffset(String(nextOffset - 1));
            await commitOffsetsIfNecessary({
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(nextOffset) }] }],
            });
          },
        });
        const last = batch.messages[batch.messages.length - 1];
        if (last && stillOurs()) resolveOffset(last.offset);
      },
    });
    return {
      joined,
      state: () => state,
      pause: () => consumer.pause([{ topic: opts.topic }]),
      resume: () => consumer.resume([{ topic: opts.topic }]),
      async stop() {
        state = 'stopped';
        await consumer.disconnect();
      },
    };
  }

  async endOffsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.connectedAdmin();
    // Asking for the offsets of an absent topic retries for seconds before failing: look first.
    if (!(await admin.listTopics()).includes(topic)) return [];
    return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const admin = await this.connectedAdmin();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((committed?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
  }

  partitionOf(key: string, partitions: number): number {
    const partitioner = Partitioners.DefaultPartitioner();
    return partitioner({
      topic: 'any',
      partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      })),
      message: { key, value: null },
    });
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await (await admin?.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}
