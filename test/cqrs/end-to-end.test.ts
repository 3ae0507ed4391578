import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { auditEvent } from '../../src/admin/audit';
import { ZoneLayout } from '../../src/inventory/layout';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { partitionKey, SCHEMA_VERSION } from '../../src/purchase/record';
import { seatSortKey } from '../../src/writer/tables';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { buy, dynamoSeats, mysqlSeats, produce, seatGroups, seatKey, sortedEntries, testStores, type SeatMap } from './support';

/**
 * A sale of a few thousand seats through the API, with contention (seats asked for twice)
 * and records delivered twice: DynamoDB and MySQL each end up with exactly the seat → ticket
 * map of the 201 answers, the audit finds no drift, and the query API serves that map.
 */
describe('CQRS end to end', () => {
  const eventId = uid('E2e');
  const rows = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
  const entry = testEntry({ eventId, zones: [{ zoneId: '1' }, { zoneId: '2', priceCents: 7500 }, { zoneId: '3' }, { zoneId: '4' }] });
  const zoneIds = entry.venue.zones.map((z) => z.zoneId);
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let stores: ReturnType<typeof testStores>;
  let cleanup: () => Promise<void>;
  let sold: SeatMap;
  let userOf: Map<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform(['api', 'writer', 'projector']);
    stores = testStores(platform.cfg);
    cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  });
  afterAll(async () => {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await cleanup?.();
    await stores.closeAll();
    await platform.stop();
  });

  test('the stores hold exactly the seat → ticket map of the 201 answers, and the audit finds no drift', async () => {
    const groups = zoneIds.flatMap((z) => seatGroups(z, rows, 30));
    // Every fifth group is asked for twice at once: exactly one of each pair may win.
    const contested = groups.filter((_, i) => i % 5 === 0).map((g) => ({ zoneId: g.zoneId, seats: g.seats.slice().reverse() }));
    const sale = await buy(platform.url, eventId, [...groups, ...contested], 24);
    sold = sale.seats;
    userOf = sale.userOf;
    expect(sold.size).toBe(26 * 30 * zoneIds.length); // every seat sold once, none twice (buy() throws on a double sale)
    expect(sale.statuses.get(409)).toBe(contested.length);

    // The recovery sweep may send a record again: re-send 50 confirmed records as it would.
    const purchaseIds = [...new Set([...sold.values()].map((t) => t.slice(0, t.lastIndexOf('.'))))].slice(0, 50);
    const bodies = await Promise.all(
      purchaseIds.map(async (id) => {
        const zoneId = id.split('.')[1]!;
        return { key: partitionKey(eventId, zoneId), value: (await stores.inventory.getPurchase(eventId, zoneId, id))!.body };
      }),
    );
    await produce(platform.ctx.eventLog, platform.cfg.KAFKA_TOPIC_PREFIX, bodies);

    await waitFor(
      async () => (await stores.waitForGroup('writer', 0)) === 0 && (await stores.waitForGroup('projector', 0)) === 0,
      'writer and projector to catch up',
      60000,
      200,
    );
    expect(sortedEntries(await dynamoSeats(stores, eventId, zoneIds))).toEqual(sortedEntries(sold));
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(sold));

    const report = await auditEvent(stores, eventId, { waitMs: 5000 });
    expect(report).toMatchObject({ drift: [], unverified: [], missingZones: [], pending: 0 });
    expect(report.seats).toEqual({ redis: sold.size, dynamodb: sold.size, mysql: sold.size });
  }, 90000);

  test('the query API serves the read model: event tickets page by page, per zone, per user, sales', async () => {
    const walk = async (query: string) => {
      const seen: SeatMap = new Map();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await http(
          platform.url,
          'GET',
          `/api/v1/events/${eventId}/tickets?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        for (const t of res.body.tickets) seen.set(seatKey(t.zoneId, t.row, t.column), t.ticketId);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      return { seen, pages };
    };
    const all = await walk('');
    expect(all.pages).toBe(Math.ceil(sold.size / 500));
    expect(sortedEntries(all.seen)).toEqual(sortedEntries(sold));
    const zone2 = await walk('&zoneId=2');
    expect(sortedEntries(zone2.seen)).toEqual(sortedEntries(new Map([...sold].filter(([k]) => k.startsWith('2/')))));

    const [ticketId, userId] = [...userOf.entries()][0]!;
    const mine = await http(platform.url, 'GET', `/api/v1/users/${userId}/tickets`);
    expect(mine.status).toBe(200);
    expect(mine.body.tickets.map((t: { ticketId: string }) => t.ticketId)).toEqual(expect.arrayContaining([ticketId]));
    expect(mine.body.tickets.every((t: { userId: string }) => t.userId === userId)).toBe(true);

    const sales = await http(platform.url, 'GET', `/api/v1/events/${eventId}/sales`);
    expect(sales.status).toBe(200);
    expect(sales.body.totals).toEqual({ capacity: sold.size, sold: sold.size, available: 0, revenueCents: 780 * (5000 * 3 + 7500) });
    expect(sales.body.zones.find((z: { zoneId: string }) => z.zoneId === '2')).toMatchObject({
      capacity: 780,
      sold: 780,
      available: 0,
      revenueCents: 780 * 7500,
    });

    const one = await http(platform.url, 'GET', `/api/v1/tickets/${ticketId}`);
    expect(one.body).toMatchObject({ ticketId, userId, status: 'CONFIRMED', source: 'mysql' });
    expect((await http(platform.url, 'GET', `/api/v1/tickets/count/${eventId}`)).body.total).toBe(sold.size);

    for (const bad of ['cursor=nonsense', `cursor=${Buffer.from('{"k":"u","t":"x","i":"y"}').toString('base64url')}`]) {
      const res = await http(platform.url, 'GET', `/api/v1/events/${eventId}/tickets?${bad}`);
      expect([res.status, res.body.code]).toEqual([400, 'INVALID_CURSOR']);
    }
    for (const limit of ['0', '501', 'x']) {
      const res = await http(platform.url, 'GET', `/api/v1/events/${eventId}/tickets?limit=${limit}`);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    expect((await http(platform.url, 'GET', `/api/v1/events/${uid('Nope')}/sales`)).status).toBe(404);
  });

  test('the audit reports every seat that drifted, and a pending reservation is not drift', async () => {
    const zone = entry.venue.zones[0]!;
    const layout = ZoneLayout.of(zone);
    // A pending purchase: reserved in Redis, not (yet) in the stores. Take one seat out of all
    // three stores first so it can be reserved again.
    const freed = { row: 'Z', column: 30 };
    await stores.ctx.mysql.run('DELETE FROM tickets WHERE event_id = ? AND zone_id = ? AND row_label = ? AND seat_number = ?', [
      eventId,
      '1',
      freed.row,
      freed.column,
    ]);
    await stores.ctx.dynamo.send(
      new DeleteItemCommand({
        TableName: stores.writeModel.tablesOf(eventId, 0).seats,
        Key: { eventZone: { S: `${eventId}#1` }, seat: { S: seatSortKey(freed.row, freed.column) } },
      }),
    );
    await stores.ctx.redis.setbit(stores.inventory.keys(eventId, '1').bits, layout.locate(freed.row, freed.column)!.offset, 0);
    await stores.ctx.redis.call(
      'BITFIELD',
      stores.inventory.keys(eventId, '1').counts,
      'INCRBY',
      'u32',
      0,
      1,
      'INCRBY',
      'u16',
      32 + 16 * 25,
      1,
    );
    const purchaseId = newPurchaseId(eventId, '1');
    const body = JSON.stringify({
      schemaVersion: SCHEMA_VERSION,
      type: 'TicketPurchased',
      purchaseId,
      eventId,
      venueId: entry.venue.venueId,
      zoneId: '1',
      userId: 'p',
      tickets: [{ ticketId: ticketIdOf(purchaseId, 1), ...freed, priceCents: 5000 }],
      currency: 'USD',
      createdOn: new Date().toISOString(),
    });
    const reserved = await stores.inventory.reserve(eventId, '1', layout, purchaseId, [layout.locate(freed.row, freed.column)!], body);
    expect(reserved.code).toBe(0);

    // Drift: one seat lost from MySQL, another from DynamoDB.
    await stores.ctx.mysql.run('DELETE FROM tickets WHERE event_id = ? AND zone_id = ? AND row_label = ? AND seat_number = ?', [
      eventId,
      '3',
      'C',
      4,
    ]);
    await stores.ctx.dynamo.send(
      new DeleteItemCommand({
        TableName: stores.writeModel.tablesOf(eventId, 0).seats,
        Key: { eventZone: { S: `${eventId}#4` }, seat: { S: seatSortKey('D', 5) } },
      }),
    );

    const report = await auditEvent(stores, eventId, { waitMs: 5000 });
    expect(report.pending).toBe(1);
    expect(report.drift.map((d) => `${d.zoneId}/${d.row}-${d.column}: ${d.problem}`).sort()).toEqual([
      '3/C-4: confirmed in Redis but missing in MySQL',
      '4/D-5: confirmed in Redis but missing in DynamoDB',
    ]);
  });
});
