import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { resetEvent } from '../../src/admin/reset';
import { ConcurrentResetError, readDynamoFences, writeDynamoFence } from '../../src/reset/dynamo-fences';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { buy, dynamoSeats, dynamoTicketCount, mysqlSeats, seatGroups, sortedEntries, tableExists, testStores } from './support';

/**
 * An event reset moves the event's DynamoDB sales to the tables of a new generation and drops
 * the old ones whole (src/writer/tables.ts, docs/cqrs.md "Reset (load tests)"): replay → reset
 * cycles keep the store bounded (only the current generation's tables exist), the same seats sell
 * again after each reset, the old sale is readable nowhere, and a reset that crashed after its
 * fence (its drop never ran) leaves nothing behind once the next reset has run.
 */
const rows = 'ABCD'.split('');
const zoneIds = ['1', '2'];

test('sale → reset cycles: one generation of tables at a time, the seats sold again, the old tickets gone, a crashed drop caught up', async () => {
  const eventId = uid('Gen');
  const entry = testEntry({ eventId, zones: zoneIds.map((zoneId) => ({ zoneId, rows, seatCounts: rows.map(() => 10) })) });
  const platform = await startTestPlatform(['api', 'writer', 'projector']);
  const stores = testStores(platform.cfg);
  const cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  const groups = () => zoneIds.flatMap((z) => seatGroups(z, rows, 10));
  const tablesOf = (generation: number) => Object.values(stores.writeModel.tablesOf(eventId, generation));
  const reset = () =>
    resetEvent(eventId, { catalog: stores.catalog, inventory: stores.inventory, clearStores: (id) => stores.fenceEvent(id) });
  const caughtUp = async () => {
    expect(await stores.waitForGroup('writer', 60_000)).toBe(0);
    expect(await stores.waitForGroup('projector', 60_000)).toBe(0);
  };
  try {
    let previous: Awaited<ReturnType<typeof buy>> | undefined;
    for (let generation = 0; generation < 3; generation++) {
      const sale = await buy(platform.url, eventId, groups(), 16);
      expect([...sale.statuses]).toEqual([[201, groups().length]]); // every seat sells again after a reset
      await caughtUp();
      expect(await stores.writeModel.generationOf(eventId)).toBe(generation);
      expect(sortedEntries(await dynamoSeats(stores, eventId, zoneIds))).toEqual(sortedEntries(sale.seats));
      expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(sale.seats));
      expect(await dynamoTicketCount(stores, eventId)).toBe(sale.seats.size);
      for (const ticketId of [...sale.seats.values()].slice(0, 5))
        expect(await stores.writeModel.findTicket(ticketId)).toMatchObject({ ticketId, status: 'CONFIRMED' });
      for (const ticketId of [...(previous?.seats.values() ?? [])].slice(0, 5)) {
        expect(await stores.writeModel.findTicket(ticketId)).toBeUndefined();
        expect(await stores.readModel.findTicket(ticketId)).toBeUndefined();
      }
      // Bounded: this generation's tables, none of an earlier one.
      for (const table of tablesOf(generation)) expect(await tableExists(stores, table)).toBe(true);
      for (let g = 0; g < generation; g++) for (const table of tablesOf(g)) expect(await tableExists(stores, table)).toBe(false);
      await reset();
      expect(await dynamoSeats(stores, eventId, zoneIds)).toEqual(new Map());
      expect(await mysqlSeats(stores, eventId)).toEqual(new Map());
      previous = sale;
    }

    // A reset that crashed right after its fence: generation 4 recorded, generation 3's tables
    // (the sale below) never dropped. The next reset finds them by name and drops them with its
    // own predecessor's.
    const sale = await buy(platform.url, eventId, groups(), 16);
    await caughtUp();
    const fence = (await readDynamoFences(stores.ctx.dynamo, stores.writeModel.tables.resets, [eventId])).get(eventId)!;
    expect(fence).toMatchObject({ generation: 3 });
    await writeDynamoFence(stores.ctx.dynamo, stores.writeModel.tables.resets, { ...fence, generation: 4 });
    for (const table of tablesOf(3)) expect(await tableExists(stores, table)).toBe(true);
    expect(await stores.writeModel.findTicket([...sale.seats.values()][0]!)).toBeUndefined(); // fenced: already unreadable
    await reset();
    for (let g = 0; g < 5; g++) for (const table of tablesOf(g)) expect(await tableExists(stores, table)).toBe(false);
    expect((await readDynamoFences(stores.ctx.dynamo, stores.writeModel.tables.resets, [eventId])).get(eventId)).toMatchObject({
      generation: 5,
    });
    const last = await buy(platform.url, eventId, groups(), 16);
    expect([...last.statuses]).toEqual([[201, groups().length]]);
    await caughtUp();
    expect(sortedEntries(await dynamoSeats(stores, eventId, zoneIds))).toEqual(sortedEntries(last.seats));
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(last.seats));

    // Two resets of one event never both take the next generation, nor does a late one move it
    // back: the fence is written only over the generation the reset read.
    const current = (await readDynamoFences(stores.ctx.dynamo, stores.writeModel.tables.resets, [eventId])).get(eventId)!;
    await expect(
      writeDynamoFence(
        stores.ctx.dynamo,
        stores.writeModel.tables.resets,
        { ...current, generation: current.generation },
        current.generation - 2,
      ),
    ).rejects.toBeInstanceOf(ConcurrentResetError);
    expect((await readDynamoFences(stores.ctx.dynamo, stores.writeModel.tables.resets, [eventId])).get(eventId)).toEqual(current);
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.ctx.dynamo
      .send(new DeleteItemCommand({ TableName: stores.writeModel.tables.resets, Key: { eventId: { S: eventId } } }))
      .catch(() => undefined);
    await stores.ctx.mysql.run('DELETE FROM event_resets WHERE event_id = ?', [eventId]).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await platform.stop();
  }
}, 180_000);
