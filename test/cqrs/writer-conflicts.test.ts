import { DeleteTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { writeDynamoFence } from '../../src/reset/dynamo-fences';
import { cancellationOf, type TicketsCancelled } from '../../src/events/tickets-cancelled';
import { createDynamoClient } from '../../src/infra/connections';
import { partitionKey, type TicketPurchased } from '../../src/purchase/record';
import type { LogRecord } from '../../src/stream/event-log';
import { DynamoWriteModel, type WriteContext } from '../../src/writer/store';
import { dropAllTables, ensureTables, tableNames } from '../../src/writer/tables';
import { testConfig, uid, waitFor } from '../support/env';
import { record } from './support';

/**
 * The writer's conflict rules on the real DynamoDB endpoint, chunk by chunk, without the seat
 * read it used to do: the first record in the log wins a seat (in one chunk and across chunks),
 * a cancelled seat may be sold again, redelivery duplicates nothing, and what a writer instance
 * remembers of a zone is never trusted once another instance may have written it.
 */
let dynamo: DynamoDBClient;
let prefix: string;
/** DynamoDB requests by operation since the last `reset` (observed, not mocked). */
const requests = new Map<string, number>();

beforeAll(async () => {
  dynamo = createDynamoClient(testConfig());
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName);
      requests.set(name, (requests.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  prefix = uid('wc');
  await ensureTables(dynamo, prefix);
});

afterAll(async () => {
  await dropAllTables(dynamo, prefix);
  dynamo.destroy();
});

type Event = TicketPurchased | TicketsCancelled;
const cancel = (p: TicketPurchased) => cancellationOf(p, new Date('2030-01-01T10:00:00.000Z'));

/** A partition's log: `next(events)` numbers the events after the previous ones. */
function partitionLog(partition = 0) {
  let offset = 0;
  return {
    next: (events: Event[]): LogRecord[] =>
      events.map((e) => ({
        topic: 't',
        partition,
        offset: offset++,
        key: partitionKey(e.eventId, e.zoneId),
        value: Buffer.from(JSON.stringify(e)),
        headers: {},
      })),
    /** Continue numbering at `offset` (a redelivery from an earlier commit). */
    rewind: (to: number) => void (offset = to),
  };
}

async function seatsOf(model: DynamoWriteModel, eventId: string): Promise<Map<string, string>> {
  return new Map((await model.soldSeats(eventId, '1')).map((s) => [`${s.row}${s.column}`, s.ticketId]));
}

const seat = (row: string, column: number) => ({ row, column });
const reasons = (out: { deadLetters: { reason: string }[] }) => out.deadLetters.map((d) => d.reason.split(':')[0]);
const ctx = (assignment: number): WriteContext => ({ assignment });

test('two sales of one seat in one chunk: the first in the log wins, the second is dead-lettered', async () => {
  const eventId = uid('One');
  const model = new DynamoWriteModel(dynamo, prefix);
  const first = record(eventId, '1', [seat('A', 1), seat('A', 2)]);
  const second = record(eventId, '1', [seat('A', 2)]);
  const out = await model.writeChunk(partitionLog().next([first, second]), ctx(1));
  expect(out.ok).toBe(1);
  expect(reasons(out)).toEqual(['seat-conflict']);
  expect(await seatsOf(model, eventId)).toEqual(
    new Map([
      ['A1', first.tickets[0]!.ticketId],
      ['A2', first.tickets[1]!.ticketId],
    ]),
  );
  expect(await model.findTicket(second.tickets[0]!.ticketId)).toBeUndefined();
});

test('two sales of one seat across chunks: the first wins, and the common path reads no seat', async () => {
  const eventId = uid('Across');
  const model = new DynamoWriteModel(dynamo, prefix);
  const log = partitionLog();
  const first = record(eventId, '1', [seat('A', 1)]);
  await model.writeChunk(log.next([first]), ctx(1));
  requests.clear();
  // New seats of a zone the writer knows: written without any read.
  const fresh = Array.from({ length: 20 }, (_, i) => record(eventId, '1', [seat('B', i + 1)]));
  expect((await model.writeChunk(log.next(fresh), ctx(1))).ok).toBe(20);
  expect(requests.get('BatchGetItemCommand') ?? 0).toBe(0);
  expect(requests.get('QueryCommand') ?? 0).toBe(0);
  // A later sale of the sold seat: confirmed by a read of that seat only, then dead-lettered.
  const later = record(eventId, '1', [seat('A', 1)]);
  const out = await model.writeChunk(log.next([later]), ctx(1));
  expect(reasons(out)).toEqual(['seat-conflict']);
  expect((await seatsOf(model, eventId)).get('A1')).toBe(first.tickets[0]!.ticketId);
});

test('a chunk delivered again after a crash before its commit duplicates nothing, on the same or another instance', async () => {
  const eventId = uid('Redo');
  const a = new DynamoWriteModel(dynamo, prefix);
  const log = partitionLog();
  const sold = record(eventId, '1', [seat('A', 1), seat('A', 2)]);
  const resale = record(eventId, '1', [seat('A', 1)]);
  const chunk = log.next([sold, cancel(sold), resale, record(eventId, '1', [seat('C', 1)])]);
  expect((await a.writeChunk(chunk, ctx(1))).ok).toBe(4);
  // No commit: the same records again, to the same instance (it must not trust what it wrote
  // as "after" them) and to a fresh one.
  for (const model of [a, new DynamoWriteModel(dynamo, prefix)]) {
    const again = await model.writeChunk(chunk, ctx(2));
    expect(again).toMatchObject({ ok: 0, duplicate: 4, deadLetters: [] });
  }
  expect(await seatsOf(a, eventId)).toEqual(
    new Map([
      ['A1', resale.tickets[0]!.ticketId],
      ['C1', expect.any(String) as string],
    ]),
  );
  expect((await a.findTicket(sold.tickets[0]!.ticketId))?.status).toBe('CANCELLED');
  expect((await a.findTicket(resale.tickets[0]!.ticketId))?.status).toBe('CONFIRMED');
});

test('cancellation then resale of a seat in one chunk and across chunks; a later sale of the resold seat loses', async () => {
  const eventId = uid('Resale');
  const model = new DynamoWriteModel(dynamo, prefix);
  const log = partitionLog();
  // In one chunk: sale, cancel, resale, a conflicting sale.
  const p1 = record(eventId, '1', [seat('A', 1)]);
  const p2 = record(eventId, '1', [seat('A', 1)]);
  const p3 = record(eventId, '1', [seat('A', 1)]);
  const one = await model.writeChunk(log.next([p1, cancel(p1), p2, p3]), ctx(1));
  expect(one.ok).toBe(3);
  expect(reasons(one)).toEqual(['seat-conflict']);
  // Across chunks, one event per chunk.
  const q1 = record(eventId, '1', [seat('B', 1)]);
  const q2 = record(eventId, '1', [seat('B', 1)]);
  const q3 = record(eventId, '1', [seat('B', 1)]);
  for (const e of [q1, cancel(q1), q2]) expect((await model.writeChunk(log.next([e]), ctx(1))).deadLetters).toEqual([]);
  expect(reasons(await model.writeChunk(log.next([q3]), ctx(1)))).toEqual(['seat-conflict']);
  // The old sales delivered again (the sweep re-sent them) are duplicates, never brought back.
  const redelivered = await model.writeChunk(log.next([p1, q1]), ctx(1));
  expect(redelivered).toMatchObject({ ok: 0, duplicate: 2, deadLetters: [] });
  expect(await seatsOf(model, eventId)).toEqual(
    new Map([
      ['A1', p2.tickets[0]!.ticketId],
      ['B1', q2.tickets[0]!.ticketId],
    ]),
  );
  for (const t of [p1, q1]) expect((await model.findTicket(t.tickets[0]!.ticketId))?.status).toBe('CANCELLED');
});

test('a partition that moved to another instance and back: the first instance learns the zone again', async () => {
  const eventId = uid('Moved');
  const a = new DynamoWriteModel(dynamo, prefix);
  const b = new DynamoWriteModel(dynamo, prefix);
  const log = partitionLog();
  // A sells and cancels S: A remembers S as free, and F as never sold.
  const s1 = record(eventId, '1', [seat('S', 1)]);
  await a.writeChunk(log.next([s1, cancel(s1)]), ctx(1));
  const resume = 2;
  // B owns the partition now and sells both.
  const s2 = record(eventId, '1', [seat('S', 1)]);
  const f1 = record(eventId, '1', [seat('F', 1)]);
  await b.writeChunk(log.next([s2, f1]), ctx(2));
  // Back to A, under a new assignment, at the very offset A expects next: A must not trust its
  // memory (the records are contrived to differ from B's, so a stale memory would show).
  log.rewind(resume);
  const s3 = record(eventId, '1', [seat('S', 1)]);
  const f2 = record(eventId, '1', [seat('F', 1)]);
  expect(reasons(await a.writeChunk(log.next([s3, f2]), ctx(3)))).toEqual(['seat-conflict', 'seat-conflict']);
  // The same assignment but not the next offset (B committed records A never saw): learned again too.
  const s4 = record(eventId, '1', [seat('S', 1)]);
  const f3 = record(eventId, '1', [seat('F', 1)]);
  const c = new DynamoWriteModel(dynamo, prefix);
  const own = partitionLog();
  await c.writeChunk(own.next([record(eventId, '1', [seat('Z', 1)])]), ctx(4));
  own.rewind(10);
  expect(reasons(await c.writeChunk(own.next([s4, f3]), ctx(4)))).toEqual(['seat-conflict', 'seat-conflict']);
  expect(await seatsOf(a, eventId)).toEqual(
    new Map([
      ['S1', s2.tickets[0]!.ticketId],
      ['F1', f1.tickets[0]!.ticketId],
      ['Z1', expect.any(String) as string],
    ]),
  );
});

test('after an event reset the seat is sold again although the writer remembers it sold, and the old sale is read nowhere', async () => {
  const eventId = uid('Reset');
  const model = new DynamoWriteModel(dynamo, prefix);
  const log = partitionLog();
  const before = record(eventId, '1', [seat('A', 1)]);
  await model.writeChunk(log.next([before]), ctx(1));
  // The reset: a fence at the partition's end, generation 1 (what CqrsStores.fenceEvent records).
  await writeDynamoFence(dynamo, tableNames(prefix).resets, {
    eventId,
    generation: 1,
    partitions: { 0: 1 },
    resetAt: new Date().toISOString(),
  });
  expect(await seatsOf(model, eventId)).toEqual(new Map());
  expect(await model.findTicket(before.tickets[0]!.ticketId)).toBeUndefined();
  // The next chunk continues the last one (the writer would trust what it cached of the zone,
  // A1 sold to `before`), but in the new generation: the sale after the reset is written.
  const after = record(eventId, '1', [seat('A', 1)]);
  expect(await model.writeChunk(log.next([after]), ctx(1))).toMatchObject({ ok: 1, deadLetters: [] });
  expect(await seatsOf(model, eventId)).toEqual(new Map([['A1', after.tickets[0]!.ticketId]]));
  expect(await model.findTicket(after.tickets[0]!.ticketId)).toMatchObject({ status: 'CONFIRMED' });
  // The old sale delivered again (a redelivery from before the fence) is skipped, never a conflict.
  log.rewind(0);
  expect(await model.writeChunk(log.next([before]), ctx(1))).toMatchObject({ ok: 0, duplicate: 1, deadLetters: [] });
  expect(await seatsOf(model, eventId)).toEqual(new Map([['A1', after.tickets[0]!.ticketId]]));
  await model.dropEvent(eventId);
});

test('a failed write makes the writer learn the zone again before it trusts it', async () => {
  const own = uid('wf');
  await ensureTables(dynamo, own);
  try {
    const eventId = uid('Fail');
    const model = new DynamoWriteModel(dynamo, own);
    const log = partitionLog();
    await model.writeChunk(log.next([record(eventId, '1', [seat('A', 1)])]), ctx(1));
    // The tickets table goes away: the next chunk's write fails after it was planned.
    const tickets = model.tablesOf(eventId, 0).tickets;
    await dynamo.send(new DeleteTableCommand({ TableName: tickets }));
    await waitFor(
      () =>
        dynamo.send(new DescribeTableCommand({ TableName: tickets })).then(
          () => false,
          () => true,
        ),
      'the tickets table to be deleted',
    );
    const chunk = log.next([record(eventId, '1', [seat('B', 1)])]);
    await expect(model.writeChunk(chunk, ctx(1))).rejects.toThrow();
    await ensureTables(dynamo, own);
    requests.clear();
    // The consumer loop retries the same chunk: the zone is read again, then the chunk written.
    expect(await model.writeChunk(chunk, ctx(1))).toMatchObject({ ok: 1, deadLetters: [] });
    expect(requests.get('QueryCommand')).toBe(1);
  } finally {
    await dropAllTables(dynamo, own);
  }
});
