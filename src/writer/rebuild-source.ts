import type { ZoneDef } from '../catalog/model';
import type { SeatPosition } from '../inventory/inventory';
import { ZoneLayout } from '../inventory/layout';
import type { Logger } from '../observability/logger';
import { partitionKey } from '../purchase/record';
import type { EventLog } from '../stream/event-log';
import { lagOfKey } from '../stream/progress';
import type { DynamoWriteModel } from './store';

export const writerGroup = (topicPrefix: string) => `${topicPrefix}.writer`;

export interface RebuildSourceOptions {
  eventLog: EventLog;
  model: DynamoWriteModel;
  topic: string;
  groupId: string;
  /**
   * How long a lost zone with sales waits before it is rebuilt: the purchase timeout, the
   * longest a buyer waits for a 201, so every record a buyer was told is sold has reached the
   * log by then (docs/cqrs.md, "Rebuild").
   */
  settleMs: number;
  log: Logger;
  now?: () => number;
}

export type SoldSeatsInWriteModel = ((
  eventId: string,
  zone: ZoneDef,
  seededBefore?: boolean,
) => Promise<SeatPosition[] | 'not-caught-up'>) & {
  /** Messages the writer still has to commit on this zone's partition (0 = caught up). */
  lagOf(eventId: string, zoneId: string): Promise<number>;
  close(): Promise<void>;
};

/**
 * The `soldSeatsInWriteModel` hook of the controller's reconcile: the sold seats of a zone as
 * DynamoDB holds them, or 'not-caught-up' while they may be incomplete, i.e. while the writer
 * group has not committed the end of the zone's partition, or a lost zone that has sales is
 * still inside its settle time.
 */
export function writeModelRebuildSource(opts: RebuildSourceOptions): SoldSeatsInWriteModel {
  const missingSince = new Map<string, number>();
  const now = opts.now ?? Date.now;

  const lagOf = (eventId: string, zoneId: string): Promise<number> =>
    lagOfKey(opts.eventLog, opts.groupId, opts.topic, partitionKey(eventId, zoneId));

  const hook = async (eventId: string, zone: ZoneDef, seededBefore = false): Promise<SeatPosition[] | 'not-caught-up'> => {
    const key = `${eventId}#${zone.zoneId}`;
    const lag = await lagOf(eventId, zone.zoneId);
    if (lag > 0) {
      opts.log.info({ eventId, zoneId: zone.zoneId, lag }, 'zone inventory missing; waiting for the writer to catch up before rebuilding');
      return 'not-caught-up';
    }
    const stored = await opts.model.soldSeats(eventId, zone.zoneId);
    // Nothing stored and never seeded: a new zone. A zone that existed waits out purchases in
    // flight even when the store is empty (a record may still be on its way into the log).
    if (stored.length === 0 && !seededBefore) {
      missingSince.delete(key);
      // Its tables now, so that the writer's first sale of the event does not wait for them.
      await opts.model
        .ensureCurrentTables(eventId)
        .catch((err: unknown) => opts.log.warn({ err, eventId }, "could not create the event's DynamoDB tables; the writer creates them"));
      return [];
    }
    const since = missingSince.get(key);
    if (since === undefined) {
      missingSince.set(key, now());
      opts.log.warn(
        { eventId, zoneId: zone.zoneId, settleMs: opts.settleMs },
        'zone inventory lost; rebuilding from DynamoDB once in-flight purchases have settled',
      );
      return 'not-caught-up';
    }
    if (now() - since < opts.settleMs) return 'not-caught-up';
    // Settled: read the truth again now that every record a buyer heard 201 for is in the log.
    if ((await lagOf(eventId, zone.zoneId)) > 0) return 'not-caught-up';
    const layout = ZoneLayout.of(zone);
    const seats: SeatPosition[] = [];
    for (const s of await opts.model.soldSeats(eventId, zone.zoneId)) {
      const pos = layout.locate(s.row, s.column);
      if (pos) seats.push(pos);
      else
        opts.log.error(
          { eventId, zoneId: zone.zoneId, seat: s },
          'a sold seat is outside the zone layout; it is not restored into Redis (run the audit)',
        );
    }
    missingSince.delete(key);
    return seats;
  };
  return Object.assign(hook, {
    lagOf,
    async close() {
      missingSince.clear(); // the event log's connections belong to its owner
    },
  });
}
