import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { batchWriteAll, inParallel, type TableWrite } from './batch';
import { ensureTable, seatTableDefinition } from './tables';

export interface CeilingOptions {
  /** Table name prefix; the scratch table is `<prefix>-scratch-<random>` and is deleted after. */
  tablePrefix: string;
  /** Items to write in total (default 5000). */
  items?: number;
  /** Parallel callers, each sending one BatchWriteItem of 25 at a time (default 8). */
  callers?: number;
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
  const items = opts.items ?? 5000;
  const callers = opts.callers ?? 8;
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
    const started = process.hrtime.bigint();
    // Each caller sends one 25-item call at a time: `callers` calls in flight.
    const perCaller = Math.ceil(writes.length / callers);
    const slices = Array.from({ length: callers }, (_, c) => writes.slice(c * perCaller, (c + 1) * perCaller));
    await inParallel(slices, callers, (slice) => batchWriteAll(dynamo, slice, 1));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { items, callers, seconds, itemsPerSecond: items / seconds, callsPerSecond: Math.ceil(items / 25) / seconds };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
}
