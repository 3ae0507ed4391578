/**
 * The event-log seam: everything the platform asks of Kafka, in the platform's own terms.
 * One adapter file implements it for one client library: `kafkajs-adapter.ts` the whole log,
 * `platformatic-producer.ts` the producer alone (a `ProducerClient`); `createEventLog` in
 * `kafka.ts` puts them together. Nothing outside `src/stream/` sees a client type. See
 * docs/cqrs.md, "The event-log seam".
 */

/** Header values are UTF-8 strings (trace context, `x-*` metadata); the platform sends no binary headers. */
export type RecordHeaders = Record<string, string>;

/** A record as it sits in the log. */
export interface LogRecord {
  topic: string;
  partition: number;
  /** Position in the partition. Numbers are exact up to 2^53, far beyond any partition's length. */
  offset: number;
  key: string | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

/** A record to append; its partition follows from its key (murmur2, as the Java clients pick it). */
export interface NewRecord {
  key: string | null;
  value: Buffer | string;
  headers?: RecordHeaders;
}

/**
 * An idempotent producer that appends with acks=all. One `send` is one request: it resolves once
 * every record is acknowledged by all in-sync replicas and rejects otherwise. After a rejection the
 * records' outcome is unknown (some partitions of the request may have appended them), except for
 * `RecordsTooLargeError` and `PartlyAcknowledgedError`, and the producer must not be used again:
 * its sequence numbers may be stale, which could make the broker take a later batch for a
 * duplicate. Close it and open another.
 */
export interface LogProducer {
  /**
   * `sendBy` (epoch ms): no attempt of this send, the client's own retries included, starts
   * later; a request written before it reaches the broker within the log's `sendOverrunMs`.
   * Past it the send rejects with `SendBudgetSpentError` (the outcome of earlier attempts unknown).
   */
  send(topic: string, records: readonly NewRecord[], sendBy?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The broker refused a request because a batch is larger than it accepts (`message.max.bytes`,
 * MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE). The refused partition's batch was not appended;
 * other partitions of the same request may have been.
 */
export class RecordsTooLargeError extends Error {}

/**
 * The client reported success, but not every partition of the request acknowledged it: the
 * records at `acknowledged` (indexes into the batch) are durable, the others' outcome is unknown.
 * (kafkajs 2.2.4 answers success for a partition whose leader moved, during its own retry, to a
 * broker that had already answered for its other partitions, without sending it there again:
 * tulios/kafkajs#1303, #1798.)
 */
export class PartlyAcknowledgedError extends Error {
  constructor(
    message: string,
    readonly acknowledged: ReadonlySet<number>,
  ) {
    super(message);
  }
}

/**
 * A send's `sendBy` passed before the client's next attempt: not sent again. `mayHaveSent`: an
 * earlier attempt went out, so the records' outcome is unknown; false: nothing was sent at all.
 */
export class SendBudgetSpentError extends Error {
  constructor(
    message: string,
    readonly mayHaveSent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One fetched run of records of one partition, in log order, handed to `onBatch`. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
  /**
   * Changes whenever this member's partitions may have been reassigned (each group join, across
   * every subscription of the process): what a handler learned of a partition under one value
   * may be stale under another, because another member may have written for it in between.
   */
  assignment: number;
  /** False once the partition was taken away (rebalance) or the consumer is stopping: stop, commit nothing. */
  stillOurs(): boolean;
  /** Tells the group this member is alive during long work on the batch. */
  heartbeat(): Promise<void>;
  /** Commits the group's position for this partition: `nextOffset` is the offset after the last record handled. */
  commit(nextOffset: number): Promise<void>;
}

export interface ConsumeOptions {
  groupId: string;
  topic: string;
  /** Where a group without a committed offset starts (default: the beginning). */
  fromBeginning?: boolean;
  /** Partitions handled at the same time by this member (default 1). */
  partitionsConcurrently?: number;
  sessionTimeoutMs?: number;
  /**
   * Handles one partition's batch. The fetch position moves past the batch once this returns
   * (while the partition is still ours); the group's committed offset moves only by `commit`.
   */
  onBatch(batch: PartitionBatch): Promise<void>;
  /** The client hit an error; `restarting` false means it gave up for good (restart the process). */
  onCrash?(err: Error, restarting: boolean): void;
}

export type SubscriptionState = 'joining' | 'consuming' | 'failed' | 'stopped';

export interface Subscription {
  /** Resolves once the consumer joined its group for the first time. */
  readonly joined: Promise<void>;
  state(): SubscriptionState;
  /** Stops fetching (the member stays in the group); `resume` goes on where it stopped. */
  pause(): void;
  resume(): void;
  /** Leaves the group; nothing more is committed. */
  stop(): Promise<void>;
}

/** A partition's offsets: `low` is the first record still kept, `high` the offset the next record gets. */
export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs?: Record<string, string>;
}

/** A second client library for the producer alone (the purchase path's one Kafka cost). */
export interface ProducerClient {
  readonly name: string;
  /** As `EventLog.sendOverrunMs`, for this client's producers. */
  readonly sendOverrunMs: number;
  openProducer(): Promise<LogProducer>;
}

export interface EventLog {
  /**
   * How long after a send's `sendBy` one of its requests can still reach a broker (a connect and
   * a request queued behind a slow one). The failover re-mark waits the purchase timeout plus this.
   */
  readonly sendOverrunMs: number;
  /** Creates the topics that are absent (idempotent). */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Deletes topics; absent ones are ignored. For tests, the load lab and the bench. */
  deleteTopics(names: readonly string[]): Promise<void>;
  /** A connected producer (idempotent, acks=all). */
  openProducer(): Promise<LogProducer>;
  /** Joins a consumer group and hands it batches; resolves once subscribed (`joined` says when it is in the group). */
  consume(opts: ConsumeOptions): Promise<Subscription>;
  /** Per partition, the first kept and the next offset; an absent topic has no partitions. */
  endOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** The group's committed offset per partition; partitions it never committed are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  /** The partition a producer of this log puts `key` on, for a topic of `partitions` partitions. */
  partitionOf(key: string, partitions: number): number;
  /** Releases the shared connections (producers and subscriptions are closed by their owners). */
  close(): Promise<void>;
}
