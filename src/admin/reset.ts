import { queueKeys } from '../admission/keys';
import type { CatalogStore } from '../catalog/store';
import { deleteEventAllowances } from '../inventory/allowance';
import type { Inventory } from '../inventory/inventory';
import { ZoneLayout } from '../inventory/layout';
import { createLogger, type Logger } from '../observability/logger';
import { ReleasedSeats } from '../purchase/released-seats';

export interface ResetDeps {
  catalog: CatalogStore;
  inventory: Inventory;
  /** Clears the event's sales from the write and read models (when those roles exist). */
  clearStores?: (eventId: string) => Promise<void>;
  log?: Logger;
}

/**
 * Clears one event's inventory and sales so a load test can run again. Admin only: reachable
 * from the CLI and from `/admin` with the admin token, never from the public API.
 */
export async function resetEvent(eventId: string, deps: ResetDeps): Promise<{ zones: number }> {
  const entry = await deps.catalog.getEvent(eventId);
  if (!entry) throw new Error(`Event ${eventId} is not in the catalog; run the controller (npm start) to seed it first`);
  await deps.clearStores?.(eventId);
  // Every api process forgets what it saw taken in the event's zones (RecentlyTaken), as after
  // a cancellation: otherwise a replay right after the reset is answered "sold out" for a moment.
  const released = new ReleasedSeats(deps.inventory.redis, deps.inventory.prefix, deps.log ?? createLogger('silent', 'admin'));
  for (const zone of entry.venue.zones) {
    await deps.inventory.deleteZone(eventId, zone.zoneId);
    await deps.inventory.initZone(eventId, zone);
    await released.announce(
      eventId,
      zone.zoneId,
      Array.from({ length: ZoneLayout.of(zone).capacity }, (_, i) => i),
    );
  }
  // The buyers' allowances count the sales just deleted (per-buyer limit): a new run starts at zero.
  await deleteEventAllowances(deps.inventory.redis, deps.inventory.prefix, eventId);
  // A queued event's waiting room starts empty too (its keys share one hash tag: one UNLINK).
  await deps.inventory.redis.unlink(...Object.values(queueKeys(deps.inventory.prefix, eventId)));
  return { zones: entry.venue.zones.length };
}
