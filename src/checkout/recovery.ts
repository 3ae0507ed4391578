import type { Logger } from '../observability/logger';
import type { Checkout } from './checkout';

/**
 * Runs Checkout.recoverOnce every `intervalMs` in every api replica (SWEEP_INTERVAL_MS, like the
 * purchases' recovery sweep): a checkout whose process died between the charge and convert.lua,
 * or whose refund failed, is finished by whichever replica claims it first (claim.lua).
 */
export class CheckoutRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly checkout: Checkout,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(
      () => void this.runOnce().catch((err) => this.log.warn({ err }, 'checkout recovery pass failed; it runs again at the next interval')),
      this.intervalMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass at a time per process; returns how many checkouts it settled. */
  runOnce(): Promise<number> {
    this.running ??= this.checkout.recoverOnce().finally(() => (this.running = undefined));
    return this.running;
  }
}
