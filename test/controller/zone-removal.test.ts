import { runAuditPass } from '../../src/admin/audit-pass';
import { ZoneLayout } from '../../src/catalog/layout';
import type { EventResource, VenueResource } from '../../src/catalog/resources';
import { CatalogStore } from '../../src/catalog/store';
import { reconcile, type ReconcileDeps } from '../../src/controller/reconcile';
import { Inventory } from '../../src/inventory/inventory';
import { ReserveCode } from '../../src/commands/scripts';
import { testLogger, uid, waitFor } from '../support/env';
import { http, startTestPlatform, testRedis } from '../support/platform';
import { record, testStores } from '../cqrs/support';
import { deletePrefix, eventResource, testPrefix, venueResource } from './support/cluster';

/**
 * Issue 11 item 3: a zone removed from its event must not strand its sales. It is fenced and
 * stays known (as a closed zone, with its layout) to the recovery sweep and the audit until
 * settled; re-adding it with another layout while it has sales keeps the old layout, so it
 * goes on selling on the inventory it has instead of answering 503 for good.
 */
test('a removed zone: its pending purchase is re-sent by the sweep, its lost sale repaired by the audit, and re-adding it with another layout keeps selling on the old one', async () => {
  const redis = testRedis();
  const prefix = testPrefix();
  const eventId = uid('EvZones');
  const source = `test:${eventId}`;
  const deps: ReconcileDeps = {
    catalog: new CatalogStore(redis, prefix),
    inventory: new Inventory(redis, prefix),
    log: testLogger('reconcile'),
  };
  const zoneA = { zoneId: 'a', rows: ['A'], seatsPerRow: 5 };
  const zoneB = { zoneId: 'b', rows: ['A', 'B'], seatsPerRow: 5 };
  const layoutB = ZoneLayout.of({ rows: zoneB.rows, seatCounts: [5, 5] });
  const desired = (zones: { zoneId: string; rows: string[]; seatsPerRow: number }[]) => ({
    venues: [venueResource('hall', `V${eventId}`, zones) as VenueResource],
    events: [eventResource('gala', eventId, 'hall') as EventResource],
  });
  let platform: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
  let stores: ReturnType<typeof testStores> | undefined;
  try {
    await reconcile(desired([zoneA, zoneB]), source, deps);
    // A purchase of zone b reserved, its Kafka acknowledgement never recorded (the api died)...
    const pendingSale = record(eventId, 'b', [{ row: 'B', column: 4 }]);
    expect(
      (await deps.inventory.reserve(eventId, 'b', layoutB, pendingSale.purchaseId, [layoutB.locate('B', 4)!], JSON.stringify(pendingSale)))
        .code,
    ).toBe(ReserveCode.OK);
    // ...and then zone b is removed from the venue.
    await reconcile(desired([zoneA]), source, deps);
    expect((await deps.catalog.getEvent(eventId))?.venue.zones.map((z) => z.zoneId)).toEqual(['a']);
    expect(
      (await deps.inventory.reserve(eventId, 'b', layoutB, record(eventId, 'b', []).purchaseId, [layoutB.locate('A', 1)!], '{}')).code,
    ).toBe(ReserveCode.ZONE_CLOSED);

    // The api's recovery sweep still walks zone b: the record reaches Kafka and the stores.
    platform = await startTestPlatform(['api', 'writer'], {
      REDIS_KEY_PREFIX: prefix,
      PENDING_RESEND_AFTER_MS: '100',
      SWEEP_INTERVAL_MS: '100',
    });
    stores = testStores(platform.cfg);
    await waitFor(
      async () => (await deps.inventory.getPurchase(eventId, 'b', pendingSale.purchaseId))?.status === 'confirmed',
      'the pending purchase of the removed zone confirmed by the sweep',
      15000,
      100,
    );
    await waitFor(async () => (await stores!.writeModel.soldSeats(eventId, 'b')).length === 1, 'the seat in DynamoDB', 15000, 100);

    // Redis loses that sale (an asynchronous failover): the audit walks the removed zone too and takes it again.
    const bits = deps.inventory.keys(eventId, 'b');
    const seat = layoutB.locate('B', 4)!;
    await redis.eval(
      "redis.call('SETBIT', KEYS[1], ARGV[1], 0); redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, 1, 'INCRBY', 'u16', 32 + 16 * tonumber(ARGV[2]), 1)",
      2,
      bits.bits,
      bits.counts,
      seat.offset,
      seat.rowIdx,
    );
    const pass = await runAuditPass(stores, { waitMs: 1000, log: testLogger('audit') });
    expect(pass.failures).toEqual([]);
    expect(pass.repaired).toBe(1);
    expect(await redis.getbit(bits.bits, seat.offset)).toBe(1);
    // Nothing pending, compared once more: settled, and the sweep no longer walks it.
    expect((await deps.catalog.closedZonesOf(eventId))[0]?.settledAt).toBeDefined();
    expect((await deps.catalog.zonesToSweep()).filter((z) => z.eventId === eventId)).toEqual([{ eventId, zoneId: 'a' }]);

    // Re-added with another layout while it has a sale: refused, the old layout stays in force.
    const reports = await reconcile(desired([zoneA, { ...zoneB, seatsPerRow: 8 }]), source, deps);
    expect(reports[0]?.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'LayoutChangeRefused' });
    expect((await deps.catalog.getEvent(eventId))?.venue.zones.find((z) => z.zoneId === 'b')?.seatCounts).toEqual([5, 5]);
    expect(await deps.catalog.closedZonesOf(eventId)).toEqual([]);
    const sold = await waitFor(
      async () => {
        const r = await http(platform!.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
          userId: 'u2',
          zoneId: 'b',
          seats: [{ row: 'A', column: 2 }],
        });
        return r.status === 201 ? r : undefined;
      },
      'a 201 on the re-added zone (old layout)',
      10000,
      100,
    );
    expect(sold.body.tickets).toEqual([expect.objectContaining({ row: 'A', column: 2 })]);
    const again = await runAuditPass(stores, { waitMs: 1000, log: testLogger('audit') });
    expect(again.failures).toEqual([]);
  } finally {
    await stores?.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores?.closeAll();
    await platform?.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
}, 60000);
