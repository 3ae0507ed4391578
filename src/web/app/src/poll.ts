/**
 * Runs `tick` repeatedly, each start at most `everyMs` after the previous start (a slow
 * answer is not followed by a wait), and never two at once. Failures back off up to
 * `maxBackoffMs` and are reported; hidden tabs skip ticks until they are visible again.
 */
export function poll(
  tick: (signal: AbortSignal, startedAt: number) => Promise<void>,
  opts: { everyMs: number; maxBackoffMs?: number; onError?: (err: unknown) => void; onRecover?: () => void },
): () => void {
  const ctrl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const run = async () => {
    if (ctrl.signal.aborted) return;
    if (document.hidden) {
      document.addEventListener('visibilitychange', run, { once: true, signal: ctrl.signal });
      return;
    }
    const started = performance.now();
    try {
      await tick(ctrl.signal, started);
      if (failures > 0) opts.onRecover?.();
      failures = 0;
    } catch (err) {
      if (ctrl.signal.aborted) return;
      failures++;
      opts.onError?.(err);
    }
    if (ctrl.signal.aborted) return;
    const base = failures === 0 ? opts.everyMs : Math.min(opts.maxBackoffMs ?? 5000, opts.everyMs * 2 ** failures);
    timer = setTimeout(run, Math.max(0, base - (performance.now() - started)));
  };
  timer = setTimeout(run, opts.everyMs);
  return () => {
    ctrl.abort();
    clearTimeout(timer);
  };
}
