import type { PlatformFaults } from '../../src/infra/connections';
import { groupProgress } from '../../src/stream/progress';
import { uid, waitFor } from '../support/env';
import { startTestPlatform } from '../support/platform';
import {
  asMessage,
  counter,
  dynamoSeats,
  dynamoTicketCount,
  mysqlSeats,
  produce,
  purchaseCount,
  record,
  seatKey,
  sortedEntries,
  testStores,
  type SeatMap,
} from './support';

/**
 * A consumer killed after its store write and before its offset commit: the records are
 * delivered again, and the stores still hold exactly one item/row per seat, the right ticket.
 */
test('writer and projector dropped after the write, before the commit: redelivery leaves exactly one item per seat', async () => {
  const prefix = uid('test.');
  const eventId = uid('Crash');
  const zones = ['1', '2', '3'];
  const records = zones.flatMap((zoneId) =>
    Array.from({ length: 20 }, (_, i) =>
      record(
        eventId,
        zoneId,
        Array.from({ length: 1 + (i % 3) }, (_, k) => ({ row: String.fromCharCode(65 + i), column: 1 + k })),
      ),
    ),
  );
  const expected: SeatMap = new Map(
    records.flatMap((r) => r.tickets.map((t) => [seatKey(r.zoneId, t.row, t.column), t.ticketId] as const)),
  );

  const dropped = new Set<string>();
  // The hook goes to the first platform only; the second one runs without faults.
  const faults: PlatformFaults = {
    consumer: {
      crashBeforeCommit: (group) => {
        if (!group.startsWith(`${prefix}.`)) return false;
        dropped.add(group);
        return true;
      },
    },
  };
  const first = await startTestPlatform(['writer', 'projector'], { KAFKA_TOPIC_PREFIX: prefix }, faults);
  const stores = testStores(first.cfg);
  let second: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
  try {
    await produce(first.ctx.eventLog, prefix, records.slice(0, 30).map(asMessage));
    await waitFor(() => dropped.size === 2, 'both consumers to write a batch and drop before committing', 30000);
    // The write happened before the drop: it is durable, but no offset was committed.
    expect((await dynamoSeats(stores, eventId, zones)).size).toBeGreaterThan(0);
    expect((await mysqlSeats(stores, eventId)).size).toBeGreaterThan(0);
    for (const group of Object.values(stores.groups)) {
      expect((await groupProgress(stores.ctx.eventLog, group, stores.topic)).every((p) => p.committed === -1)).toBe(true);
    }
    await first.stop();

    second = await startTestPlatform(['writer', 'projector'], { KAFKA_TOPIC_PREFIX: prefix });
    await produce(second.ctx.eventLog, prefix, records.slice(30).map(asMessage));
    await waitFor(
      async () => (await stores.waitForGroup('writer', 0)) === 0 && (await stores.waitForGroup('projector', 0)) === 0,
      'both groups to commit the end of the log',
      30000,
    );

    expect(sortedEntries(await dynamoSeats(stores, eventId, zones))).toEqual(sortedEntries(expected));
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(expected));
    expect(await dynamoTicketCount(stores, eventId)).toBe(expected.size);
    expect(await purchaseCount(stores, eventId)).toBe(records.length);
    // The redelivered records were recognised as already written.
    expect(await counter(stores.groups.writer, 'duplicate')).toBeGreaterThan(0);
    expect(await counter(stores.groups.projector, 'duplicate')).toBeGreaterThan(0);
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.closeAll();
    await first.stop();
    await second?.stop();
  }
});
