import { cancellationOf, type TicketsCancelled } from '../../src/events/tickets-cancelled';
import type { PlatformFaults } from '../../src/infra/connections';
import { partitionKey, type TicketPurchased } from '../../src/purchase/record';
import { topics } from '../../src/stream/kafka';
import { uid, waitFor } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { counter, dynamoSeats, dynamoTicketCount, mysqlSeats, produce, record, seatKey, sortedEntries, testStores } from './support';

/**
 * TicketPurchased and TicketsCancelled delivered again, in both orders, with a resale of the
 * cancelled seat in between: the write model and the read model each hold exactly the live
 * ticket per seat, the cancelled tickets stay cancelled (never brought back by a redelivered
 * sale), and nothing is dead-lettered. The first consumers are dropped after their write and
 * before their commit, so the whole log is delivered to the second ones again.
 */
test('sales and cancellations redelivered in any order leave one live ticket per seat and nothing duplicated', async () => {
  const prefix = uid('test.');
  const eventId = uid('Redel');
  const key = partitionKey(eventId, '1'); // one key: one partition, the order below is the log order
  const msg = (e: TicketPurchased | TicketsCancelled) => ({ key, value: JSON.stringify(e) });
  const cancelled = (p: TicketPurchased) => cancellationOf(p, new Date('2030-01-01T10:00:00.000Z'));

  const p1 = record(
    eventId,
    '1',
    [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ],
    'u1',
  );
  const p2 = record(eventId, '1', [{ row: 'A', column: 1 }], 'u2'); // the resale of A1
  const p3 = record(eventId, '1', [{ row: 'B', column: 1 }], 'u3');
  const p4 = record(eventId, '1', [{ row: 'C', column: 1 }], 'u4'); // stays sold
  // Sale, cancel, resale, then the old sale and its cancel again (the sweep re-sends both);
  // and a cancel delivered twice before its sale comes again.
  const log = [
    msg(p1),
    msg(cancelled(p1)),
    msg(p2),
    msg(p1),
    msg(cancelled(p1)),
    msg(p2),
    msg(p3),
    msg(p4),
    msg(cancelled(p3)),
    msg(cancelled(p3)),
    msg(p3),
  ];

  const dropped = new Set<string>();
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
  const expected = sortedEntries(
    new Map([
      [seatKey('1', 'A', 1), p2.tickets[0]!.ticketId],
      [seatKey('1', 'C', 1), p4.tickets[0]!.ticketId],
    ]),
  );
  try {
    await produce(first.ctx.eventLog, prefix, log.slice(0, 6));
    await waitFor(() => dropped.size === 2, 'both consumers to write a chunk and drop before committing', 30000);
    await first.stop();

    second = await startTestPlatform(['writer', 'projector'], { KAFKA_TOPIC_PREFIX: prefix });
    // One event at a time too, so sales and cancellations also meet across chunks.
    for (const m of log.slice(6)) await produce(second.ctx.eventLog, prefix, [m]);
    await produce(second.ctx.eventLog, prefix, [msg(p1), msg(cancelled(p1)), msg(p2)]);
    await waitFor(
      async () => (await stores.waitForGroup('writer', 0)) === 0 && (await stores.waitForGroup('projector', 0)) === 0,
      'both groups to commit the end of the log',
      30000,
    );

    expect(sortedEntries(await dynamoSeats(stores, eventId, ['1']))).toEqual(expected);
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(expected);
    // Every ticket item once (cancelled ones kept, marked), and the cancelled ones still cancelled.
    expect(await dynamoTicketCount(stores, eventId)).toBe(5);
    for (const t of [...p1.tickets, ...p3.tickets]) {
      expect(await stores.writeModel.findTicket(t.ticketId)).toMatchObject({
        status: 'CANCELLED',
        cancelledAt: '2030-01-01T10:00:00.000Z',
      });
      expect(await stores.readModel.findTicket(t.ticketId)).toMatchObject({ status: 'CANCELLED', cancelledAt: '2030-01-01T10:00:00.000Z' });
    }
    for (const t of [...p2.tickets, ...p4.tickets]) {
      expect(await stores.writeModel.findTicket(t.ticketId)).toMatchObject({ status: 'CONFIRMED' });
      expect(await stores.readModel.findTicket(t.ticketId)).toMatchObject({ status: 'CONFIRMED' });
    }
    const count = async (sql: string) => Number((await stores.ctx.mysql.select<{ n: number }>(sql, [eventId]))[0]?.n);
    expect(await count('SELECT COUNT(*) AS n FROM tickets WHERE event_id = ?')).toBe(2);
    expect(await count('SELECT COUNT(*) AS n FROM cancelled_tickets WHERE event_id = ?')).toBe(3);
    expect(await count('SELECT COUNT(*) AS n FROM purchases WHERE event_id = ?')).toBe(4);
    expect(await count('SELECT COUNT(*) AS n FROM cancellations WHERE event_id = ?')).toBe(2);
    // The redeliveries were recognised; none was taken for a double sale.
    for (const group of Object.values(stores.groups)) {
      expect(await counter(group, 'duplicate')).toBeGreaterThan(0);
      expect(await counter(group, 'dead_letter')).toBe(0);
    }
    const dlq = await stores.ctx.eventLog.endOffsets(topics(first.cfg).deadLetter);
    expect(dlq.every((p) => p.high === p.low)).toBe(true);
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.closeAll();
    await first.stop();
    await second?.stop();
  }
});
