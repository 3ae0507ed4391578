import { auditEvent } from '../../src/admin/audit';
import { markLostSales } from '../../src/admin/repair';
import { cancellationOf } from '../../src/events/tickets-cancelled';
import { CancelInventory } from '../../src/inventory/cancellations';
import { isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { partitionKey, type TicketPurchased } from '../../src/purchase/record';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { dynamoSeats, produce, testStores } from './support';

/**
 * The audit and its repair around a cancellation. Redis frees a seat only after the
 * cancellation is in the log, so a store that has not applied it yet (its consumer stopped)
 * still holds the seat: that is no drift, and the repair must not take the seat again (it
 * would stay taken for good). While a cancellation is under way (CANCELLING), DynamoDB may
 * already have freed the seat Redis still holds: no drift either.
 */
test('a seat freed by a cancellation is neither drift nor repaired while a store lags, nor while the cancellation is under way', async () => {
  const eventId = uid('CxlAudit');
  const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows: ['A'], seatCounts: [10] }] });
  const layout = ZoneLayout.of(entry.venue.zones[0]!);
  const api = await startTestPlatform(['api', 'projector']);
  const shared = { KAFKA_TOPIC_PREFIX: api.cfg.KAFKA_TOPIC_PREFIX, REDIS_KEY_PREFIX: api.cfg.REDIS_KEY_PREFIX };
  let writer = await startTestPlatform(['writer'], shared);
  const stores = testStores(api.cfg);
  const cleanup = await seedTestEvent(api.ctx.redis, api.cfg.REDIS_KEY_PREFIX, entry);
  const free = async (column: number) =>
    !isTaken((await stores.inventory.zoneState(eventId, 'z'))!.bits, layout.locate('A', column)!.offset);
  const buy = async (column: number) => {
    const r = await http(api.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
      userId: 'u',
      zoneId: 'z',
      seats: [{ row: 'A', column }],
    });
    expect(r.status).toBe(201);
    return r.body as { purchaseId: string };
  };
  const caughtUp = (group: 'writer' | 'projector') =>
    waitFor(async () => (await stores.waitForGroup(group, 0)) === 0, `the ${group} to catch up`, 30000);
  try {
    const p1 = await buy(1);
    const p2 = await buy(2);
    await caughtUp('writer');
    await caughtUp('projector');

    // The writer stops; the cancel of A1 is in the log, Redis freed A1, DynamoDB still holds it.
    await writer.stop();
    expect((await http(api.url, 'POST', `/api/v1/purchases/${p1.purchaseId}/cancel`, { userId: 'u' })).status).toBe(200);
    expect(await free(1)).toBe(true);
    await caughtUp('projector');
    expect((await dynamoSeats(stores, eventId, ['z'])).has('z/A-1')).toBe(true);
    const lagging = await auditEvent(stores, eventId, { waitMs: 500 });
    expect(lagging.unverified).toContain('dynamodb');
    expect(lagging.drift).toEqual([]);
    expect(await markLostSales(stores, lagging)).toBe(0);
    expect(await free(1)).toBe(true);

    // A cancellation under way: its event is in the log (and applied by the writer), its seat not freed yet.
    writer = await startTestPlatform(['writer'], shared);
    const record = JSON.parse(
      (await stores.ctx.redis.hget(stores.inventory.keys(eventId, 'z').purchase(p2.purchaseId), 'body'))!,
    ) as TicketPurchased;
    const event = cancellationOf(record, new Date());
    const cancels = new CancelInventory(stores.ctx.redis, api.cfg.REDIS_KEY_PREFIX);
    await cancels.markCancelling(eventId, 'z', p2.purchaseId, JSON.stringify(event));
    await produce(stores.ctx.eventLog, api.cfg.KAFKA_TOPIC_PREFIX, [{ key: partitionKey(eventId, 'z'), value: JSON.stringify(event) }]);
    await caughtUp('writer');
    await caughtUp('projector');
    expect(await dynamoSeats(stores, eventId, ['z'])).toEqual(new Map());
    expect(await free(2)).toBe(false);
    const underWay = await auditEvent(stores, eventId, { waitMs: 10_000 });
    expect(underWay.unverified).toEqual([]);
    expect(underWay.drift).toEqual([]);
    expect(underWay.pending).toBe(1);
    expect(underWay.seats).toEqual({ redis: 1, dynamodb: 0, mysql: 0 });
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await writer.stop();
    await api.stop();
  }
});
