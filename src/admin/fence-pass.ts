import type { ZoneDef } from '../catalog/model';
import { ZoneLayout } from '../catalog/layout';
import { FenceStatusCode, ReleaseCancelledCode, UnfenceCode } from '../commands/scripts';
import type { LeaderWork } from '../controller/controller';
import { CancelInventory } from '../inventory/cancellations';
import { ZoneFence } from '../inventory/fence';
import type { SeatPosition } from '../inventory/inventory';
import type { Logger } from '../observability/logger';
import { metrics } from '../observability/metrics';
import { partitionKey, type TicketPurchased } from '../purchase/record';
import { groupProgress } from '../stream/progress';
import type { CqrsStores } from './stores';

/** Where the re-mark of one fenced zone stands. */
interface Remark {
  /** The node replid fence-status answered: the re-mark unfences under it or starts over. */
  replid: string;
  since: number;
  /** The end offset of the zone's partition, taken once the settle time has passed. */
  target?: { partition: number; offset: number };
}

/**
 * The re-mark of fenced zones (docs/purchase-state-machine.md, "Failover fence"), leader work of
 * the controller. Every pass asks each catalog zone whether its fence is up; for a fenced zone:
 *   1. wait `settleMs` from detection: the purchase timeout plus the log's send overrun. No
 *      attempt to send a record starts past its purchase's deadline (the sender's `sendBy`), so a
 *      record reserved on the lost node before the failover has reached a broker by then or never;
 *   2. take the end offset of the zone's partition then: after the failover, so it covers every
 *      record a buyer heard 201 for;
 *   3. wait until the writer group has committed up to it (not until the partition is idle:
 *      other zones keep selling into the same partition);
 *   4. settle the zone's cancelling purchases against DynamoDB (settleCancellations), then mark
 *      taken every seat DynamoDB holds as sold (mark-sold.lua only takes seats), and
 *   5. unfence under the replid of step 1, which refuses if the node changed again meanwhile.
 * No seat is sold in the zone in between: the scripts refuse it while the fence is up.
 */
export function fenceWork(stores: CqrsStores, opts: { everyMs: number; settleMs: number; log: Logger; now?: () => number }): LeaderWork {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const fence = new ZoneFence(stores.ctx.redis, stores.ctx.cfg.REDIS_KEY_PREFIX);
  const cancels = new CancelInventory(stores.ctx.redis, stores.ctx.cfg.REDIS_KEY_PREFIX, stores.ctx.cfg.PURCHASE_RECORD_TTL_SECONDS);
  const remarks = new Map<string, Remark>();

  async function partitionEnd(eventId: string, zoneId: string): Promise<{ partition: number; offset: number; committed: number }> {
    const progress = await groupProgress(stores.ctx.eventLog, stores.groups.writer, stores.topic);
    if (progress.length === 0) return { partition: 0, offset: 0, committed: 0 };
    const partition = stores.ctx.eventLog.partitionOf(partitionKey(eventId, zoneId), progress.length);
    const p = progress.find((x) => x.partition === partition)!;
    return { partition, offset: p.end, committed: Math.max(p.committed, p.low) };
  }

  /**
   * The zone's seats in DynamoDB (the writer has committed up to the target): the sold ones to
   * mark, and each seat's live owner (ticket id), which the cancellations are settled against.
   */
  async function truthOf(eventId: string, zone: ZoneDef): Promise<{ sold: SeatPosition[]; owner: Map<string, string> }> {
    const layout = ZoneLayout.of(zone);
    const sold: SeatPosition[] = [];
    const owner = new Map<string, string>();
    for (const s of await stores.writeModel.soldSeats(eventId, zone.zoneId, { includeCancelled: true })) {
      const pos = layout.locate(s.row, s.column);
      if (!pos || s.cancelled) continue;
      sold.push(pos);
      owner.set(`${s.row}/${s.column}`, s.ticketId);
    }
    return { sold, owner };
  }

  /**
   * The zone's CANCELLING purchases, settled against the truth before the unfence (their
   * release-cancelled.lua is refused while the zone is fenced). A cancellation the writer has
   * not seen (a seat still owned by the purchase's ticket) is left for the sweep: nobody can have
   * bought its seats since. One it has seen frees only the seats nobody owns now: a seat resold
   * on the lost node, and re-marked from DynamoDB, stays sold.
   */
  async function settleCancellations(eventId: string, zone: ZoneDef, owner: Map<string, string>): Promise<number> {
    const layout = ZoneLayout.of(zone);
    let settled = 0;
    for (const purchaseId of await cancels.cancellingIds(eventId, zone.zoneId)) {
      const state = await cancels.state(eventId, zone.zoneId, purchaseId);
      if (!state) continue;
      const tickets = (JSON.parse(state.body) as TicketPurchased).tickets;
      if (tickets.some((t) => owner.get(`${t.row}/${t.column}`) === t.ticketId)) continue;
      const free = tickets.filter((t) => !owner.has(`${t.row}/${t.column}`)).flatMap((t) => layout.locate(t.row, t.column) ?? []);
      const { code } = await cancels.releaseCancelled(eventId, zone.zoneId, layout, purchaseId, free, 'remark');
      if (code === ReleaseCancelledCode.RELEASED || code === ReleaseCancelledCode.ALREADY_CANCELLED) settled++;
    }
    return settled;
  }

  /** One step of one fenced zone's re-mark; true once it is unfenced. */
  async function advance(eventId: string, zone: ZoneDef, replid: string): Promise<boolean> {
    const key = `${eventId}/${zone.zoneId}`;
    let r = remarks.get(key);
    if (!r || r.replid !== replid) {
      r = { replid, since: now() };
      remarks.set(key, r);
      log.warn(
        { eventId, zoneId: zone.zoneId, settleMs: opts.settleMs },
        'zone fenced: Redis restarted or failed over and may have lost writes; holds and sales answer 503 until it is re-marked from DynamoDB and the Kafka tail',
      );
    }
    if (now() - r.since < opts.settleMs) return false;
    if (!r.target) {
      const end = await partitionEnd(eventId, zone.zoneId);
      r.target = { partition: end.partition, offset: end.offset };
    }
    const { committed } = await partitionEnd(eventId, zone.zoneId);
    if (committed < r.target.offset) return false;
    const truth = await truthOf(eventId, zone);
    const cancelled = await settleCancellations(eventId, zone, truth.owner);
    const seats = truth.sold;
    const marked = seats.length > 0 ? await stores.inventory.markSold(eventId, zone, seats) : 0;
    const code = await fence.unfence(eventId, zone.zoneId, replid);
    remarks.delete(key);
    if (code !== UnfenceCode.UNFENCED) {
      log.warn(
        { eventId, zoneId: zone.zoneId, code },
        'zone re-mark not applied (the node changed again or the zone is gone); it starts over',
      );
      return false;
    }
    metrics.zoneRemarks.inc();
    log.info(
      { eventId, zoneId: zone.zoneId, sold: seats.length, marked, cancelled, ms: now() - r.since },
      'zone re-marked from DynamoDB and the Kafka tail; holds and sales resume',
    );
    return true;
  }

  return {
    name: 'fence',
    everyMs: opts.everyMs,
    async run(guard) {
      const zones = (await stores.catalog.listEvents()).flatMap((e) => e.venue.zones.map((z) => ({ eventId: e.event.eventId, zone: z })));
      const statuses = await Promise.all(zones.map((z) => fence.status(z.eventId, z.zone.zoneId).catch(() => undefined)));
      let fenced = 0;
      const live = new Set<string>();
      for (let i = 0; i < zones.length; i++) {
        const { eventId, zone } = zones[i]!;
        const status = statuses[i];
        if (status?.code !== FenceStatusCode.FENCED) continue;
        live.add(`${eventId}/${zone.zoneId}`);
        guard.check();
        try {
          if (!(await advance(eventId, zone, status.replid))) fenced++;
        } catch (err) {
          fenced++;
          log.error({ err, eventId, zoneId: zone.zoneId }, 'zone re-mark failed; retried on the next pass (is DynamoDB or Kafka down?)');
        }
      }
      for (const key of remarks.keys()) if (!live.has(key)) remarks.delete(key);
      metrics.fencedZones.set(fenced);
    },
    stop() {
      remarks.clear();
    },
  };
}
