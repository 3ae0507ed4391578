import { permanentSqlError } from '../../src/projector/sql-errors';
import { partitionKey } from '../../src/purchase/record';
import { createSqlClient } from '../../src/shared/sql';
import { topics } from '../../src/stream/kafka';
import { uid, waitFor } from '../support/env';
import { readRecords } from '../support/kafka';
import { startTestPlatform } from '../support/platform';
import { asMessage, mysqlSeats, produce, record, seatKey, sortedEntries, testStores } from './support';

/**
 * A record MySQL can never store (here a purchase date after 9999, outside DATETIME's range,
 * which the decoder accepts as an ISO date) is dead-lettered by the projector instead of being
 * retried for ever; the records around it in the same partition are stored.
 */
test('the projector dead-letters a record MySQL refuses every time, commits, and stores the records around it', async () => {
  const eventId = uid('Unstorable');
  const platform = await startTestPlatform(['projector']);
  const stores = testStores(platform.cfg);
  try {
    const key = partitionKey(eventId, '1'); // one partition: the log order below is the order handled
    const before = record(eventId, '1', [{ row: 'A', column: 1 }]);
    const farFuture = {
      ...record(eventId, '1', [
        { row: 'A', column: 2 },
        { row: 'A', column: 3 },
      ]),
      createdOn: '+010000-01-01T00:00:00.000Z',
    };
    const after = record(eventId, '1', [{ row: 'B', column: 1 }]);
    await produce(platform.ctx.eventLog, platform.cfg.KAFKA_TOPIC_PREFIX, [
      asMessage(before),
      { key, value: JSON.stringify(farFuture) },
      asMessage(after),
    ]);

    await waitFor(async () => (await stores.waitForGroup('projector', 0)) === 0, 'the projector to commit the end of the log', 30000, 200);
    expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(
      sortedEntries(
        new Map([
          [seatKey('1', 'A', 1), before.tickets[0]!.ticketId],
          [seatKey('1', 'B', 1), after.tickets[0]!.ticketId],
        ]),
      ),
    );

    const [letter, ...more] = await readRecords(platform.ctx.eventLog, topics(platform.cfg).deadLetter, (r) => r.length >= 1, 30000);
    expect(more).toEqual([]);
    expect(letter!.value?.toString()).toBe(JSON.stringify(farFuture));
    expect(letter!.key).toBe(key);
    expect(letter!.headers).toMatchObject({ 'x-dlq-group': stores.groups.projector });
    expect(letter!.headers['x-dlq-reason']).toMatch(/^unstorable-in-read-model: ER_TRUNCATED_WRONG_VALUE: Incorrect datetime value/);
  } finally {
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await stores.closeAll();
    await platform.stop();
  }
});

test('a data error is permanent; a connection failure is not (it is retried, never dead-lettered)', async () => {
  const sql = createSqlClient('mysql://root@127.0.0.1:3306/ticketing');
  const unreachable = createSqlClient('mysql://root@127.0.0.1:1/ticketing');
  try {
    // A temporary table of this connection only (the transaction pins the connection).
    const dataError = await sql
      .transaction(async (tx) => {
        await tx.run('CREATE TEMPORARY TABLE tmp_unstorable (d DATETIME(3) NOT NULL, s VARCHAR(2) NOT NULL)', []);
        await tx.run("INSERT INTO tmp_unstorable VALUES ('+010000-01-01 00:00:00.000', 'ok')", []);
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const tooLong = await sql
      .transaction(async (tx) => {
        await tx.run('CREATE TEMPORARY TABLE tmp_too_long (s VARCHAR(2) NOT NULL)', []);
        await tx.run("INSERT INTO tmp_too_long VALUES ('abc')", []);
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(permanentSqlError(tooLong)).toMatchObject({ code: 'ER_DATA_TOO_LONG' });
    expect(permanentSqlError(dataError)).toMatchObject({ code: 'ER_TRUNCATED_WRONG_VALUE' });
    const connectionError = await unreachable.select('SELECT 1', []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(connectionError).toBeDefined();
    expect(permanentSqlError(connectionError)).toBeUndefined();
  } finally {
    await sql.close();
    await unreachable.close();
  }
});
