import { metrics } from '../observability/metrics';
import { startConsumerSpan } from '../observability/trace-context';
import type { Logger } from '../observability/logger';
import type { EventLog, LogProducer, LogRecord, PartitionBatch, Subscription } from './event-log';
import { consumerLag } from './progress';

/** A record a handler could not use, with the reason that goes into `x-dlq-reason`. */
export interface DeadLetter {
  record: LogRecord;
  reason: string;
}

/** What a handler did with a chunk of records. Everything but `deadLetters` must be durable. */
export interface HandledChunk {
  ok: number;
  duplicate: number;
  deadLetters: DeadLetter[];
}

/**
 * Test-only fault hooks, handed in by whoever starts the loop (never read from globals or the
 * configuration). `crashBeforeCommit(groupId)` returning true makes the consumer behave like a
 * process killed after its durable write and before the offset commit: nothing is committed,
 * the consumer drops out of its group.
 */
export interface ConsumerFaults {
  crashBeforeCommit?: (groupId: string) => boolean;
}

export interface ConsumerLoopOptions {
  eventLog: EventLog;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  /**
   * Writes a chunk of one partition's records (in log order) durably; throws on a store failure.
   * `batch` says which assignment the chunk was fetched under and keeps the member in its group.
   */
  handle(records: LogRecord[], partition: number, batch: Pick<PartitionBatch, 'assignment' | 'heartbeat'>): Promise<HandledChunk>;
  log: Logger;
  /** Records handed to `handle` at once (one partition). */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  lagIntervalMs?: number;
  faults?: ConsumerFaults;
}

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
 * written durably by `handle`, poison records dead-lettered (acks=all), and only then the
 * offsets committed. A crash anywhere before the commit means redelivery, which the handlers
 * absorb because their writes are idempotent.
 */
export async function startConsumerLoop(opts: ConsumerLoopOptions): Promise<ConsumerLoop> {
  const { eventLog, groupId, topic, log } = opts;
  const chunkSize = opts.chunkSize ?? 500;
  let crashed = false;
  let stopping = false;
  let deadLetterProducer: Promise<LogProducer> | undefined;
  // Set once consume() returns; onBatch may run before that, so it is not a const (TDZ).
  let subscription: Subscription | undefined = undefined;

  /** Retries a step until it succeeds or the partition is no longer ours. */
  async function untilDone<T>(what: string, fn: () => Promise<T>, batch: PartitionBatch, stillOurs: () => boolean): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!stillOurs()) return undefined;
        const wait = Math.min(5000, 100 * 2 ** attempt);
        log.warn({ err, groupId, attempt }, `${what} failed; retrying in ${wait} ms (offsets stay uncommitted)`);
        await sleep(wait);
        await batch.heartbeat().catch(() => undefined);
        if (!stillOurs()) return undefined;
      }
    }
  }

  /** Produces the dead letters with acks=all on a producer of their own; a failed producer is replaced. */
  async function sendDeadLetters(partition: number, letters: DeadLetter[]): Promise<true> {
    deadLetterProducer ??= eventLog.openProducer();
    const producer = await deadLetterProducer.catch((err: unknown) => {
      deadLetterProducer = undefined;
      throw err;
    });
    try {
      await producer.send(
        opts.deadLetterTopic,
        letters.map(({ record, reason }) => ({
          key: record.key,
          value: record.value ?? '',
          headers: {
            ...record.headers,
            'x-dlq-reason': reason.slice(0, 1000),
            'x-dlq-group': groupId,
            'x-dlq-source-partition': String(partition),
            'x-dlq-source-offset': String(record.offset),
          },
        })),
      );
    } catch (err) {
      // The log's contract: a producer that failed a send is not used again (stale sequence numbers).
      deadLetterProducer = undefined;
      void producer.close();
      throw err;
    }
    return true;
  }

  async function onBatch(batch: PartitionBatch): Promise<void> {
    const stillOurs = () => !crashed && !stopping && batch.stillOurs();
    for (let i = 0; i < batch.records.length && stillOurs(); i += chunkSize) {
      const chunk = batch.records.slice(i, i + chunkSize);
      const spans = chunk.map((r) => startConsumerSpan(`${topic} persist (${groupId})`, r.headers));
      const done = await untilDone('store write', () => opts.handle(chunk, batch.partition, batch), batch, stillOurs).finally(() => {
        for (const span of spans) span.end();
      });
      if (!done) return;
      if (done.deadLetters.length > 0) {
        const sent = await untilDone('dead-letter produce', () => sendDeadLetters(batch.partition, done.deadLetters), batch, stillOurs);
        if (!sent) return;
      }
      if (opts.faults?.crashBeforeCommit?.(groupId)) {
        crashed = true;
        log.warn({ groupId }, 'fault hook: consumer dropped after the write, before the commit');
        void subscription?.stop().catch(() => undefined);
        return;
      }
      metrics.consumerMessages.inc({ group: groupId, outcome: 'ok' }, done.ok);
      if (done.duplicate) metrics.consumerMessages.inc({ group: groupId, outcome: 'duplicate' }, done.duplicate);
      if (done.deadLetters.length) metrics.consumerMessages.inc({ group: groupId, outcome: 'dead_letter' }, done.deadLetters.length);
      await batch.commit(chunk[chunk.length - 1]!.offset + 1);
      await batch.heartbeat();
    }
  }

  const sub = await eventLog.consume({
    groupId,
    topic,
    partitionsConcurrently: opts.partitionsConsumedConcurrently ?? 3,
    onBatch,
    onCrash: (err, restarting) =>
      log.error(
        { err, groupId, restart: restarting },
        restarting ? 'consumer crashed; the client restarts it' : 'consumer crashed for good; restart the process',
      ),
  });
  subscription = sub;
  if (crashed) void sub.stop().catch(() => undefined);

  const lagTimer = setInterval(() => {
    void consumerLag(eventLog, groupId, topic)
      .then((lag) => metrics.consumerLag.set({ group: groupId }, lag))
      .catch((err) => log.debug({ err }, 'lag probe failed'));
  }, opts.lagIntervalMs ?? 5000);
  lagTimer.unref();

  return {
    groupId,
    started: sub.joined,
    get crashed() {
      return crashed;
    },
    async check() {
      if (crashed) throw new Error(`consumer ${groupId} crashed (fault hook)`);
      // The client gave up for good: readiness turns red so the pod is restarted.
      const state = sub.state();
      if (state === 'joining') throw new Error(`consumer ${groupId} has not joined its group yet`);
      if (state !== 'consuming') throw new Error(`consumer ${groupId} is ${state}; restart the process`);
    },
    async stop() {
      stopping = true;
      clearInterval(lagTimer);
      await sub.stop().catch((err) => log.warn({ err }, 'consumer disconnect failed'));
      await (await deadLetterProducer?.catch(() => undefined))?.close();
      metrics.consumerLag.remove({ group: groupId });
    },
  };
}
