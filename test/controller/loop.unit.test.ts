import { TermEnded, WorkQueue } from '../../src/controller/loop';
import { testLogger, waitFor } from '../support/env';

/** The controller's one work queue (src/controller/loop.ts), on its own: no service involved. */
describe('the reconcile work queue', () => {
  let queue: WorkQueue;
  afterEach(() => queue.stop());

  /** A key whose runs are recorded: start/end times, and how many ran at once. */
  function recorded(opts: { ms?: number; fail?: (n: number) => boolean; requeueAfterMs?: number } = {}) {
    const runs: { start: number; end: number }[] = [];
    let active = 0;
    let maxActive = 0;
    const work = async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const start = Date.now();
      try {
        await new Promise((r) => setTimeout(r, opts.ms ?? 0));
        if (opts.fail?.(runs.length + 1)) throw new Error('the store is down');
        return opts.requeueAfterMs !== undefined ? { requeueAfterMs: opts.requeueAfterMs } : undefined;
      } finally {
        active -= 1;
        runs.push({ start, end: Date.now() });
      }
    };
    return { work, runs, maxActive: () => maxActive };
  }

  test('debounce: a burst of changes is one run, debounceMs after the first', async () => {
    queue = new WorkQueue({ debounceMs: 100, log: testLogger() });
    const k = recorded();
    queue.register('reconcile', k.work);
    const first = Date.now();
    for (let i = 0; i < 20; i++) queue.add('reconcile');
    await waitFor(() => k.runs.length === 1, 'one run');
    expect(k.runs[0]!.start - first).toBeGreaterThanOrEqual(95);
    await new Promise((r) => setTimeout(r, 250)); // nothing else was asked for: no second run comes
    expect(k.runs).toHaveLength(1);
  });

  test('single flight per key: changes during a run give exactly one more run after it; other keys run meanwhile', async () => {
    queue = new WorkQueue({ debounceMs: 10, log: testLogger() });
    const slow = recorded({ ms: 200 });
    const other = recorded();
    queue.register('slow', slow.work);
    queue.register('other', other.work);
    queue.add('slow');
    await waitFor(() => slow.maxActive() === 1, 'the slow run started');
    for (let i = 0; i < 5; i++) queue.add('slow');
    queue.add('other');
    await waitFor(() => other.runs.length === 1, 'the other key ran');
    expect(slow.runs).toHaveLength(0); // still in its first run
    await waitFor(() => slow.runs.length === 2, 'the run the changes asked for');
    expect(slow.maxActive()).toBe(1);
    expect(slow.runs[1]!.start).toBeGreaterThanOrEqual(slow.runs[0]!.end);
    await new Promise((r) => setTimeout(r, 300));
    expect(slow.runs).toHaveLength(2);
  });

  test('backoff: failures are retried after growing delays, and success resets them', async () => {
    queue = new WorkQueue({ debounceMs: 10, backoff: { initialMs: 50, maxMs: 400 }, log: testLogger() });
    const k = recorded({ fail: (n) => n <= 4 });
    queue.register('reconcile', k.work);
    queue.add('reconcile');
    await waitFor(() => k.runs.length === 5, 'four failures and a success', 5000);
    const gaps = k.runs.slice(1).map((r, i) => r.start - k.runs[i]!.end);
    // 50, 100, 200, 400 ms (timers fire late on a busy machine, never early)
    [50, 100, 200, 400].forEach((ms, i) => expect(gaps[i]).toBeGreaterThanOrEqual(ms - 5));
    await new Promise((r) => setTimeout(r, 500));
    expect(k.runs).toHaveLength(5); // the success asked for nothing more
  });

  test('requeue-after: a run that asks to run again after some time does, and an earlier change wins', async () => {
    queue = new WorkQueue({ debounceMs: 20, log: testLogger() });
    const k = recorded({ requeueAfterMs: 150 });
    queue.register('reconcile', k.work);
    await queue.kick('reconcile');
    expect(k.runs).toHaveLength(1);
    await waitFor(() => k.runs.length === 2, 'the requeued run');
    expect(k.runs[1]!.start - k.runs[0]!.end).toBeGreaterThanOrEqual(145);
    queue.add('reconcile'); // a change: 20 ms, not the 150 ms requeue
    const changedAt = Date.now();
    await waitFor(() => k.runs.length === 3, 'the run for the change');
    expect(k.runs[2]!.start - changedAt).toBeLessThan(140);
  });

  test('a work that throws before returning its promise is a failure like any other: retried, and the key keeps running', async () => {
    queue = new WorkQueue({ debounceMs: 10, backoff: { initialMs: 20, maxMs: 20 }, log: testLogger() });
    const starts: number[] = [];
    queue.register('reconcile', () => {
      starts.push(Date.now());
      if (starts.length === 1) throw new Error('the store is down'); // before any promise exists
      return Promise.resolve();
    });
    queue.add('reconcile');
    await waitFor(() => starts.length === 2, 'the retry after the synchronous failure', 2000);
    queue.add('reconcile'); // a later change still runs: the key was not left "running" for ever
    await waitFor(() => starts.length === 3, 'the run for a later change', 2000);
  });

  test('stop cancels what is scheduled and waits for the run in flight; a term that ended is no failure', async () => {
    const lines: string[] = [];
    const log = Object.assign(testLogger(), { error: (_o: unknown, msg: string) => void lines.push(msg) });
    queue = new WorkQueue({ debounceMs: 10, log: log });
    const k = recorded({ ms: 150 });
    queue.register('reconcile', k.work);
    queue.register('ended', async () => {
      throw new TermEnded();
    });
    queue.add('reconcile');
    queue.add('ended');
    await waitFor(() => k.maxActive() === 1, 'a run in flight');
    queue.add('reconcile');
    await queue.stop();
    expect(k.runs).toHaveLength(1); // finished, and the change during it was not run after stop
    await new Promise((r) => setTimeout(r, 100));
    expect(k.runs).toHaveLength(1);
    expect(lines).toEqual([]);
  });
});
