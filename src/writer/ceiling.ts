import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { batchWriteAll, inParallel, type TableWrite } from './batch';
import {
  dropAllTables,
  ensureTable,
  eventTableDefinitions,
  eventTableNames,
  eventZoneKey,
  seatSortKey,
  seatTableDefinition,
} from './tables';

export interface CeilingOptions {
  /** Table name prefix; the scratch table is `<prefix>-scratch-<random>` and is deleted after. */
  tablePrefix: string;
  /** Items to write in total (default 5000). */
  items?: number;
  /** Parallel callers, each sending one BatchWriteItem of 25 at a time (default 8). */
  callers?: number;
  /**
   * `seat` (default): seat-sized items into one seat-shaped table without indexes. `writer`: the
   * writer's own mix, a ticket item (into a tickets table with its GSI) and a seat item
   * per ticket, each with the writer's attributes: the ceiling of what the writer writes.
   */
  shape?: 'seat' | 'writer';
}

export interface CeilingResult {
  items: number;
  callers: number;
  seconds: number;
  itemsPerSecond: number;
  callsPerSecond: number;
}

/**
 * The DynamoDB endpoint's own BatchWriteItem ceiling: items/s written by `callers` parallel
 * callers into a scratch table shaped like the seat table (same key schema, a seat-sized item),
 * so the load lab can report "writer tickets/s vs the store's ceiling" on the same machine.
 */
export async function measureBatchWriteCeiling(dynamo: DynamoDBClient, opts: CeilingOptions): Promise<CeilingResult> {
  if (opts.shape === 'writer') return writerMixCeiling(dynamo, opts);
  const items = opts.items ?? 5000;
  const table = `${opts.tablePrefix}-scratch-${randomBytes(4).toString('hex')}`;
  await ensureTable(dynamo, seatTableDefinition(table));
  try {
    const writes: TableWrite[] = Array.from({ length: items }, (_, i) => ({
      table,
      request: {
        PutRequest: {
          Item: {
            eventZone: { S: `Bench#${i % 16}` },
            seat: { S: `R${Math.floor(i / 1000)}#${String(i % 1000).padStart(5, '0')}` },
            ticketId: { S: `Bench.${i % 16}.${randomBytes(12).toString('base64url')}.1` },
            purchaseId: { S: `Bench.${i % 16}.${randomBytes(12).toString('base64url')}` },
            userId: { S: `user-${i % 997}` },
            priceCents: { N: '5000' },
            createdOn: { S: new Date().toISOString() },
          },
        },
      },
    }));
    return await timedWrites(dynamo, writes, opts.callers ?? 8);
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
}

/** Each caller sends one 25-item call at a time: `callers` calls in flight. */
async function timedWrites(dynamo: DynamoDBClient, writes: TableWrite[], callers: number): Promise<CeilingResult> {
  const started = process.hrtime.bigint();
  const perCaller = Math.ceil(writes.length / callers);
  const slices = Array.from({ length: callers }, (_, c) => writes.slice(c * perCaller, (c + 1) * perCaller));
  await inParallel(slices, callers, (slice) => batchWriteAll(dynamo, slice, 1));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const items = writes.length;
  return { items, callers, seconds, itemsPerSecond: items / seconds, callsPerSecond: Math.ceil(items / 25) / seconds };
}

/** The writer's item mix into scratch tables of the write model's own shape (an event's tables, tables.ts). */
async function writerMixCeiling(dynamo: DynamoDBClient, opts: CeilingOptions): Promise<CeilingResult> {
  const tickets = Math.ceil((opts.items ?? 5000) / 2);
  const prefix = `${opts.tablePrefix}-mix-${randomBytes(4).toString('hex')}`;
  const names = eventTableNames(prefix, 'Bench', 0);
  await Promise.all(eventTableDefinitions(names).map((def) => ensureTable(dynamo, def)));
  try {
    const writes: TableWrite[] = [];
    for (let i = 0; i < tickets; i++) {
      const zone = String(i % 16);
      const purchaseId = `Bench.${zone}.${randomBytes(12).toString('base64url')}`;
      const row = `R${Math.floor(i / 1000)}`;
      const column = 1 + (i % 1000);
      // The attributes of the writer's ticket item (src/writer/store.ts ticketItem), on both tables.
      const Item = {
        ticketId: { S: `${purchaseId}.1` },
        purchaseId: { S: purchaseId },
        eventId: { S: 'Bench' },
        zoneId: { S: zone },
        venueId: { S: 'Venue1' },
        userId: { S: `user-${i % 997}` },
        row: { S: row },
        column: { N: String(column) },
        priceCents: { N: '5000' },
        currency: { S: 'USD' },
        createdOn: { S: new Date().toISOString() },
        ticketCount: { N: '1' },
        eventZone: { S: eventZoneKey('Bench', zone) },
        seat: { S: seatSortKey(row, column) },
      };
      writes.push({ table: names.tickets, request: { PutRequest: { Item } } }, { table: names.seats, request: { PutRequest: { Item } } });
    }
    return await timedWrites(dynamo, writes, opts.callers ?? 8);
  } finally {
    await dropAllTables(dynamo, prefix);
  }
}
