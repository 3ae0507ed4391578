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
 * - the send budget: no produce attempt starts, and no produce request is written, past
 *   `sendBy`. An attempt (first, retry, or the library's own re-sends after stale metadata or a
 *   lost producer id) fetches metadata and connects before it writes, which can take seconds, so
 *   there are two checks: where the library starts an attempt (`kPerformWithRetry`, called
 *   through `this` for every retry) and where it hands the request to the connection (the
 *   `Produce` API function it gets from `kGetApi`, wrapped). Their test is
 *   `test/cqrs/sender-failed-producer.test.ts`.
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
/** The broker's wait for the replicas: below the client's request timeout, so the broker answers (REQUEST_TIMED_OUT, retriable) first. */
const PRODUCE_TIMEOUT_MS = 8000;
/**
 * A request handed to its connection before `sendBy` may wait there behind the one request in
 * flight on it (≤ the request timeout) before it goes out on the socket; plus slack.
 */
export const PLATFORMATIC_SEND_OVERRUN_MS = REQUEST_TIMEOUT_MS + 4000;
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
  // A MultipleErrors (a ResponseError too: one ProtocolError per failed partition) lists its errors.
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* errorTree(inner, depth + 1);
  if (e.cause) yield* errorTree(e.cause, depth + 1);
}

const budgetSpent = (err: unknown): boolean => [...errorTree(err)].some((e) => e instanceof SendBudgetSpentError);

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

type ApiFunction = ((...args: unknown[]) => void) & Record<string, unknown>;

const spentMessage = (started: boolean) =>
  started
    ? 'the send budget passed before the Kafka client could try again; the records were not sent again'
    : 'the send budget passed before the first attempt; nothing was sent';

/**
 * The producer, refusing to start a produce attempt or to write a produce request past the
 * send's `sendBy`: the attempt or request gets a non-retriable error (a `UserError` caused by
 * `SendBudgetSpentError`), so the library gives the send up and sends nothing more. The write
 * check sits where the request is handed to the connection, after the attempt's metadata fetch
 * and connect, which can take seconds.
 */
class BudgetedProducer extends kafka.Producer<Buffer, Buffer, Buffer, Buffer> {
  readonly current: SendInProgress = { sendBy: undefined, started: false };

  private spent(): Error | undefined {
    const { sendBy, started } = this.current;
    if (sendBy === undefined || Date.now() <= sendBy) return undefined;
    return new kafka.UserError(spentMessage(started), { cause: new SendBudgetSpentError(spentMessage(started), started) });
  }

  /**
   * An attempt (first or retry) that would start past `sendBy` does not start: against a broker
   * that accepts connections but does not answer, each retry spends its time on metadata and
   * connects and never reaches the write below, so this is what ends the send by the budget.
   */
  override [kafka.kPerformWithRetry]<R>(
    operationId: string,
    operation: unknown,
    callback: (err: Error | null, r?: R) => void,
    ...rest: unknown[]
  ): void {
    const late = operationId === 'produce' ? this.spent() : undefined;
    if (late) return callback(late);
    // The base method's signature is internal to the library; hand it what it was given.
    (super[kafka.kPerformWithRetry] as (...args: unknown[]) => void)(operationId, operation, callback, ...rest);
  }

  override [kafka.kGetApi]<A extends unknown[], R>(name: string, callback: (err: Error | null, api?: never) => void): void {
    if (name !== 'Produce') return super[kafka.kGetApi]<A, R>(name, callback as never);
    const withBudget = (err: Error | null, api?: ApiFunction) => {
      if (err || !api) return callback(err);
      const bounded = (...args: unknown[]) => {
        const late = this.spent();
        if (late) return (args[args.length - 1] as (err: Error) => void)(late);
        this.current.started = true;
        api(...args);
      };
      // The API function carries its version (the library reads `api.version`).
      callback(null, Object.assign(bounded, api) as never);
    };
    super[kafka.kGetApi]<A, R>(name, withBudget as never);
  }
}

class PlatformaticProducer implements LogProducer {
  constructor(private readonly producer: BudgetedProducer) {}

  async send(topic: string, records: readonly NewRecord[], sendBy?: number): Promise<void> {
    Object.assign(this.producer.current, { sendBy, started: false });
    const messages = records.map((r) => ({
      topic,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      ...(r.headers ? { headers: headerBuffers(r.headers) } : {}),
    }));
    let produced: { offsets?: { topic: string; partition: number }[] };
    try {
      produced = await this.producer.send({ messages });
    } catch (err) {
      if (budgetSpent(err)) {
        // Whether any request of this send went out, whichever destination's error came first.
        const { started } = this.producer.current;
        throw new SendBudgetSpentError(spentMessage(started), started, { cause: err });
      }
      if (isTooLarge(err))
        throw new RecordsTooLargeError(`the broker refused the batch as too large (${(err as Error).message})`, { cause: err });
      throw err;
    }
    const acked = new Set((produced.offsets ?? []).filter((o) => o.topic === topic).map((o) => o.partition));
    // The count the library partitioned this send with: its metadata, as fresh as this send.
    const count = this.producer.currentMetadata?.topics.get(topic)?.partitionsCount ?? 0;
    const acknowledged = new Set<number>();
    messages.forEach((m, i) => {
      if (acked.has((murmurOf.get(m) ?? -1) % count)) acknowledged.add(i);
    });
    if (acknowledged.size < records.length) {
      throw new PartlyAcknowledgedError(
        `the Kafka client reported success, but ${records.length - acknowledged.size} of ${records.length} records were in partitions without an acknowledgement; their outcome is unknown`,
        acknowledged,
      );
    }
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

/**
 * The library's murmur2 of each message's key, as its partitioner computed it for the send (the
 * library takes it modulo the partition count): the acknowledgement check reads it back instead
 * of hashing every key a second time. The library hands the partitioner our message objects, so
 * a WeakMap keyed by them needs no cleanup.
 */
const murmurOf = new WeakMap<object, number>();
const recordingPartitioner = (message: object, key: Buffer | undefined): number => {
  const p = kafka.compatibilityPartitioner(message as never, key);
  murmurOf.set(message, p);
  return p;
};

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
        timeout: PRODUCE_TIMEOUT_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        autocreateTopics: false,
        partitioner: recordingPartitioner,
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
