import { FenceStatusCode, UnfenceCode, type ScriptedRedis } from '../commands/scripts';
import { zoneKeys } from './keys';

/**
 * The failover fence of the zones (docs/purchase-state-machine.md, "Failover fence"). Redis
 * replication is asynchronous and AOF syncs once a second, so a restarted node or a promoted
 * replica may miss reservations Kafka already holds. Each zone's meta records the replication id
 * of the node its state was made true on; the taking scripts (reserve, hold, best, convert)
 * refuse a zone whose id differs from the node's (REBUILDING) until it is re-marked from the
 * truth and unfenced here. The check is inside the scripts, so no sale slips in between a
 * failover and its detection.
 */
export class ZoneFence {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
  ) {}

  async status(eventId: string, zoneId: string): Promise<{ code: FenceStatusCode; replid: string }> {
    const [code, replid] = await this.redis.tpFenceStatus(zoneKeys(this.prefix, eventId, zoneId).meta);
    return { code, replid };
  }

  /** Lifts the fence of a zone re-marked under `replid` (what status() answered before the re-mark). */
  unfence(eventId: string, zoneId: string, replid: string): Promise<UnfenceCode> {
    return this.redis.tpUnfence(zoneKeys(this.prefix, eventId, zoneId).meta, replid);
  }
}
