import type { EventResource, VenueResource } from '../../src/catalog/resources';
import { CatalogStore } from '../../src/catalog/store';
import { ZoneLayout } from '../../src/catalog/layout';
import { reconcile, type ReconcileDeps } from '../../src/controller/reconcile';
import { Inventory } from '../../src/inventory/inventory';
import { ReserveCode } from '../../src/commands/scripts';
import { newPurchaseId } from '../../src/purchase/ids';
import { testLogger, uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { testStores } from '../cqrs/support';
import { eventResource, venueResource } from './support/cluster';

/**
 * Issue 11 item 9: removing an event races its first sale. The api caches the catalog for a
 * second, so a sale can land after removeEvent checked that nothing was sold. Removal fences
 * the event first (its zones closed in Redis, checked by reserve.lua itself), waits for the
 * pending purchases, and only then checks and deletes.
 */
describe('event removal fences the event before it deletes anything', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let deps: ReconcileDeps;
  const source = `test:${uid('removal')}`;
  const ZONE = { zoneId: 'a', rows: ['A', 'B'], seatsPerRow: 5 };
  const layout = ZoneLayout.of({ rows: ZONE.rows, seatCounts: [5, 5] });

  beforeAll(async () => {
    platform = await startTestPlatform(['api', 'writer']);
    const prefix = platform.cfg.REDIS_KEY_PREFIX;
    deps = {
      catalog: new CatalogStore(platform.ctx.redis, prefix),
      inventory: new Inventory(platform.ctx.redis, prefix),
      log: testLogger('reconcile'),
    };
  });
  afterAll(() => platform.stop());

  const desiredOf = (eventId: string) => ({
    venues: [venueResource(`v${eventId.toLowerCase()}`, `V${eventId}`, [ZONE]) as VenueResource],
    events: [eventResource(`e${eventId.toLowerCase()}`, eventId, `v${eventId.toLowerCase()}`) as EventResource],
  });
  const buy = (eventId: string, column: number) =>
    http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: uid('fan'), zoneId: 'a', seats: [{ row: 'A', column }] });

  test('a purchase made between the removal checks and the delete is refused by the fence: never a 201 whose inventory is gone', async () => {
    const eventId = uid('EvRace');
    await reconcile(desiredOf(eventId), source, deps);
    expect((await http(platform.url, 'GET', `/api/v1/events/${eventId}`)).status).toBe(200);

    let raced: Awaited<ReturnType<typeof buy>> | undefined;
    await reconcile({ venues: [], events: [] }, source, {
      ...deps,
      // Between "nothing sold, nothing pending" and the delete: an api that still has the event
      // in its catalog cache (the GET just read it) sells the first seat.
      beforeDelete: async () => {
        expect((await http(platform.url, 'GET', `/api/v1/events/${eventId}`)).status).toBe(200);
        raced = await buy(eventId, 1);
      },
    });

    expect(raced).toBeDefined();
    const inventoryGone = !(await deps.inventory.zoneExists(eventId, 'a'));
    expect(raced!.status === 201 && inventoryGone).toBe(false);
    expect(raced!.status).toBe(409);
    expect(raced!.body).toMatchObject({ code: 'EVENT_NOT_ON_SALE' });
    expect(inventoryGone).toBe(true);
    expect(await deps.catalog.getEvent(eventId)).toBeUndefined();
    // Nothing went to the log either: the write model holds no seat of the event.
    const stores = testStores(platform.cfg);
    try {
      expect(await stores.waitForGroup('writer', 10000)).toBe(0);
      expect(await stores.writeModel.soldSeats(eventId, 'a')).toEqual([]);
    } finally {
      await stores.closeAll();
    }
  });

  test('a purchase reserved before the fence keeps the event (closed) until it settles; then the sold zone stays known and reopens when re-added', async () => {
    const eventId = uid('EvPending');
    await reconcile(desiredOf(eventId), source, deps);
    const purchaseId = newPurchaseId(eventId, 'a');
    expect(
      (await deps.inventory.reserve(eventId, 'a', layout, purchaseId, [layout.locate('B', 2)!], JSON.stringify({ purchaseId }))).code,
    ).toBe(ReserveCode.OK);

    await reconcile({ venues: [], events: [] }, source, deps);
    expect((await deps.catalog.getEvent(eventId))?.event.state).toBe('Closed');
    expect((await deps.inventory.reserve(eventId, 'a', layout, newPurchaseId(eventId, 'a'), [layout.locate('A', 1)!], '{}')).code).toBe(
      ReserveCode.ZONE_CLOSED,
    );

    await deps.inventory.confirm(eventId, 'a', purchaseId);
    await reconcile({ venues: [], events: [] }, source, deps);
    expect(await deps.catalog.getEvent(eventId)).toBeUndefined();
    expect(await deps.inventory.zoneState(eventId, 'a')).toMatchObject({ capacity: 10, available: 9 });
    expect((await deps.catalog.closedZonesOf(eventId)).map((c) => c.zone.zoneId)).toEqual(['a']);

    // Back in the source: the zone reopens with its sold seat, and sells again.
    await reconcile(desiredOf(eventId), source, deps);
    expect(await deps.catalog.closedZonesOf(eventId)).toEqual([]);
    const sold = await waitFor(
      async () => {
        const r = await buy(eventId, 3);
        return r.status === 201 ? r : undefined;
      },
      'a sale on the re-added event',
      5000,
      100,
    );
    expect(sold.body.tickets).toEqual([expect.objectContaining({ row: 'A', column: 3 })]);
    expect((await buy(eventId, 3)).status).toBe(409);
    expect((await deps.inventory.zoneState(eventId, 'a'))?.available).toBe(8);
    await deps.inventory.deleteZone(eventId, 'a');
    await deps.catalog.deleteEvent(eventId);
  });
});
