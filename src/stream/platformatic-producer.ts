import { createRequire } from 'node:module';
import type * as Platformatic from '@platformatic/kafka' with { 'resolution-mode': 'import' };
import type { Logger } from '../observability/logger';
import {
  PartlyAcknowledgedError,
  RecordsTooLargeError,
  SendBudgetSpentError,
  type LogProducer,
  type NewRecord,
  type ProducerClient,
} from './event-log';

/**
 * The purchase path's producer on `@platformatic/kafka` (issue 16: 0.40× kafkajs's CPU per record,
 * docs/performance.md "Kafka client"). Consumers and admin stay on kafkajs (`kafkajs-adapter.ts`):
 * they are off the purchase path, and kafkajs is proven there. `KAFKA_PRODUCER_CLIENT=kafkajs`
 * puts the producer back on kafkajs without a rebuild.
 *
 * What the platform needs of it, and how this file gets it:
 * - idempotent with acks=all: `idempotent: true` forces acks=all and one request in flight.
 * - murmur2 partitions as the Java clients and kafkajs: `compatibilityPartitioner` (its default
 *   partitioner puts keys on other partitions).
 * - bounded retries (an idempotent producer's default is unbounded).
 * - the send budget: no attempt starts past `sendBy`. The client's one retry hook per attempt is
 *   its `kPerformWithRetry`, which it calls again for every retry through `this`; a subclass
 *   refuses an attempt there. Its test is `test/cqrs/sender-failed-producer.test.ts`.
 * - every record reported durable is: a produce response with any partition error fails the
 *   whole request (it retries all of it, with the same sequence numbers, which the broker
 *   deduplicates), and the adapter still checks that each record's partition answered.
 */

// An ES module: loaded through Node's require(esm), as the other ES-module dependencies.
const kafka = createRequire(__filename)('@platformatic/kafka') as typeof Platformatic;

export interface PlatformaticSettings {
  brokers: string[];
  clientId: string;
}

const CONNECT_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 10000;
/** An attempt started before `sendBy` connects (≤ the connect timeout), then waits for its answer (≤ the request timeout). */
export const PLATFORMATIC_SEND_OVERRUN_MS = CONNECT_TIMEOUT_MS + REQUEST_TIMEOUT_MS + 1000;
/**
 * Opening a producer (a connection and its producer id) gives up after one connect and one
 * request's time: the client's own retries towards a broker that accepts connections but does
 * not answer (a frozen process) would take a minute, and the sender's slot waits on it.
 */
const OPEN_TIMEOUT_MS = CONNECT_TIMEOUT_MS + REQUEST_TIMEOUT_MS;

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The client nests errors (`errors` of a MultipleErrors, `cause`); every error in the tree, depth-first. */
function* errorTree(err: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (!err || typeof err !== 'object' || depth > 8) return;
  const e = err as Record<string, unknown>;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* errorTree(inner, depth + 1);
  if (e.cause) yield* errorTree(e.cause, depth + 1);
  // A ResponseError keeps the broker's codes per path: { '/responses/0/…': [code, message] }.
  if (e.errors && typeof e.errors === 'object' && !Array.isArray(e.errors))
    for (const v of Object.values(e.errors as Record<string, unknown>)) yield* errorTree(v, depth + 1);
}

function budgetSpent(err: unknown): SendBudgetSpentError | undefined {
  for (const e of errorTree(err)) if (e instanceof SendBudgetSpentError) return e;
  return undefined;
}

function isTooLarge(err: unknown): boolean {
  for (const e of errorTree(err)) if (typeof e.apiId === 'string' && TOO_LARGE.has(e.apiId)) return true;
  return false;
}

/** Strings as UTF-8, Buffers as they are (the library's string serializer drops Buffers). */
const toBuffer = (v: string | Buffer | null | undefined): Buffer | undefined =>
  v == null ? undefined : typeof v === 'string' ? Buffer.from(v, 'utf8') : v;

/** The send in progress on one producer (it has one request in flight at a time). */
interface SendInProgress {
  sendBy: number | undefined;
  /** A produce attempt of this send went past the budget check (it may have reached a broker). */
  started: boolean;
}

/**
 * The producer, refusing a produce attempt, first or retry, that would start past the send's
 * `sendBy`: the client then gives the send up (a non-retriable error) and sends nothing more.
 */
class BudgetedProducer extends kafka.Producer<Buffer, Buffer, Buffer, Buffer> {
  readonly current: SendInProgress = { sendBy: undefined, started: false };

  override [kafka.kPerformWithRetry]<R>(
    operationId: string,
    operation: unknown,
    callback: (err: Error | null, r?: R) => void,
    ...rest: unknown[]
  ): void {
    if (operationId === 'produce') {
      const { sendBy, started } = this.current;
      if (sendBy !== undefined && Date.now() > sendBy) {
        callback(
          new SendBudgetSpentError(
            started
              ? 'the send budget passed before the Kafka client could try again; the records were not sent again'
              : 'the send budget passed before the first attempt; nothing was sent',
            started,
          ),
        );
        return;
      }
      this.current.started = true;
    }
    // The base method's signature is internal to the library; hand it what it was given.
    (super[kafka.kPerformWithRetry] as (...args: unknown[]) => void)(operationId, operation, callback, ...rest);
  }
}

class PlatformaticProducer implements LogProducer {
  /** Partitions per topic, as the producer saw them on its first send to it (they never shrink). */
  private readonly partitions = new Map<string, number>();

  constructor(private readonly producer: BudgetedProducer) {}

  async send(topic: string, records: readonly NewRecord[], sendBy?: number): Promise<void> {
    Object.assign(this.producer.current, { sendBy, started: false });
    let produced: { offsets?: { topic: string; partition: number }[] };
    try {
      produced = await this.producer.send({
        messages: records.map((r) => ({
          topic,
          key: toBuffer(r.key),
          value: toBuffer(r.value),
          ...(r.headers ? { headers: headerBuffers(r.headers) } : {}),
        })),
      });
    } catch (err) {
      const spent = budgetSpent(err);
      if (spent) throw new SendBudgetSpentError(spent.message, spent.mayHaveSent, { cause: err });
      if (isTooLarge(err))
        throw new RecordsTooLargeError(`the broker refused the batch as too large (${(err as Error).message})`, { cause: err });
      throw err;
    }
    const acked = new Set((produced.offsets ?? []).filter((o) => o.topic === topic).map((o) => o.partition));
    const count = await this.partitionCount(topic);
    const acknowledged = new Set<number>();
    records.forEach((r, i) => {
      if (acked.has(partitionFor(r.key, count))) acknowledged.add(i);
    });
    if (acknowledged.size < records.length) {
      throw new PartlyAcknowledgedError(
        `the Kafka client reported success, but ${records.length - acknowledged.size} of ${records.length} records were in partitions without an acknowledgement; their outcome is unknown`,
        acknowledged,
      );
    }
  }

  private async partitionCount(topic: string): Promise<number> {
    let n = this.partitions.get(topic);
    if (n === undefined) {
      const metadata = await this.producer.metadata({ topics: [topic] });
      n = metadata.topics.get(topic)?.partitionsCount ?? 0;
      this.partitions.set(topic, n);
    }
    return n;
  }

  async close(): Promise<void> {
    await this.producer.close().catch(() => undefined);
  }
}

function headerBuffers(headers: Record<string, string>): Map<Buffer, Buffer> {
  const out = new Map<Buffer, Buffer>();
  for (const [k, v] of Object.entries(headers)) out.set(Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8'));
  return out;
}

/** The partition `compatibilityPartitioner` puts a key on (murmur2 & 0x7fffffff, modulo the count), as the Java clients. */
export function partitionFor(key: string | null, partitions: number): number {
  if (partitions <= 0) return -1;
  const k = toBuffer(key);
  return kafka.compatibilityPartitioner(undefined as never, k) % partitions;
}

export function platformaticProducers(settings: PlatformaticSettings, log: Logger): ProducerClient {
  return {
    name: '@platformatic/kafka',
    sendOverrunMs: PLATFORMATIC_SEND_OVERRUN_MS,
    async openProducer(): Promise<LogProducer> {
      const producer = new BudgetedProducer({
        clientId: settings.clientId,
        bootstrapBrokers: settings.brokers,
        idempotent: true,
        acks: kafka.ProduceAcks.ALL,
        compression: 'none',
        retries: 5,
        retryDelay: 100,
        timeout: REQUEST_TIMEOUT_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        autocreateTopics: false,
        partitioner: kafka.compatibilityPartitioner,
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        // The producer id is fetched on the first send otherwise: fetch it now, as a connect would.
        await Promise.race([
          producer.initIdempotentProducer({}),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `no Kafka broker gave the producer an id within ${OPEN_TIMEOUT_MS} ms; check KAFKA_BROKERS and the brokers' health`,
                  ),
                ),
              OPEN_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (err) {
        await producer.close(true).catch(() => undefined);
        log.warn({ err }, 'kafka: the producer could not get a producer id');
        throw err;
      } finally {
        clearTimeout(timer);
      }
      return new PlatformaticProducer(producer);
    },
  };
}
