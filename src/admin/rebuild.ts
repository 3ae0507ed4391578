import { writeModelRebuildSource } from '../writer/rebuild-source';
import type { CqrsStores } from './stores';

export interface ZoneRebuild {
  zoneId: string;
  outcome: 'present' | 'rebuilt' | 'created' | 'not-caught-up';
  sold: number;
}

/**
 * Rebuilds the Redis inventory of an event's lost zones from DynamoDB, on demand (the
 * controller does the same on its own every few seconds). A zone that exists is never touched:
 * rebuilding never re-initialises. Restores the catalog entry from MySQL when Redis lost it too.
 */
export async function rebuildEventInventory(
  stores: CqrsStores,
  eventId: string,
  opts: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<ZoneRebuild[]> {
  const log = opts.log ?? (() => undefined);
  const found = await stores.catalogEntry(eventId);
  if (!found) throw new Error(`Event ${eventId} is in neither the Redis catalog nor its MySQL mirror; start the controller to seed it`);
  if (found.from === 'mysql') {
    await stores.catalog.putEvent(found.entry);
    log(`catalog entry of ${eventId} restored into Redis from the MySQL mirror`);
  }
  const { cfg } = stores.ctx;
  const source = writeModelRebuildSource({
    eventLog: stores.ctx.eventLog,
    model: stores.writeModel,
    topic: stores.topic,
    groupId: stores.groups.writer,
    settleMs: cfg.PURCHASE_TIMEOUT_MS,
    log: stores.ctx.log,
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const results: ZoneRebuild[] = [];
  try {
    for (const zone of found.entry.venue.zones) {
      if (await stores.inventory.zoneExists(eventId, zone.zoneId)) {
        results.push({ zoneId: zone.zoneId, outcome: 'present', sold: 0 });
        log(`zone ${zone.zoneId}: inventory present; left alone`);
        continue;
      }
      let result: ZoneRebuild = { zoneId: zone.zoneId, outcome: 'not-caught-up', sold: 0 };
      for (;;) {
        // An operator rebuilds an event that was on sale: an empty zone also waits for purchases in flight.
        const sold = await source(eventId, zone, true);
        if (sold !== 'not-caught-up') {
          if (sold.length === 0) {
            await stores.inventory.initZone(eventId, zone);
            result = { zoneId: zone.zoneId, outcome: 'created', sold: 0 };
          } else {
            const r = await stores.inventory.restoreZone(eventId, zone, sold);
            result = { zoneId: zone.zoneId, outcome: r.restored ? 'rebuilt' : 'present', sold: r.sold };
          }
          break;
        }
        if (Date.now() > deadline) break;
        const lag = await source.lagOf(eventId, zone.zoneId);
        log(
          `zone ${zone.zoneId}: ${lag > 0 ? `waiting for the writer: ${lag} messages behind` : 'waiting for in-flight purchases to settle'}`,
        );
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`zone ${zone.zoneId}: ${result.outcome}${result.outcome === 'rebuilt' ? ` with ${result.sold} sold seats from DynamoDB` : ''}`);
      results.push(result);
    }
  } finally {
    await source.close();
  }
  return results;
}
