import { CqrsStores } from '../../../src/admin/stores';
import type { RuntimeContext } from '../../../src/infra/connections';

/**
 * Forgets test events in the stores behind Redis: their sales in DynamoDB and MySQL, and the
 * catalog rows the controller mirrors into MySQL. Redis keys go with the test's key prefix.
 */
export async function forgetEvents(ctx: RuntimeContext, events: { eventId: string; venueId: string; zoneIds: string[] }[]): Promise<void> {
  const stores = new CqrsStores(ctx);
  for (const e of events) {
    await stores.writeModel.dropEvent(e.eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(e.eventId).catch(() => undefined);
    for (const sql of ['DELETE FROM zones WHERE event_id = ?', 'DELETE FROM events WHERE event_id = ?']) {
      await ctx.mysql.run(sql, [e.eventId]).catch(() => undefined);
    }
  }
  for (const venueId of new Set(events.map((e) => e.venueId))) {
    await ctx.mysql
      .run('DELETE FROM venues WHERE venue_id = ? AND venue_id NOT IN (SELECT venue_id FROM events)', [venueId])
      .catch(() => undefined);
  }
}

/** The catalog row the controller mirrored into MySQL, if any. */
export async function mirroredEvent(
  ctx: RuntimeContext,
  eventId: string,
): Promise<{ event_id: string; state: string; source: string | null } | undefined> {
  const [row] = await ctx.mysql.select<{ event_id: string; state: string; source: string | null }>(
    'SELECT event_id, state, source FROM events WHERE event_id = ?',
    [eventId],
  );
  return row;
}
