import { auditEvent } from '../../src/admin/audit';
import { markLostSales } from '../../src/admin/repair';
import { isTaken } from '../../src/inventory/inventory';
import { ZoneLayout } from '../../src/inventory/layout';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { buy, dynamoSeats, testStores } from './support';

/**
 * Redis keeps a zone but loses its last writes (an asynchronous failover, AOF's last second):
 * seats DynamoDB holds as sold show free in Redis. The audit-driven repair takes them again, so
 * they are never sold twice, and the counters still equal the bitmap's popcount.
 */
test('seats sold in DynamoDB but lost from a surviving Redis zone are taken again', async () => {
  const eventId = uid('Part');
  const rows = ['A', 'B', 'C', 'D'];
  const entry = testEntry({ eventId, zones: [{ zoneId: 'z', rows, seatCounts: rows.map(() => 10) }] });
  const platform = await startTestPlatform(['api', 'writer', 'projector']);
  const stores = testStores(platform.cfg);
  const cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  try {
    const sale = await buy(
      platform.url,
      eventId,
      rows.flatMap((row) => [1, 2, 3].map((column) => ({ zoneId: 'z', seats: [{ row, column }] }))),
    );
    expect(sale.seats.size).toBe(12);
    await waitFor(async () => (await dynamoSeats(stores, eventId, ['z'])).size === 12, 'DynamoDB to hold the 12 sales');

    // Lose three sales in Redis as a failover would: bits and counters both roll back.
    const layout = ZoneLayout.of(entry.venue.zones[0]!);
    const k = stores.inventory.keys(eventId, 'z');
    const lost = [layout.locate('A', 1)!, layout.locate('C', 2)!, layout.locate('D', 3)!];
    for (const s of lost) {
      await platform.ctx.redis.eval(
        "redis.call('SETBIT', KEYS[1], ARGV[1], 0); redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, 1, 'INCRBY', 'u16', 32 + 16 * tonumber(ARGV[2]), 1)",
        2,
        k.bits,
        k.counts,
        s.offset,
        s.rowIdx,
      );
    }

    const report = await auditEvent(stores, eventId, { waitMs: 15000 });
    expect(
      report.drift
        .filter((d) => d.redis === 'free' && d.dynamodb)
        .map((d) => `${d.row}${d.column}`)
        .sort(),
    ).toEqual(['A1', 'C2', 'D3']);
    expect(await markLostSales(stores, report)).toBe(3);
    expect(await markLostSales(stores, report)).toBe(0); // repeating changes nothing

    const st = (await stores.inventory.zoneState(eventId, 'z'))!;
    for (const s of lost) expect(isTaken(st.bits, s.offset)).toBe(true);
    expect(st.available).toBe(40 - 12);
    expect(st.rowAvailable).toEqual([7, 7, 7, 7]);
    // The repaired seats are refused to a new buyer; the audit is clean again.
    const again = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
      userId: 'late',
      zoneId: 'z',
      seats: [{ row: 'C', column: 2 }],
    });
    expect(again.status).toBe(409);
    expect((await auditEvent(stores, eventId, { waitMs: 15000 })).drift).toEqual([]);
  } finally {
    await stores.clearEvent(eventId).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await platform.stop();
  }
}, 90000);
