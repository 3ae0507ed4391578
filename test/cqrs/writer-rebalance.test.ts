import { cancellationOf } from '../../src/events/tickets-cancelled';
import type { PlatformFaults } from '../../src/infra/connections';
import type { TicketPurchased } from '../../src/purchase/record';
import { writerGroup } from '../../src/writer/rebuild-source';
import { uid, waitFor } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { asMessage, dynamoSeats, produce, record, seatKey, sortedEntries, testStores, type SeatMap } from './support';

/**
 * Two writer instances in one consumer group. The first remembers its zones' seats (a seat sold
 * and cancelled: free; another never sold); a second instance joins, takes some partitions and
 * sells both seats; it leaves, and the first gets those partitions back. Later sales of the two
 * seats must lose to the second instance's sales: the first instance must learn the zones
 * again instead of trusting what it remembered from before the rebalance.
 */
test('a partition moved to another writer and back: the first record in the log still wins every seat', async () => {
  const prefix = uid('test.');
  const eventId = uid('Rebal');
  const zones = Array.from({ length: 9 }, (_, i) => String(i + 1)); // three partitions: every one has zones
  const chunksByB: number[] = [];
  // Observes the second instance's chunks (never crashes it): proof that it wrote some partitions.
  const watchB: PlatformFaults = {
    consumer: {
      crashBeforeCommit: (group) => {
        if (group === writerGroup(prefix)) chunksByB.push(Date.now());
        return false;
      },
    },
  };
  const a = await startTestPlatform(['writer'], { KAFKA_TOPIC_PREFIX: prefix });
  const stores = testStores(a.cfg);
  let b: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
  const caughtUp = (what: string) => waitFor(async () => (await stores.waitForGroup('writer', 0)) === 0, what, 60000, 200);
  const each = (make: (zoneId: string) => TicketPurchased) => zones.map(make);
  try {
    // 1. The first instance alone: S sold and cancelled (free in its memory), F never sold.
    const s1 = each((z) => record(eventId, z, [{ row: 'S', column: 1 }]));
    const cancelled = (p: TicketPurchased) => ({ key: asMessage(p).key, value: JSON.stringify(cancellationOf(p, new Date())) });
    await produce(a.ctx.eventLog, prefix, [...s1.map(asMessage), ...s1.map(cancelled)]);
    await caughtUp('the first writer to store the first sales and their cancellations');

    // 2. A second instance joins the group and sells S and F in every zone.
    b = await startTestPlatform(['writer'], { KAFKA_TOPIC_PREFIX: prefix, DYNAMODB_TABLE_PREFIX: a.cfg.DYNAMODB_TABLE_PREFIX }, watchB);
    // It joins the group in a rebalance: sales of other seats (row P) until it has written some.
    for (let column = 1; chunksByB.length === 0; column++) {
      if (column > 30) throw new Error('the second writer never got a partition; is the broker rebalancing?');
      await produce(a.ctx.eventLog, prefix, each((z) => record(eventId, z, [{ row: 'P', column }])).map(asMessage));
      await caughtUp('both writers to store the probe sales');
    }
    const s2 = each((z) => record(eventId, z, [{ row: 'S', column: 1 }]));
    const f1 = each((z) => record(eventId, z, [{ row: 'F', column: 1 }]));
    const before = chunksByB.length;
    await produce(a.ctx.eventLog, prefix, [...s2, ...f1].map(asMessage));
    await caughtUp('both writers to store the resales');
    expect(chunksByB.length).toBeGreaterThan(before);

    // 3. It leaves; the first instance gets every partition back. Later sales of S and F lose.
    await b.stop();
    b = undefined;
    const s3 = each((z) => record(eventId, z, [{ row: 'S', column: 1 }]));
    const f2 = each((z) => record(eventId, z, [{ row: 'F', column: 1 }]));
    await produce(a.ctx.eventLog, prefix, [...s3, ...f2].map(asMessage));
    await caughtUp('the first writer to handle the late sales');

    const expected: SeatMap = new Map();
    zones.forEach((z, i) => {
      expected.set(seatKey(z, 'S', 1), s2[i]!.tickets[0]!.ticketId);
      expected.set(seatKey(z, 'F', 1), f1[i]!.tickets[0]!.ticketId);
    });
    const stored = await dynamoSeats(stores, eventId, zones);
    for (const k of stored.keys()) if (k.includes('/P-')) stored.delete(k);
    expect(sortedEntries(stored)).toEqual(sortedEntries(expected));
    for (const late of [...s3, ...f2]) expect(await stores.writeModel.findTicket(late.tickets[0]!.ticketId)).toBeUndefined();
  } finally {
    await b?.stop();
    await a.stop();
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.closeAll();
  }
}, 150_000);
