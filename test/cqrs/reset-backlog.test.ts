import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { resetEvent } from '../../src/admin/reset';
import type { RunningPlatform } from '../../src/runtime/platform';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { buy, dynamoSeats, dynamoTicketCount, mysqlSeats, seatGroups, sortedEntries, tableExists, testStores } from './support';

/**
 * A load-test reset does not wait for the consumers (src/reset/fence.ts): the event's records
 * still in Kafka when it runs are skipped by the writer and the projector, so the old sale never
 * comes back into DynamoDB or MySQL, and the sale after the reset is stored whole.
 */
const rows = 'ABCDEF'.split('');
const zoneIds = ['1', '2'];

async function scenario(consumersDuringReset: boolean) {
  const eventId = uid('Reset');
  const entry = testEntry({ eventId, zones: zoneIds.map((zoneId) => ({ zoneId, rows, seatCounts: rows.map(() => 20) })) });
  const api = await startTestPlatform(['api']);
  const prefixes = { KAFKA_TOPIC_PREFIX: api.cfg.KAFKA_TOPIC_PREFIX, REDIS_KEY_PREFIX: api.cfg.REDIS_KEY_PREFIX };
  const stores = testStores(api.cfg);
  const cleanup = await seedTestEvent(api.ctx.redis, api.cfg.REDIS_KEY_PREFIX, entry);
  let consumers: RunningPlatform | undefined;
  const groups = () => zoneIds.flatMap((z) => seatGroups(z, rows, 20));
  try {
    if (consumersDuringReset) consumers = await startTestPlatform(['writer', 'projector'], prefixes);
    const old = await buy(api.url, eventId, groups(), 16);
    expect(old.seats.size).toBe(240);
    const backlog = await stores.waitForGroup('writer', 0);
    if (!consumersDuringReset) expect(backlog).toBeGreaterThan(0); // nothing consumed the old sale yet

    const lines: string[] = [];
    await resetEvent(eventId, {
      catalog: stores.catalog,
      inventory: stores.inventory,
      // As the CLI and /admin run it: the Redis part starts once both stores are fenced.
      clearStores: (id) => stores.fenceEvent(id, { log: (l) => lines.push(l) }),
    });
    expect(lines.join('\n')).toMatch(/fence 1 recorded at/);
    // The old sale's tables are gone whole (whatever the writer had put there before the fence moved).
    for (const table of Object.values(stores.writeModel.tablesOf(eventId, 0))) expect(await tableExists(stores, table)).toBe(false);

    // The same seats sold again after the reset, to new buyers: new ticket ids.

    const fresh = await buy(api.url, eventId, groups(), 16);
    expect([...fresh.statuses]).toEqual([[201, groups().length]]);
    expect(fresh.seats.size).toBe(240);
    consumers ??= await startTestPlatform(['writer', 'projector'], prefixes);
    expect(await stores.waitForGroup('writer', 60_000)).toBe(0);
    expect(await stores.waitForGroup('projector', 60_000)).toBe(0);

    expect(sortedEntries(await dynamoSeats(stores, eventId, zoneIds))).toEqual(sortedEntries(fresh.seats));
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(fresh.seats));
    expect(await dynamoTicketCount(stores, eventId)).toBe(fresh.seats.size); // no ticket item of the old sale either
    const [{ n } = { n: -1 }] = await stores.ctx.mysql.select<{ n: number }>('SELECT COUNT(*) AS n FROM purchases WHERE event_id = ?', [
      eventId,
    ]);
    expect(Number(n)).toBe(groups().length);
  } finally {
    await consumers?.stop();
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.ctx.dynamo
      .send(new DeleteItemCommand({ TableName: stores.writeModel.tables.resets, Key: { eventId: { S: eventId } } }))
      .catch(() => undefined);
    await stores.ctx.mysql.run('DELETE FROM event_resets WHERE event_id = ?', [eventId]).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await api.stop();
  }
}

test(
  'a reset with the whole old sale still in Kafka (no consumer ran): only the sale after the reset is stored',
  () => scenario(false),
  120_000,
);

test(
  'a reset while the writer and projector work through the old sale: only the sale after the reset is stored',
  () => scenario(true),
  120_000,
);
