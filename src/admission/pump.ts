import type { CatalogCache } from '../catalog/cache';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { PeriodicPass } from '../shared/periodic';
import type { Admission } from './admission';
import type { AdmissionQueue } from './queue';
import { queueSettingsOf, type QueueSettings } from './settings';

/**
 * The waiting rooms' clock (docs/admission.md, "The pump"): every api process runs it every
 * ADMISSION_PUMP_INTERVAL_MS (250 ms by default) for every queued event that had a join (the
 * index queue-join fills; its settings from the in-process catalog cache): one queue-pump.lua
 * call per event, which ends sessions past their end or without live holds and admits the next
 * buyers. It is not leader work: the script is atomic and idempotent, so N replicas pumping is N
 * cheap calls, and no leader failover can stall a queue. Purchases and releases admit the next
 * buyer in their own step; the pump covers what happens by the clock (timeouts, hold expiries,
 * the opening).
 */
export class AdmissionPump {
  private readonly pass: PeriodicPass<void>;

  constructor(
    private readonly queue: AdmissionQueue,
    private readonly admission: Admission,
    private readonly catalog: CatalogCache,
    intervalMs: number,
    private readonly log: Logger,
  ) {
    this.pass = new PeriodicPass(
      () => this.runOnce(),
      intervalMs,
      (err) => this.log.warn({ err }, 'admission pump pass failed'),
    );
  }

  start(): void {
    this.pass.start();
  }

  stop(): Promise<void> {
    return this.pass.stop();
  }

  async runOnce(): Promise<void> {
    const ids = await this.queue.indexed();
    await Promise.all(
      ids.map(async (eventId) => {
        const event = await this.catalog.get(eventId);
        // Gone from the catalog: skipped while it may only be rebuilt (seen in the last minute),
        // then forgotten (a join of a re-created event indexes it again).
        if (!event) return this.catalog.recentlyKnown(eventId) ? undefined : this.queue.unindex(eventId);
        const s = queueSettingsOf(event.entry.event);
        if (!s) return this.queue.unindex(eventId); // open now: nothing to admit
        await this.pumpEvent(s);
      }),
    );
  }

  private async pumpEvent(s: QueueSettings): Promise<void> {
    // A full run admitted MAX_ADMIT (500): run again at once, a bounded number of times.
    for (let round = 0; round < 20; round++) {
      const r = await this.queue.pump(s);
      if (r.ended > 0) metrics.queueSessionsEnded.inc({ event_id: s.eventId, reason: 'pump' }, r.ended);
      this.admission.admitted(s, r.admitted);
      metrics.queueWaiting.set({ event_id: s.eventId }, r.waiting);
      metrics.queueActiveSessions.set({ event_id: s.eventId }, r.active);
      if (r.admitted.length < 500 && r.ended < 500) return;
    }
  }
}
