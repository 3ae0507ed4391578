import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';

/** The record was never handed to Kafka: it certainly is not in the log. */
export class NotSentError extends Error {}
/** The record was handed to Kafka but no acknowledgement came: it may or may not be in the log. */
export class OutcomeUnknownError extends Error {}

interface Queued {
  message: Message;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SenderOptions {
  topic: string;
  lingerMs: number;
  maxBatch: number;
  /** Idempotent producers allow one request in flight each; a pool overlaps batches. */
  producers: number;
  /** A batch unacknowledged for this long opens the circuit: new records are refused. */
  stallMs: number;
}

/**
 * One batching sender per process. Records queue while produce requests are in flight and go
 * out together in the next one (acks=all, idempotent producers), so throughput grows with load
 * instead of sending one request per purchase. An idempotent kafkajs producer keeps one request
 * in flight, so a small pool of producers overlaps batches; purchases need no order among
 * themselves (each record stands alone, consumers deduplicate by ticket id).
 *
 * Circuit: after a failed or stalled batch the sender refuses new records at once
 * (NotSentError) until a probe reaches the broker again, so the purchase path can answer
 * 503 without holding seats.
 */
export class BatchingSender {
  private producers: (Producer | undefined)[] = [];
  private busy: boolean[] = [];
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private circuitOpen = false;
  private probing: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: SenderOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.producers = await Promise.all(Array.from({ length: this.opts.producers }, () => this.connectProducer()));
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

  send(message: Message): Promise<void> {
    if (!this.available) return Promise.reject(new NotSentError('Kafka is unreachable; the record was not sent'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
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
    await Promise.all(this.producers.map((p) => p?.disconnect().catch(() => undefined)));
    this.producers = [];
  }

  private async connectProducer(): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
    });
    await producer.connect();
    return producer;
  }

  private schedule(now = false): void {
    if (this.freeProducer() < 0 || this.timer) return;
    if (now || this.opts.lingerMs === 0 || this.queue.length >= this.opts.maxBatch) {
      this.timer = setImmediate(() => this.flush()) as unknown as NodeJS.Timeout;
    } else {
      this.timer = setTimeout(() => this.flush(), this.opts.lingerMs);
    }
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const slot = this.freeProducer();
    if (slot < 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    if (batch.length === 0) return this.settleIdle();
    this.busy[slot] = true;
    const producer = this.producers[slot];
    if (this.queue.length > 0) this.schedule(true);
    const stopTimer = metrics.kafkaProduceDuration.startTimer();
    const stall = setTimeout(() => this.openCircuit('a produce request is unacknowledged'), this.opts.stallMs);
    try {
      if (!producer) throw new Error('producer not connected');
      await producer.send({
        topic: this.opts.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: batch.map((q) => q.message),
      });
      stopTimer();
      metrics.kafkaBatchSize.observe(batch.length);
      for (const q of batch) q.resolve();
    } catch (err) {
      this.log.warn({ err, batch: batch.length }, 'kafka produce failed; outcome of the batch is unknown');
      for (const q of batch) q.reject(new OutcomeUnknownError(`Kafka did not acknowledge: ${(err as Error).message}`));
      this.openCircuit((err as Error).message);
    } finally {
      clearTimeout(stall);
      this.busy[slot] = false;
    }
    if (this.circuitOpen) this.refuseQueued();
    if (this.queue.length > 0) this.schedule(this.closed);
    else this.settleIdle();
  }

  private settleIdle(): void {
    if (this.inFlight || this.queue.length > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private refuseQueued(): void {
    for (const q of this.queue.splice(0)) q.reject(new NotSentError('Kafka is unreachable; the record was not sent'));
  }

  private openCircuit(reason: string): void {
    if (this.circuitOpen || this.closed) return;
    this.circuitOpen = true;
    this.log.error({ reason }, 'kafka circuit open: purchases are refused until the broker answers again');
    this.refuseQueued();
    this.probing = setInterval(() => void this.probe(), 1000);
  }

  /** Reconnects a fresh producer (new producer id, so no stale sequence numbers) and closes the circuit. */
  private async probe(): Promise<void> {
    if (this.inFlight || !this.circuitOpen) return;
    try {
      const attempts = await Promise.allSettled(this.producers.map(() => this.connectProducer()));
      const fresh = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      if (fresh.length < attempts.length) {
        for (const p of fresh) void p.disconnect().catch(() => undefined);
        throw new Error('not every producer could connect');
      }
      const old = this.producers;
      this.producers = fresh;
      for (const p of old) void p?.disconnect().catch(() => undefined);
      this.circuitOpen = false;
      if (this.probing) clearInterval(this.probing);
      this.probing = undefined;
      this.log.info('kafka circuit closed: the broker answers again');
    } catch (err) {
      this.log.debug({ err }, 'kafka probe failed');
    }
  }
}
