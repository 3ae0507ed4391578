/**
 * The buyers: a pool of concurrent clients replaying the plan at a bounded rate, retrying as a
 * browser does (on connection errors, and with the same Idempotency-Key after a 503), and
 * recording every answer. The fault phases gate the replay: a phase's share of the requests is
 * released when the phase starts, so every phase sees the same amount of load.
 */
import { Pool } from 'undici';
import { parseAnswer } from '../load/driver/client';
import type { Attempt, Buy } from './plan';

export interface BuyerOptions {
  url: string;
  concurrency: number;
  /** Requests per second (first attempts and retries together). */
  rate: number;
  /**
   * How long a buyer keeps retrying after the first attempt. Longer than the api's in-flight
   * Idempotency-Key marker (60 s), so a buyer whose first attempt died with the api still hears
   * an answer for that key, as a patient browser user would.
   */
  retryForMs: number;
  /** First retry delay; doubled per retry up to maxBackoffMs, with jitter. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** Answers a browser retries: no answer, any 503, a 5xx, or the first request with this key still running. */
export const isRetryable = (a: Attempt): boolean =>
  a.status === 0 || a.status >= 500 || (a.status === 409 && a.code === 'IDEMPOTENCY_IN_FLIGHT');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Buyers {
  private readonly pool: Pool;
  private next = 0;
  private released = 0;
  private phase = -1;
  private abandoned = false;
  private waiting: (() => void)[] = [];
  private nextSlot = 0;
  private workers: Promise<void>[] = [];
  private sentListeners: { upTo: number; resolve: () => void }[] = [];
  /** Attempts sent, and requests that have their final answer (for the progress lines). */
  sent = 0;
  finished = 0;
  readonly statuses = new Map<string, number>();

  constructor(
    private readonly buys: Buy[],
    private readonly opts: BuyerOptions,
  ) {
    this.pool = new Pool(opts.url, {
      connections: opts.concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      connect: { timeout: 5_000 },
    });
  }

  /** Starts the clients; they wait for the first release. */
  start(): void {
    this.workers = Array.from({ length: this.opts.concurrency }, () => this.worker());
  }

  /** Starts phase `phase` and releases the requests up to (not including) index `upTo`. */
  release(phase: number, upTo: number): void {
    this.phase = phase;
    this.released = Math.min(upTo, this.buys.length);
    for (const w of this.waiting.splice(0)) w();
  }

  /** Resolves once the first attempt of every request below `upTo` has been sent. */
  whenSent(upTo: number): Promise<void> {
    const target = Math.min(upTo, this.buys.length);
    if (this.abandoned || this.next >= target) return Promise.resolve();
    return new Promise((resolve) => this.sentListeners.push({ upTo: target, resolve }));
  }

  /** Sends no further requests (the platform did not recover): the ones in flight finish their retries. */
  abandon(): void {
    this.abandoned = true;
    for (const l of this.sentListeners.splice(0)) l.resolve();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Resolves once every request sent has its final answer (all of the plan unless abandoned). */
  async finish(): Promise<void> {
    this.release(this.phase, this.buys.length);
    await Promise.all(this.workers);
    await this.pool.close();
  }

  private async worker(): Promise<void> {
    for (;;) {
      while (!this.abandoned && this.next >= this.released && this.next < this.buys.length)
        await new Promise<void>((r) => this.waiting.push(r));
      if (this.abandoned || this.next >= this.buys.length) return;
      const buy = this.buys[this.next++]!;
      buy.phase = this.phase;
      for (const l of this.sentListeners.filter((x) => this.next >= x.upTo)) {
        this.sentListeners.splice(this.sentListeners.indexOf(l), 1);
        l.resolve();
      }
      await this.run(buy);
      this.finished++;
    }
  }

  /** One click: the first attempt and the browser's bounded retries with the same key. */
  private async run(buy: Buy): Promise<void> {
    const giveUpAt = Date.now() + this.opts.retryForMs;
    for (let n = 0; n === 0 || Date.now() < giveUpAt; n++) {
      if (n > 0) {
        const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (n - 1));
        await sleep(base / 2 + Math.random() * base);
      }
      await this.pace();
      const a = await this.attempt(buy);
      buy.attempts.push(a);
      const key = a.status === 0 ? 'no answer' : `${a.status}${a.code ? ` ${a.code}` : ''}`;
      this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
      if (!isRetryable(a)) return;
    }
  }

  /** The rate limit, shared by all clients: one request every 1000/rate ms. */
  private async pace(): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.opts.rate;
    if (slot > now) await sleep(slot - now);
  }

  private async attempt(buy: Buy): Promise<Attempt> {
    const at = Date.now();
    this.sent++;
    try {
      const res = await this.pool.request({
        method: buy.call.method,
        path: buy.call.path,
        headers: { 'idempotency-key': buy.idempotencyKey, ...(buy.call.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(buy.call.body === undefined ? {} : { body: buy.call.body }),
      });
      return { at, ...parseAnswer(res.statusCode, await res.body.text()) };
    } catch (err) {
      return { at, status: 0, error: (err as Error).message };
    }
  }
}
