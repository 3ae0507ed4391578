/**
 * A hold's countdown to its expiresAt. The text is pure (unit-tested); the ticking is a timer
 * of its own, aligned to whole seconds of the time left, so the display never skips a second.
 */

/** "9:58", "0:07", "1:02:03": minutes and seconds, with hours only when there are some. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The moments worth saying aloud (the visible timer is not a live region: it would talk every second). */
export const ANNOUNCE_AT_SECONDS = [300, 60, 10] as const;

export class Countdown {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expiresAt = 0;
  private announced = new Set<number>();

  constructor(
    private readonly onTick: (remainingMs: number) => void,
    private readonly onExpired: () => void,
    private readonly onAnnounce: (secondsLeft: number) => void = () => undefined,
  ) {}

  /** Starts (or moves) the countdown to `expiresAt` (epoch ms). */
  start(expiresAt: number): void {
    this.stop();
    this.expiresAt = expiresAt;
    // Extending re-arms the announcements that are still ahead.
    const left = (expiresAt - Date.now()) / 1000;
    this.announced = new Set(ANNOUNCE_AT_SECONDS.filter((s) => s >= left));
    this.tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick = (): void => {
    const left = this.expiresAt - Date.now();
    this.onTick(left);
    if (left <= 0) {
      this.timer = undefined;
      this.onExpired();
      return;
    }
    for (const s of ANNOUNCE_AT_SECONDS) {
      if (left <= s * 1000 && !this.announced.has(s)) {
        this.announced.add(s);
        this.onAnnounce(s);
      }
    }
    // Next tick when the shown second changes (ceil), at least 50 ms on.
    this.timer = setTimeout(this.tick, Math.max(50, left - (Math.ceil(left / 1000) - 1) * 1000));
  };
}
