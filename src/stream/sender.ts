import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import {
  PartlyAcknowledgedError,
  RecordsTooLargeError,
  SendBudgetSpentError,
  type EventLog,
  type LogProducer,
  type NewRecord,
} from './event-log';

/** The record was never handed to Kafka: it certainly is not in the log. */
export class NotSentError extends Error {}
/** The record was handed to Kafka but no acknowledgement came: it may or may not be in the log. */
export class OutcomeUnknownError extends Error {}
/** The record alone is larger than a batch may be, so it was never sent (it is not in the log). */
export class RecordTooLargeError extends NotSentError {}

/**
 * What a record adds to a batch on the wire, beyond its key, value and headers: the record's
 * own varints, attributes and deltas (at most ~36 bytes) and ~10 bytes per header. The batch and
 * request headers add about 160 bytes. Generous on purpose: the bound must hold, not be tight.
 */
const RECORD_OVERHEAD = 40;
/** A record with less send budget left than this is not put in a batch (it would cut the batch's retries short). */
const MIN_SEND_BUDGET_MS = 100;
const HEADER_OVERHEAD = 10;
const BATCH_OVERHEAD = 160;

const byteLength = (v: Buffer | string | null | undefined) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/** The bytes a record takes in a batch (key, value, headers and framing). */
export function recordBytes(r: NewRecord): number {
  let n = RECORD_OVERHEAD + byteLength(r.key) + byteLength(r.value);
  for (const [k, v] of Object.entries(r.headers ?? {})) n += HEADER_OVERHEAD + Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

interface Queued {
  record: NewRecord;
  bytes: number;
  /** No attempt to send it starts later (epoch ms): see `send`. */
  sendBy: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SenderOptions {
  topic: string;
  lingerMs: number;
  maxBatch: number;
  /** A batch's size bound in bytes (records with framing); keep it below the broker's `message.max.bytes`. */
  maxBatchBytes: number;
  /** Idempotent producers allow one request in flight each; a pool overlaps batches. */
  producers: number;
  /**
   * A batch unacknowledged for this long opens the circuit: new records are refused. Also a
   * record's default send budget: no attempt to send it starts later than this after `send`.
   */
  stallMs: number;
}

/**
 * One batching sender per process. Records queue while produce requests are in flight and go
 * out together in the next one (acks=all, idempotent producers), so throughput grows with load
 * instead of sending one request per purchase. A batch is bounded by count and by bytes, so a
 * hot partition's batch stays within the broker's `message.max.bytes`. An idempotent producer
 * keeps one request in flight, so a small pool of producers overlaps batches; purchases need no
 * order among themselves (each record stands alone, consumers deduplicate by ticket id).
 *
 * Failures stay with their own records. A producer whose send failed never sends again, in
 * any state (open circuit, closing): its sequence numbers may be stale, and the broker would
 * take its next batch for a duplicate of one it appended and acknowledge it without appending
 * it. It is closed and a fresh producer (a new producer id) takes its slot. A batch the broker
 * still refuses as too large is sent again in halves on a fresh producer (a record it may
 * already hold is then a duplicate in the log, which consumers absorb), down to a single
 * record, which alone is refused as RecordTooLargeError; once a half fails, the halves after
 * it are not sent. Any other failed or stalled batch opens the circuit: the sender refuses
 * new records at once (NotSentError) until a probe reaches the broker again, so the purchase
 * path can answer 503 without holding seats.
 */
export class BatchingSender {
  private producers: (LogProducer | undefined)[] = [];
  private busy: boolean[] = [];
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private circuitOpen = false;
  private probing: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly eventLog: EventLog,
    private readonly opts: SenderOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.producers = await Promise.all(Array.from({ length: this.opts.producers }, () => this.eventLog.openProducer()));
    this.busy = this.producers.map(() => false);
  }

  private get inFlight(): boolean {
    return this.busy.some(Boolean);
  }

  private freeProducer(): number {
    return this.busy.findIndex((b, i) => !b && this.producers[i] !== undefined);
  }

  /** False while the broker is known to be unreachable: callers should not reserve seats. */
  get available(): boolean {
    return !this.circuitOpen && !this.closed && this.producers.length > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues a record; resolves once it is acknowledged. No attempt to send it, the client's
   * retries included, starts after `sendBy` (default: `stallMs` from now); a record still queued
   * then is refused (NotSentError). So a record reaches a broker by `sendBy` plus the log's
   * `sendOverrunMs` or never, and the failover re-mark can wait that out (docs/purchase-state-machine.md).
   */
  send(record: NewRecord, sendBy = Date.now() + this.opts.stallMs): Promise<void> {
    if (!this.available) return Promise.reject(new NotSentError('Kafka is unreachable; the record was not sent'));
    const bytes = recordBytes(record);
    if (bytes + BATCH_OVERHEAD > this.opts.maxBatchBytes) {
      return Promise.reject(
        new RecordTooLargeError(
          `The record takes ${bytes} bytes, more than a batch may (KAFKA_MAX_BATCH_BYTES=${this.opts.maxBatchBytes}); it was not sent. Make the record smaller, or raise KAFKA_MAX_BATCH_BYTES together with the broker's message.max.bytes.`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, bytes, sendBy, resolve, reject });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Stops taking records, sends what is queued, waits for the batch in flight, disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probing) clearInterval(this.probing);
    if (this.queue.length > 0 || this.inFlight) {
      this.schedule(true);
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    await Promise.all(this.producers.flatMap((p) => (p ? [p.close()] : [])));
    this.producers = [];
  }

  private schedule(now = false): void {
    if (this.freeProducer() < 0 || this.timer) return;
    const full = this.queue.length >= this.opts.maxBatch || this.queuedBytes + BATCH_OVERHEAD >= this.opts.maxBatchBytes;
    if (now || this.opts.lingerMs === 0 || full) {
      this.timer = setImmediate(() => this.flush()) as unknown as NodeJS.Timeout;
    } else {
      this.timer = setTimeout(() => this.flush(), this.opts.lingerMs);
    }
  }

  /** The next batch: queue order, at most `maxBatch` records and `maxBatchBytes` bytes (always at least one record). */
  private takeBatch(): Queued[] {
    let n = 0;
    let bytes = BATCH_OVERHEAD;
    while (n < this.queue.length && n < this.opts.maxBatch) {
      const next = this.queue[n]!.bytes;
      if (n > 0 && bytes + next > this.opts.maxBatchBytes) break;
      bytes += next;
      n++;
    }
    this.queuedBytes -= bytes - BATCH_OVERHEAD;
    return this.queue.splice(0, n);
  }

  /** Refuses the records whose send budget passed while they queued (their callers answered already). */
  private withinBudget(batch: Queued[]): Queued[] {
    // Almost spent counts as spent: one such record would bound the whole batch's retries.
    const cutoff = Date.now() + MIN_SEND_BUDGET_MS;
    const late = batch.filter((q) => q.sendBy < cutoff);
    if (late.length === 0) return batch;
    for (const q of late)
      q.reject(new NotSentError('the record waited past its send budget and was not sent; the sweep sends what Redis holds'));
    return batch.filter((q) => q.sendBy >= cutoff);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const slot = this.freeProducer();
    if (slot < 0) return;
    const batch = this.withinBudget(this.takeBatch());
    if (batch.length === 0) return this.queue.length > 0 ? this.schedule(true) : this.settleIdle();
    this.busy[slot] = true;
    if (this.queue.length > 0) this.schedule(true);
    const stall = setTimeout(() => this.openCircuit('a produce request is unacknowledged'), this.opts.stallMs);
    try {
      await this.deliver(slot, batch);
    } finally {
      clearTimeout(stall);
      this.busy[slot] = false;
    }
    if (this.circuitOpen) this.refuseQueued();
    if (this.queue.length > 0) this.schedule(this.closed);
    else this.settleIdle();
  }

  /**
   * Sends one batch on one producer and settles every record of it, truthfully. False when a
   * send failed: that batch (or the rest of it) is rejected, the producer retired, the circuit open.
   */
  private async deliver(slot: number, batch: Queued[]): Promise<boolean> {
    const producer = this.producers[slot];
    const stopTimer = metrics.kafkaProduceDuration.startTimer();
    try {
      if (!producer) throw new Error('producer not connected');
      await producer.send(
        this.opts.topic,
        batch.map((q) => q.record),
        Math.min(...batch.map((q) => q.sendBy)),
      );
    } catch (err) {
      // Whatever failed, this producer never sends again. kafkajs rolls its sequence numbers
      // back after a failed produce; if the broker did append the request, the next batch of
      // this producer would carry the same numbers and be answered "success" as a duplicate
      // without being appended: a sale acknowledged that is not in the log.
      this.retire(slot, producer);
      if (err instanceof RecordsTooLargeError) return this.sendInHalves(slot, batch);
      if (err instanceof SendBudgetSpentError) {
        // A record's deadline, not the broker, stopped it: the circuit stays closed. Sent before
        // (a retry refused): unknown, as any failed batch; never sent: refused, the sweep sends it.
        const why = `Kafka did not acknowledge in time: ${err.message}`;
        for (const q of batch) q.reject(err.mayHaveSent ? new OutcomeUnknownError(why) : new NotSentError(why));
        if (!(await this.replaceProducer(slot))) this.openCircuit('no producer could be connected after a send ran out of time');
        return false;
      }
      if (err instanceof PartlyAcknowledgedError) {
        // The acknowledged ones are durable: say so. The rest are unknown, like any failed batch.
        stopTimer();
        for (const i of err.acknowledged) batch[i]!.resolve();
        this.fail(
          batch.filter((_, i) => !err.acknowledged.has(i)),
          err,
        );
        return false;
      }
      this.fail(batch, err as Error);
      return false;
    }
    stopTimer();
    metrics.kafkaBatchSize.observe(batch.length);
    for (const q of batch) q.resolve();
    return true;
  }

  /**
   * The broker is fine; its message.max.bytes is below this batch. The halves go out on a fresh
   * producer, one after the other; once one fails, the rest are not sent on that producer.
   */
  private async sendInHalves(slot: number, batch: Queued[]): Promise<boolean> {
    const bytes = batch.reduce((s, q) => s + q.bytes, BATCH_OVERHEAD);
    if (!(await this.replaceProducer(slot))) {
      this.fail(batch, new Error('no producer could be connected after a refused batch'));
      return false;
    }
    if (batch.length === 1) {
      batch[0]!.reject(
        new RecordTooLargeError(
          `The broker refused a record of ${bytes} bytes as too large; it was not stored. Raise the broker's message.max.bytes or make the record smaller.`,
        ),
      );
      return true;
    }
    this.log.warn(
      { records: batch.length, bytes, maxBatchBytes: this.opts.maxBatchBytes },
      "the broker refused a batch as too large; sending it in halves (set KAFKA_MAX_BATCH_BYTES below the broker's message.max.bytes)",
    );
    const mid = Math.ceil(batch.length / 2);
    if (!(await this.deliver(slot, batch.slice(0, mid)))) {
      // Not sent again, but they were in the refused request, which may have appended them on
      // another partition: their outcome is unknown (the sweep re-sends them with the same ids).
      for (const q of batch.slice(mid))
        q.reject(new OutcomeUnknownError('Kafka did not acknowledge: another part of the batch failed, so this part was not sent again'));
      return false;
    }
    return this.deliver(slot, batch.slice(mid));
  }

  /** A batch without an acknowledgement: its records' outcome is unknown, and the broker is suspect. */
  private fail(batch: Queued[], err: Error): void {
    this.log.warn({ err, batch: batch.length }, 'kafka produce failed; outcome of the batch is unknown');
    for (const q of batch) q.reject(new OutcomeUnknownError(`Kafka did not acknowledge: ${err.message}`));
    this.openCircuit(err.message);
  }

  /** Takes a producer whose send failed out of its slot for good and closes it. */
  private retire(slot: number, producer: LogProducer | undefined): void {
    if (this.producers[slot] === producer) this.producers[slot] = undefined;
    void producer?.close();
  }

  /** Connects a fresh producer (a new producer id) into a retired slot. */
  private async replaceProducer(slot: number): Promise<boolean> {
    try {
      const fresh = await this.eventLog.openProducer();
      this.producers[slot] = fresh;
      return true;
    } catch (err) {
      this.log.warn({ err }, 'could not connect a fresh producer');
      return false;
    }
  }

  private settleIdle(): void {
    if (this.inFlight || this.queue.length > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private refuseQueued(): void {
    this.queuedBytes = 0;
    for (const q of this.queue.splice(0)) q.reject(new NotSentError('Kafka is unreachable; the record was not sent'));
  }

  /**
   * Refuses what is queued and, unless closing, probes the broker until it answers. While
   * closing too: the queue is refused rather than sent towards a broker that just failed (its
   * records stay RESERVED for the sweep), and the drain ends instead of waiting on it.
   */
  private openCircuit(reason: string): void {
    if (this.circuitOpen) return;
    this.circuitOpen = true;
    this.log.error({ reason }, 'kafka circuit open: purchases are refused until the broker answers again');
    this.refuseQueued();
    if (!this.closed) this.probing = setInterval(() => void this.probe(), 1000);
  }

  /** Reconnects fresh producers (new producer ids, so no stale sequence numbers) and closes the circuit. */
  private async probe(): Promise<void> {
    if (this.inFlight || !this.circuitOpen) return;
    try {
      const attempts = await Promise.allSettled(this.producers.map(() => this.eventLog.openProducer()));
      const fresh = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      if (fresh.length < attempts.length) {
        for (const p of fresh) void p.close();
        throw new Error('not every producer could connect');
      }
      if (this.closed) {
        for (const p of fresh) void p.close();
        return;
      }
      const old = this.producers;
      this.producers = fresh;
      for (const p of old) void p?.close();
      this.circuitOpen = false;
      if (this.probing) clearInterval(this.probing);
      this.probing = undefined;
      this.log.info('kafka circuit closed: the broker answers again');
    } catch (err) {
      this.log.debug({ err }, 'kafka probe failed');
    }
  }
}
