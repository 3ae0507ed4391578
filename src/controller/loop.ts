import type { Logger } from '../observability/logger';

/** What a run asks of the queue: run the key again after this long (a resync, a retry soon). */
export interface RunResult {
  requeueAfterMs?: number;
}

export type Work = () => Promise<RunResult | void>;

/**
 * Thrown by work that stopped because this replica's leadership term ended: not a failure, so
 * it is neither logged as one nor retried (the next term starts its own queue).
 */
export class TermEnded extends Error {
  constructor() {
    super('this replica no longer leads; the work stopped');
  }
}

export interface WorkQueueOptions {
  /** Changes reported within this long of the first one are handled by one run. */
  debounceMs: number;
  /** Retry delays after failures: initialMs, doubling per failure in a row, at most maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  log: Logger;
}

interface Slot {
  work: Work;
  timer: NodeJS.Timeout | undefined;
  dueAt: number;
  running: Promise<void> | undefined;
  /** add() while running: run once more when the run ends. */
  dirty: boolean;
  failures: number;
  /** Resolved after the next run ends (kick()). */
  waiters: (() => void)[];
}

/**
 * The controller's one work queue. Each key names one piece of work (the reconcile, a leader
 * task). For every key:
 * - debounce: add() schedules a run debounceMs later; adds until then join that run, and an
 *   earlier due time (addAfter, kick) always wins;
 * - single flight: a key never runs twice at once; an add during a run schedules one more run
 *   after it, so no change is missed;
 * - backoff: a failed run is retried after initialMs, doubling per failure in a row up to maxMs;
 * - requeue-after: a run may ask to run again after some time (resync, waiting for a rebuild).
 * Different keys run independently. stop() cancels what is scheduled and waits for runs in flight.
 */
export class WorkQueue {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;
  private readonly backoff: { initialMs: number; maxMs: number };

  constructor(private readonly opts: WorkQueueOptions) {
    this.backoff = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
  }

  register(key: string, work: Work): void {
    if (this.slots.has(key)) throw new Error(`work ${key} is registered twice; give each task its own name`);
    this.slots.set(key, { work, timer: undefined, dueAt: Infinity, running: undefined, dirty: false, failures: 0, waiters: [] });
  }

  /** Something changed: run the key after the debounce (or sooner, if already due sooner). */
  add(key: string): void {
    this.addAfter(key, this.opts.debounceMs);
  }

  /** Run the key `delayMs` from now, unless it is already due sooner. */
  addAfter(key: string, delayMs: number): void {
    const slot = this.slot(key);
    if (this.stopped) return;
    if (slot.running) slot.dirty = true;
    else this.schedule(key, slot, delayMs);
  }

  /** Run the key now (after the run in flight, if any); resolves once that run has ended. */
  kick(key: string): Promise<void> {
    const slot = this.slot(key);
    if (this.stopped) return Promise.resolve();
    const done = new Promise<void>((resolve) => slot.waiters.push(resolve));
    if (slot.running) slot.dirty = true;
    else this.schedule(key, slot, 0);
    return done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    // Runs never reject (run() catches the work's errors); an idle key has nothing to wait for.
    await Promise.all([...this.slots.values()].flatMap((s) => (s.running ? [s.running] : [])));
    for (const slot of this.slots.values()) for (const w of slot.waiters.splice(0)) w();
  }

  private slot(key: string): Slot {
    const slot = this.slots.get(key);
    if (!slot) throw new Error(`no work registered as ${key}`);
    return slot;
  }

  private schedule(key: string, slot: Slot, delayMs: number): void {
    const dueAt = Date.now() + Math.max(0, delayMs);
    if (slot.timer && slot.dueAt <= dueAt) return;
    clearTimeout(slot.timer);
    slot.dueAt = dueAt;
    slot.timer = setTimeout(() => this.run(key, slot), Math.max(0, delayMs));
  }

  private run(key: string, slot: Slot): void {
    slot.timer = undefined;
    slot.dueAt = Infinity;
    if (this.stopped) return;
    if (slot.running) {
      slot.dirty = true; // a retry or requeue came due during a run: once more after it
      return;
    }
    slot.dirty = false;
    const waiters = slot.waiters.splice(0);
    slot.running = (async () => {
      let next: number | undefined;
      try {
        // The work starts a microtask later, so `slot.running` is set before this run can end
        // (even when the work throws before returning a promise); the finally below clears it.
        next = (await Promise.resolve().then(() => slot.work()))?.requeueAfterMs;
        slot.failures = 0;
      } catch (err) {
        if (err instanceof TermEnded || this.stopped) return;
        slot.failures += 1;
        next = Math.min(this.backoff.initialMs * 2 ** (slot.failures - 1), this.backoff.maxMs);
        this.opts.log.error({ err, work: key, failures: slot.failures, retryInMs: next }, `${key} failed; it is retried with a backoff`);
      } finally {
        slot.running = undefined;
        for (const w of waiters) w();
      }
      if (this.stopped) return;
      if (next !== undefined) this.schedule(key, slot, next);
      // Changes seen during the run: one more run, debounced (a pending earlier retry wins).
      if (slot.dirty) this.schedule(key, slot, slot.waiters.length > 0 ? 0 : this.opts.debounceMs);
    })();
  }
}
