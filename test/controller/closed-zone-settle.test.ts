import { runAuditPass } from '../../src/admin/audit-pass';
import type { CqrsStores } from '../../src/admin/stores';
import { ZoneLayout } from '../../src/catalog/layout';
import type { ClosedZone } from '../../src/catalog/model';
import type { EventResource, VenueResource } from '../../src/catalog/resources';
import type { CatalogStore } from '../../src/catalog/store';
import { reconcile, type ReconcileDeps } from '../../src/controller/reconcile';
import { ReserveCode } from '../../src/commands/scripts';
import { testConfig, testLogger, uid, waitFor } from '../support/env';
import { record, testStores } from '../cqrs/support';
import { deletePrefix, eventResource, testPrefix, venueResource } from './support/cluster';

/**
 * The audit reads the closed zones when its pass starts and marks one settled once it found
 * nothing pending. Meanwhile reconcile may re-open the zone and close it again, with a new
 * pending purchase: that new closing must not be marked settled (the sweep would skip it and
 * strand the purchase). The audit marks only the closing it read.
 */
const prefix = testPrefix();
const stores = testStores(testConfig({ REDIS_KEY_PREFIX: prefix }));
const deps: ReconcileDeps = { catalog: stores.catalog, inventory: stores.inventory, log: testLogger('reconcile') };
afterAll(async () => {
  await deletePrefix(stores.ctx.redis, prefix);
  await stores.closeAll();
});

const zoneA = { zoneId: 'a', rows: ['A'], seatsPerRow: 5 };
const zoneB = { zoneId: 'b', rows: ['A', 'B'], seatsPerRow: 5 };
const layoutB = ZoneLayout.of({ rows: zoneB.rows, seatCounts: [5, 5] });

function desired(eventId: string, zones: (typeof zoneA)[]) {
  return {
    venues: [venueResource(`hall-${eventId.toLowerCase()}`, `V${eventId}`, zones) as VenueResource],
    events: [eventResource(`gala-${eventId.toLowerCase()}`, eventId, `hall-${eventId.toLowerCase()}`) as EventResource],
  };
}

/** Reserves one seat of zone b (the api's step before Kafka), optionally confirming it (a sale). */
async function reserveB(eventId: string, row: string, column: number, confirm: boolean): Promise<string> {
  const sale = record(eventId, 'b', [{ row, column }]);
  expect(
    (await stores.inventory.reserve(eventId, 'b', layoutB, sale.purchaseId, [layoutB.locate(row, column)!], JSON.stringify(sale))).code,
  ).toBe(ReserveCode.OK);
  if (confirm) await stores.inventory.confirm(eventId, 'b', sale.purchaseId);
  return sale.purchaseId;
}

/** The stores as the audit sees them, with `between` run right before the audit writes settledAt. */
function auditedStores(between: (zone: ClosedZone) => Promise<void>): CqrsStores {
  const catalog: CatalogStore = Object.assign(Object.create(stores.catalog) as CatalogStore, {
    async settleClosedZone(zone: ClosedZone, at: Date) {
      await between(zone);
      return stores.catalog.settleClosedZone(zone, at);
    },
  });
  return Object.assign(Object.create(stores) as CqrsStores, { catalog });
}

const sweepsB = async (eventId: string) => (await stores.catalog.zonesToSweep()).some((z) => z.eventId === eventId && z.zoneId === 'b');

test('a zone re-opened and closed again (with a new pending purchase) while the audit ran is not marked settled: the sweep still walks it', async () => {
  const eventId = uid('EvSettle');
  await reconcile(desired(eventId, [zoneA, zoneB]), `test:${eventId}`, deps);
  await reserveB(eventId, 'A', 1, true);
  // Zone b leaves the catalog with a sale: it is closed and stays known.
  await reconcile(desired(eventId, [zoneA]), `test:${eventId}`, deps);
  const [first] = await stores.catalog.closedZonesOf(eventId);
  expect(first).toMatchObject({ zone: { zoneId: 'b' } });
  expect(first!.settledAt).toBeUndefined();

  let pendingId: string | undefined;
  const pass = await runAuditPass(
    auditedStores(async (zone) => {
      expect(zone).toEqual(first); // the audit found nothing pending in the closing it read
      // Meanwhile: zone b is wanted again, sells (pending: Kafka has not answered), and leaves again.
      await reconcile(desired(eventId, [zoneA, zoneB]), `test:${eventId}`, deps);
      expect(await stores.catalog.closedZonesOf(eventId)).toEqual([]);
      await waitFor(() => new Date().toISOString() !== first!.closedAt, 'the clock to move past the first closing', 1000, 1);
      pendingId = await reserveB(eventId, 'B', 3, false);
      await reconcile(desired(eventId, [zoneA]), `test:${eventId}`, deps);
    }),
    { waitMs: 1000, log: testLogger('audit') },
  );
  expect(pass.failures).toEqual([]);
  expect(pendingId).toBeDefined();

  // The second closing stands as reconcile wrote it, unsettled, and the sweep walks it.
  const [second] = await stores.catalog.closedZonesOf(eventId);
  expect(second).toMatchObject({ zone: { zoneId: 'b' } });
  expect(second!.closedAt).not.toBe(first!.closedAt);
  expect(second!.settledAt).toBeUndefined();
  expect(await stores.inventory.pendingCount(eventId, 'b')).toBe(1);
  expect(await sweepsB(eventId)).toBe(true);

  // Once the purchase is confirmed, the next pass settles that closing.
  await stores.inventory.confirm(eventId, 'b', pendingId!);
  expect((await runAuditPass(stores, { waitMs: 1000, log: testLogger('audit') })).failures).toEqual([]);
  expect((await stores.catalog.closedZonesOf(eventId))[0]).toMatchObject({ closedAt: second!.closedAt, settledAt: expect.any(String) });
  expect(await sweepsB(eventId)).toBe(false);
}, 60000);

test('a zone re-opened while the audit ran is not written back as a closed zone', async () => {
  const eventId = uid('EvReopen');
  await reconcile(desired(eventId, [zoneA, zoneB]), `test:${eventId}`, deps);
  await reserveB(eventId, 'A', 2, true);
  await reconcile(desired(eventId, [zoneA]), `test:${eventId}`, deps);
  expect(await stores.catalog.closedZonesOf(eventId)).toHaveLength(1);

  const pass = await runAuditPass(
    auditedStores(async () => void (await reconcile(desired(eventId, [zoneA, zoneB]), `test:${eventId}`, deps))),
    { waitMs: 1000, log: testLogger('audit') },
  );
  expect(pass.failures).toEqual([]);
  expect(await stores.catalog.closedZonesOf(eventId)).toEqual([]);
  expect((await stores.catalog.getEvent(eventId))?.venue.zones.map((z) => z.zoneId)).toEqual(['a', 'b']);
}, 60000);
