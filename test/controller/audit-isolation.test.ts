import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ZoneLayout } from '../../src/inventory/layout';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { freePort } from '../support/process';
import { asMessage, buy, dynamoSeats, produce, record, testStores } from '../cqrs/support';

/** One sample of a metric on a platform's /metrics, or undefined when it has none. */
async function metric(url: string, name: string): Promise<number | undefined> {
  const text = (await http(url, 'GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

/**
 * Issue 11 item 4: the controller's audit and repair is isolated per event and per step. With
 * MySQL unreachable and an event whose Redis layout differs from the catalog ahead of it, the
 * pass still repairs Redis from DynamoDB for the next event; a complete pass is exported as
 * ticketing_audit_last_complete_pass_timestamp_seconds.
 */
test('MySQL unreachable and a layout mismatch ahead: the audit still takes lost sales again from DynamoDB; the gauge moves only on a complete pass', async () => {
  const seeds = await mkdtemp(path.join(os.tmpdir(), 'seeds-empty-'));
  const sales = await startTestPlatform(['api', 'writer']);
  const { REDIS_KEY_PREFIX: prefix, KAFKA_TOPIC_PREFIX: topicPrefix } = sales.cfg;
  const stores = testStores(sales.cfg);
  // Audited in id order: the mismatched event first.
  const mismatched = testEntry({ eventId: uid('AMis') });
  const lossy = testEntry({ eventId: uid('BLoss'), zones: [{ zoneId: '1', rows: ['A', 'B'], seatCounts: [5, 5] }] });
  const cleanups = [await seedTestEvent(sales.ctx.redis, prefix, mismatched), await seedTestEvent(sales.ctx.redis, prefix, lossy)];
  const controllers: Awaited<ReturnType<typeof startTestPlatform>>[] = [];
  const controller = async (overrides: Record<string, string>) => {
    const c = await startTestPlatform(['controller'], {
      REDIS_KEY_PREFIX: prefix,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      SEEDS_DIR: seeds,
      AUDIT_INTERVAL_MS: '300',
      ...overrides,
    });
    controllers.push(c);
    return c;
  };
  try {
    // The mismatched event: Redis has another layout than the catalog, and DynamoDB a sale of it Redis never saw.
    const zone = mismatched.venue.zones[0]!;
    await stores.inventory.deleteZone(mismatched.event.eventId, zone.zoneId);
    await stores.inventory.initZone(mismatched.event.eventId, { ...zone, seatCounts: zone.rows.map(() => 20) });
    await produce(sales.ctx.eventLog, topicPrefix, [asMessage(record(mismatched.event.eventId, zone.zoneId, [{ row: 'A', column: 1 }]))]);

    // The lossy event: four seats sold, then Redis loses two of them (a failover), as DynamoDB holds all four.
    const seats = [1, 2, 3, 4].map((column) => ({ zoneId: '1', seats: [{ row: 'B', column }] }));
    expect((await buy(sales.url, lossy.event.eventId, seats, 4)).seats.size).toBe(4);
    await waitFor(
      async () => (await dynamoSeats(stores, lossy.event.eventId, ['1'])).size === 4,
      'DynamoDB holds the four sales',
      15000,
      100,
    );
    const layout = ZoneLayout.of(lossy.venue.zones[0]!);
    const k = stores.inventory.keys(lossy.event.eventId, '1');
    const lost = [layout.locate('B', 2)!, layout.locate('B', 4)!];
    for (const s of lost) {
      await stores.ctx.redis.eval(
        "redis.call('SETBIT', KEYS[1], ARGV[1], 0); redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u32', 0, 1, 'INCRBY', 'u16', 32 + 16 * tonumber(ARGV[2]), 1)",
        2,
        k.bits,
        k.counts,
        s.offset,
        s.rowIdx,
      );
    }

    // The controller's audit with MySQL on a closed port.
    const down = await controller({ MYSQL_URL: `mysql://root@127.0.0.1:${await freePort()}/ticketing` });
    await waitFor(
      async () => {
        for (const s of lost) if ((await stores.ctx.redis.getbit(k.bits, s.offset)) !== 1) return false;
        return true;
      },
      'the lost seats taken again from DynamoDB',
      20000,
      100,
    );
    expect((await stores.inventory.zoneState(lossy.event.eventId, '1'))?.available).toBe(6);
    await waitFor(
      async () => ((await metric(down.url, 'ticketing_audit_last_pass_failed_steps')) ?? 0) > 0,
      'a pass counted its failed steps',
    );
    expect((await metric(down.url, 'ticketing_audit_last_complete_pass_timestamp_seconds')) ?? 0).toBe(0); // 0: no complete pass yet
    // The mismatch was reported, not repaired on the wrong layout.
    expect(await stores.ctx.redis.getbit(stores.inventory.keys(mismatched.event.eventId, zone.zoneId).bits, 0)).toBe(0);

    // MySQL back and the mismatch gone: a complete pass is recorded.
    await down.stop();
    controllers.pop();
    await cleanups.shift()!();
    const startedAt = Date.now() / 1000;
    const up = await controller({});
    await waitFor(
      async () => ((await metric(up.url, 'ticketing_audit_last_complete_pass_timestamp_seconds')) ?? 0) >= startedAt,
      'a complete pass recorded by the gauge',
      20000,
      100,
    );
    expect(await metric(up.url, 'ticketing_audit_last_pass_failed_steps')).toBe(0);
  } finally {
    for (const c of controllers) await c.stop();
    for (const e of [mismatched, lossy]) await stores.writeModel.dropEvent(e.event.eventId).catch(() => undefined);
    for (const c of cleanups) await c();
    await stores.closeAll();
    await sales.stop();
    await rm(seeds, { recursive: true, force: true });
  }
}, 90000);
