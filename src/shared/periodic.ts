/**
 * A pass that runs every `everyMs` (the timer does not keep the process alive), one at a time
 * per process: a pass asked for while one runs joins it. stop() waits for the pass under way.
 */
export class PeriodicPass<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly everyMs: number,
    /** A failed pass: log it; the next one runs at the next interval. */
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce().catch(this.onError), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<T> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }
}
