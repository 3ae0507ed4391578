import { partitionKey } from '../../src/purchase/record';
import { topics } from '../../src/stream/kafka';
import { uid, waitFor } from '../support/env';
import { readRecords } from '../support/kafka';
import { startTestPlatform } from '../support/platform';
import { asMessage, dynamoSeats, testStores, mysqlSeats, produce, record, seatKey, sortedEntries } from './support';

/** Poison messages go to the DLQ with a reason; the partition keeps moving. */
describe('poison messages', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let stores: ReturnType<typeof testStores>;
  const eventId = uid('Poison');

  beforeAll(async () => {
    platform = await startTestPlatform(['writer', 'projector']);
    stores = testStores(platform.cfg);
  });
  afterAll(async () => {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.closeAll();
    await platform.stop();
  });

  test('invalid JSON, an unknown schemaVersion, missing fields and a seat conflict are dead-lettered; good records around them are stored', async () => {
    const key = partitionKey(eventId, '1'); // one key: one partition, so the order below is the log order
    const first = record(eventId, '1', [
      { row: 'A', column: 1 },
      { row: 'A', column: 2 },
    ]);
    const conflicting = record(eventId, '1', [
      { row: 'A', column: 3 },
      { row: 'A', column: 2 },
    ]);
    const after = record(eventId, '1', [{ row: 'B', column: 7 }]);
    const { tickets: _t, ...noTickets } = record(eventId, '1', [{ row: 'C', column: 1 }]);
    await produce(platform.ctx.eventLog, platform.cfg.KAFKA_TOPIC_PREFIX, [
      { key, value: '{"schemaVersion": 1, "type": "TicketPurch' },
      asMessage(first),
      { key, value: JSON.stringify({ ...record(eventId, '1', [{ row: 'C', column: 2 }]), schemaVersion: 2 }) },
      { key, value: JSON.stringify(noTickets) },
      asMessage(conflicting),
      asMessage(after),
    ]);

    const dlq = await readRecords(platform.ctx.eventLog, topics(platform.cfg).deadLetter, (records) => records.length >= 8, 30000);
    const reasons = (group: string) => dlq.filter((m) => m.headers['x-dlq-group'] === group).map((m) => m.headers['x-dlq-reason'] ?? '');
    for (const group of [stores.groups.writer, stores.groups.projector]) {
      const r = reasons(group);
      expect(r).toHaveLength(4);
      expect(r[0]).toMatch(/^invalid-json/);
      expect(r[1]).toMatch(/^unknown-schema-version: 2/);
      expect(r[2]).toMatch(/^invalid-record: tickets/);
      expect(r[3]).toMatch(new RegExp(`^seat-conflict: .*row A seat 2 is held by ${first.tickets[1]!.ticketId.replace(/[.]/g, '\\.')}`));
    }
    const conflictLetter = dlq.find((m) => m.headers['x-dlq-reason']?.startsWith('seat-conflict'));
    expect(conflictLetter?.value?.toString()).toBe(JSON.stringify(conflicting));

    // The good records before and after the poison are stored; nothing of the conflicting one is.
    const expected = sortedEntries(
      new Map([
        [seatKey('1', 'A', 1), first.tickets[0]!.ticketId],
        [seatKey('1', 'A', 2), first.tickets[1]!.ticketId],
        [seatKey('1', 'B', 7), after.tickets[0]!.ticketId],
      ]),
    );
    await waitFor(
      async () => (await mysqlSeats(stores, eventId)).size === 3 && (await dynamoSeats(stores, eventId, ['1'])).size === 3,
      'both consumers to store the good records',
    );
    expect(sortedEntries(await dynamoSeats(stores, eventId, ['1']))).toEqual(expected);
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(expected);
    expect(await stores.writeModel.findTicket(conflicting.tickets[0]!.ticketId)).toBeUndefined();
    expect(await stores.readModel.findTicket(conflicting.tickets[0]!.ticketId)).toBeUndefined();
  });
});
