import { queueKeys } from '../admission/keys';
import type { CatalogStore } from '../catalog/store';
import { allowanceKey } from '../inventory/keys';
import type { Inventory } from '../inventory/inventory';
import { ZoneLayout } from '../inventory/layout';
import { createLogger, type Logger } from '../observability/logger';
import { ReleasedSeats } from '../purchase/released-seats';
import { inParallel } from '../writer/batch';
import { scanKeys, unlinkMany } from '../shared/redis';

export interface ResetDeps {
  catalog: CatalogStore;
  inventory: Inventory;
  /**
   * Clears the event's sales from the write and read models (when those roles exist). It may
   * resolve as soon as both are fenced (no consumer writes the old sale any more) with the rest
   * in `cleared`: the Redis part runs meanwhile, and the reset ends when both are done.
   */
  clearStores?: (eventId: string) => Promise<void | { cleared: Promise<unknown> }>;
  log?: Logger;
  /** Progress lines (the CLI prints them). */
  say?: (line: string) => void;
}

/**
 * Clears one event's inventory and sales so a load test can run again. Admin only: reachable
 * from the CLI and from `/admin` with the admin token, never from the public API. The only
 * place a zone's inventory is ever re-created empty over its sales (invariant 5 holds
 * everywhere else: lost state is fenced and rebuilt).
 */
export async function resetEvent(eventId: string, deps: ResetDeps): Promise<{ zones: number; redisKeys: number }> {
  const entry = await deps.catalog.getEvent(eventId);
  if (!entry) throw new Error(`Event ${eventId} is not in the catalog; run the controller (npm start) to seed it first`);
  const clearing = await deps.clearStores?.(eventId);
  const cleared = clearing ? clearing.cleared : Promise.resolve();
  cleared.catch(() => undefined); // awaited at the end; not unhandled if the Redis part fails first
  const { redis, prefix } = deps.inventory;
  const started = Date.now();
  // One SCAN for the whole event: every zone's purchase and hold records (hash tag
  // `{eventId:zoneId}`) and every buyer's allowance (`{eventId:buyer}`; they count the sales just
  // deleted). A SCAN per zone walked the whole keyspace 200 times for the seed event (40 s).
  // The zones' own keys stay until their zone is re-created, right below.
  const inventoryOf = `${prefix}inv:{${eventId}:`;
  const allowanceOf = allowanceKey(prefix, eventId, '');
  const [allowanceHead, allowanceTail] = [allowanceOf.slice(0, allowanceOf.indexOf('}')), allowanceOf.slice(allowanceOf.indexOf('}'))];
  const isRecord = (k: string) => k.startsWith(inventoryOf) && (k.includes('}:p:') || k.includes('}:held:'));
  let redisKeys = 0;
  const deletes: Promise<void>[] = [];
  for await (const found of scanKeys(redis, `${prefix}*{${eventId}:*`, 20000)) {
    const mine = found.filter((k) => isRecord(k) || (k.startsWith(allowanceHead) && k.endsWith(allowanceTail)));
    const deleting = unlinkMany(redis, mine); // while the SCAN goes on
    deleting.catch(() => undefined); // awaited below, with the others
    deletes.push(deleting);
    redisKeys += mine.length;
  }
  await Promise.all(deletes);
  deps.say?.(`Redis: ${redisKeys} purchase records and allowances of ${eventId} deleted (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  // Each zone is deleted and re-created back to back, as before: the controller's reconcile must
  // not find the zone missing (it would take it for lost and rebuild it from DynamoDB).
  // Every api process then forgets what it saw taken in the zone (RecentlyTaken), as after a
  // cancellation: otherwise a replay right after the reset is answered "sold out" for a moment.
  const released = new ReleasedSeats(redis, prefix, deps.log ?? createLogger('silent', 'admin'));
  await inParallel(entry.venue.zones, 16, async (zone) => {
    const k = deps.inventory.keys(eventId, zone.zoneId);
    await redis.unlink(k.bits, k.counts, k.meta, k.pending, k.held, k.heldUntil, k.cancelling);
    await deps.inventory.initZone(eventId, zone);
    await released.announce(
      eventId,
      zone.zoneId,
      Array.from({ length: ZoneLayout.of(zone).capacity }, (_, i) => i),
    );
  });
  // A queued event's waiting room starts empty too (its keys share one hash tag: one UNLINK).
  await redis.unlink(...Object.values(queueKeys(prefix, eventId)));
  deps.say?.(`Redis: ${entry.venue.zones.length} zones re-created empty (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  await cleared;
  return { zones: entry.venue.zones.length, redisKeys };
}
