import type { SeatPosition } from './inventory';
import { zoneKeys, type ZoneKeys } from './keys';
import type { ZoneLayout } from './layout';
import { CancelCode, ReleaseCancelledCode, type ScriptedRedis } from '../commands/scripts';

/** Where a purchase record stands in its cancellation (the purchase hash's `cancel` field). */
export interface CancellationState {
  /** The record's `status` (reserved, confirmed, voided). */
  status: string;
  cancel?: 'cancelling' | 'cancelled';
  /** The TicketsCancelled event stored by cancel.lua. */
  cancelBody?: string;
  /** The purchase's TicketPurchased body. */
  body: string;
  cancellingAt?: number;
}

/**
 * The cancellation steps on the seat inventory (docs/purchase-state-machine.md): cancel.lua
 * marks a confirmed purchase CANCELLING, release-cancelled.lua frees its seats and marks it
 * CANCELLED. Kept apart from Inventory so the purchase path's file stays as it is.
 */
export class CancelInventory {
  constructor(
    readonly redis: ScriptedRedis,
    readonly prefix: string,
    /** How long a cancelled purchase record stays in Redis (the stores keep its tickets). */
    readonly recordTtlSeconds = 7 * 24 * 3600,
  ) {}

  keys(eventId: string, zoneId: string): ZoneKeys {
    return zoneKeys(this.prefix, eventId, zoneId);
  }

  /**
   * Marks the purchase CANCELLING with its event (see cancel.lua). `seedBody` re-creates a record
   * Redis no longer has from the stores' copy of the purchase.
   */
  async markCancelling(
    eventId: string,
    zoneId: string,
    purchaseId: string,
    cancelBody: string,
    seedBody = '',
  ): Promise<{ code: CancelCode; cancelBody: string }> {
    const k = this.keys(eventId, zoneId);
    const [code, body] = await this.redis.tpCancel(k.purchase(purchaseId), k.cancelling, purchaseId, Date.now(), cancelBody, seedBody);
    return { code: code as CancelCode, cancelBody: body };
  }

  /** Frees the seats of a CANCELLING purchase and marks it CANCELLED, once (see release-cancelled.lua). */
  async releaseCancelled(
    eventId: string,
    zoneId: string,
    layout: ZoneLayout,
    purchaseId: string,
    seats: SeatPosition[],
    mode: 'normal' | 'remark' = 'normal',
  ): Promise<{ code: ReleaseCancelledCode; released: number }> {
    const k = this.keys(eventId, zoneId);
    const [code, released] = await this.redis.tpReleaseCancelled(
      k.bits,
      k.counts,
      k.meta,
      k.cancelling,
      k.purchase(purchaseId),
      layout.hash,
      purchaseId,
      Date.now(),
      this.recordTtlSeconds,
      mode,
      ...seats.flatMap((s) => [s.offset, s.rowIdx]),
    );
    return { code: code as ReleaseCancelledCode, released };
  }

  async state(eventId: string, zoneId: string, purchaseId: string): Promise<CancellationState | undefined> {
    const h = await this.redis.hgetall(this.keys(eventId, zoneId).purchase(purchaseId));
    if (!h.status || !h.body) return undefined;
    return {
      status: h.status,
      body: h.body,
      ...(h.cancel === 'cancelling' || h.cancel === 'cancelled' ? { cancel: h.cancel } : {}),
      ...(h.cancelBody ? { cancelBody: h.cancelBody } : {}),
      ...(h.cancellingAt ? { cancellingAt: Number(h.cancellingAt) } : {}),
    };
  }

  /**
   * Claims up to `limit` cancellations CANCELLING for longer than `olderThanMs` (the process
   * that began them died or lost Kafka), re-scoring them so two sweeping replicas do not take
   * the same one at once. Reuses claim.lua, which works on any such sorted set.
   */
  claimStale(eventId: string, zoneId: string, olderThanMs: number, limit: number): Promise<string[]> {
    const now = Date.now();
    return this.redis.tpClaim(this.keys(eventId, zoneId).cancelling, now - olderThanMs, now, limit);
  }

  /** Purchase ids being cancelled in a zone, with the seats they still hold (the audit's view). */
  cancellingIds(eventId: string, zoneId: string): Promise<string[]> {
    return this.redis.zrange(this.keys(eventId, zoneId).cancelling, '0', '-1');
  }
}
