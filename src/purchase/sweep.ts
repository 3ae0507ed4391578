import { PeriodicPass } from '../shared/periodic';
import type { CatalogStore } from '../catalog/store';
import type { Inventory } from '../inventory/inventory';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import type { BatchingSender } from '../stream/sender';
import { partitionKey } from './record';

/** Finishes interrupted cancellations of a zone (src/purchase/cancel.ts); returns how many. */
export interface StaleCancellations {
  finishStale(eventId: string, zoneId: string, olderThanMs: number): Promise<number>;
}

export interface SweepOptions {
  intervalMs: number;
  resendAfterMs: number;
  batch?: number;
}

/**
 * The recovery sweep: re-sends reserved purchases whose acknowledgement was never recorded
 * (a crash, a timeout, Kafka down) with the same ids, and confirms them once acknowledged.
 * Nothing ever voids a reservation: its outcome stays open until Kafka acknowledges it.
 * With `cancellations`, it also finishes cancellations left CANCELLING for longer than
 * `resendAfterMs` (re-produces their event, then frees their seats).
 */
export class RecoverySweep {
  private readonly periodic: PeriodicPass<number>;

  constructor(
    private readonly inventory: Inventory,
    private readonly catalog: CatalogStore,
    private readonly sender: BatchingSender,
    private readonly opts: SweepOptions,
    private readonly log: Logger,
    private readonly cancellations?: StaleCancellations,
  ) {
    this.periodic = new PeriodicPass(
      () => this.pass(),
      this.opts.intervalMs,
      (err) => this.log.warn({ err }, 'sweep failed'),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass over every zone; returns how many records were re-sent and acknowledged. */
  runOnce(): Promise<number> {
    return this.periodic.runOnce();
  }

  private async pass(): Promise<number> {
    let resent = 0;
    let pending = 0;
    // The catalog's zones and the zones removed from it that may still hold pending purchases.
    for (const { eventId, zoneId } of await this.catalog.zonesToSweep()) {
      pending += await this.inventory.pendingCount(eventId, zoneId);
      if (!this.sender.available) continue;
      const ids = await this.inventory.claimStale(eventId, zoneId, this.opts.resendAfterMs, this.opts.batch ?? 200);
      const results = await Promise.allSettled(ids.map((id) => this.resend(eventId, zoneId, id)));
      resent += results.filter((r) => r.status === 'fulfilled' && r.value).length;
      await this.cancellations
        ?.finishStale(eventId, zoneId, this.opts.resendAfterMs)
        .catch((err: unknown) =>
          this.log.warn({ err, eventId, zoneId }, 'finishing interrupted cancellations failed; retried on the next pass'),
        );
    }
    metrics.pendingPurchases.set(pending - resent);
    if (resent > 0) this.log.info({ resent }, 'sweep re-sent pending purchases');
    return resent;
  }

  private async resend(eventId: string, zoneId: string, purchaseId: string): Promise<boolean> {
    const record = await this.inventory.getPurchase(eventId, zoneId, purchaseId);
    if (!record) {
      // Reserved records never expire, so this is lost state (eviction, FLUSH): the seats may be
      // held without a record. The audit compares Redis with the stores; run it.
      this.log.error({ eventId, zoneId, purchaseId }, 'pending purchase has no record; run `npm run admin -- audit` for this event');
      await this.inventory.confirm(eventId, zoneId, purchaseId);
      return false;
    }
    if (record.status !== 'reserved') {
      await this.inventory.confirm(eventId, zoneId, purchaseId); // drops the stale pending entry
      return false;
    }
    await this.sender.send({
      key: partitionKey(eventId, zoneId),
      value: record.body,
      headers: { 'x-purchase-id': purchaseId, 'x-resent': '1' },
    });
    await this.inventory.confirm(eventId, zoneId, purchaseId);
    return true;
  }
}
