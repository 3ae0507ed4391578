import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { buy, dynamoSeats, mysqlSeats, seatGroups, sortedEntries, testStores } from './support';

/** A projector stopped during sales catches up after a restart, with nothing missing. */
test('a projector stopped during sales catches up after restart; meanwhile tickets are served from DynamoDB', async () => {
  const eventId = uid('Proj');
  const rows = 'ABCDEFGHIJKLMNOPQRST'.split('');
  const entry = testEntry({
    eventId,
    zones: [
      { zoneId: 'a', rows },
      { zoneId: 'b', rows },
    ],
  });
  const zoneIds = ['a', 'b'];
  const platform = await startTestPlatform(['api', 'writer', 'projector']);
  const stores = testStores(platform.cfg);
  const cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  let restarted: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
  try {
    const groups = zoneIds.flatMap((z) => seatGroups(z, rows, 30));
    const third = Math.floor(groups.length / 3);
    const before = await buy(platform.url, eventId, groups.slice(0, third), 16);
    const projector = platform.handles.find((h) => h.name === 'projector')!;
    const [, during] = await Promise.all([projector.stop(), buy(platform.url, eventId, groups.slice(third), 16)]);
    const sold = new Map([...before.seats, ...during.seats]);
    expect(sold.size).toBe(20 * 30 * 2);

    await waitFor(async () => (await stores.waitForGroup('writer', 0)) === 0, 'the writer to catch up', 30000);
    expect(sortedEntries(await dynamoSeats(stores, eventId, zoneIds))).toEqual(sortedEntries(sold));
    const projected = await mysqlSeats(stores, eventId);
    expect(projected.size).toBeLessThan(sold.size);
    const unprojected = [...sold.entries()].find(([seat]) => !projected.has(seat))![1];
    // The read model lags, but a confirmed ticket is never 404: the write model answers.
    expect((await http(platform.url, 'GET', `/api/v1/tickets/${unprojected}`)).body).toMatchObject({
      ticketId: unprojected,
      status: 'CONFIRMED',
      source: 'dynamodb',
    });

    restarted = await startTestPlatform(['projector'], { KAFKA_TOPIC_PREFIX: platform.cfg.KAFKA_TOPIC_PREFIX });
    await waitFor(async () => (await stores.waitForGroup('projector', 0)) === 0, 'the restarted projector to catch up', 30000, 200);
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(sold));
    expect((await http(platform.url, 'GET', `/api/v1/events/${eventId}/sales`)).body.totals.sold).toBe(sold.size);
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await restarted?.stop();
    await platform.stop();
  }
}, 60000);
