import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Read and write capacity units as DynamoDB would charge them, counted on a client's requests.
 * dynalite answers `ReturnConsumedCapacity` with nothing useful, so the meter applies DynamoDB's
 * rules itself (on-demand, standard table class):
 *  - a write is 1 WCU per started KB of the item, once for the table and once per GSI that
 *    projects it (the tickets table projects ALL into two); a failed condition still costs 1;
 *  - a ConsistentRead GetItem/BatchGetItem key is 1 RCU per started 4 KB of the item, 1 for an
 *    absent item; a Query is 1 RCU per started 4 KB of the items it read (at least 1) per page.
 */
export interface CapacityCount {
  rcu: number;
  wcu: number;
  /** Requests and items per operation, e.g. `BatchWriteItem`: {requests, items}. */
  byOperation: Record<string, { requests: number; items: number }>;
}

const kb = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/** DynamoDB's item size: attribute names plus values (UTF-8; a number about half its digits). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, v] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (v.S !== undefined) size += Buffer.byteLength(v.S);
    else if (v.N !== undefined) size += Math.ceil(v.N.replace(/^-|\./g, '').length / 2) + 1;
    else if (v.BOOL !== undefined || v.NULL !== undefined) size += 1;
    else size += Buffer.byteLength(JSON.stringify(v));
  }
  return size;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/**
 * Counts capacity on `dynamo` until `stop()`. `gsis(table)` is how many GSIs project a table's
 * items. Item sizes of reads come from the items the meter saw written (key → bytes), since a
 * read with a projection returns less than it is charged for.
 */
export function meterCapacity(
  dynamo: DynamoDBClient,
  gsis: (table: string) => number,
  /** Item sizes seen written (shared between meters of one run). */
  sizes = new Map<string, number>(),
): { count: CapacityCount; sizes: Map<string, number>; stop(): void } {
  const count: CapacityCount = { rcu: 0, wcu: 0, byOperation: {} };
  const keyOf = (table: string, item: Record<string, AttributeValue>) =>
    `${table}|${item.ticketId?.S ?? ''}|${item.eventZone?.S ?? ''}|${item.seat?.S ?? ''}`;
  const op = (name: string, items: number) => {
    const o = (count.byOperation[name] ??= { requests: 0, items: 0 });
    o.requests++;
    o.items += items;
  };
  const write = (table: string, item: Record<string, AttributeValue>) => {
    const bytes = itemBytes(item);
    const seatTable = table.endsWith('-seats');
    sizes.set(keyOf(table, seatTable ? { eventZone: item.eventZone!, seat: item.seat! } : { ticketId: item.ticketId! }), bytes);
    count.wcu += kb(bytes, 1024) * (1 + gsis(table));
  };
  const readKey = (table: string, key: Record<string, AttributeValue>) => kb(sizes.get(keyOf(table, key)) ?? 0, 4096);
  let active = true;
  const name = 'capacityMeter';
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName ?? '').replace(/Command$/, '');
      const input = args.input as Input;
      if (active && (command === 'UpdateItem' || command === 'PutItem')) {
        // Charged before the call: a failed condition costs its WCU too.
        const table = input.TableName as string;
        const key = (input.Key ?? input.Item) as Record<string, AttributeValue>;
        count.wcu += kb(sizes.get(keyOf(table, key)) ?? 0, 1024) * (1 + gsis(table));
        op(command, 1);
      }
      const result = await next(args);
      if (!active) return result;
      const output = result.output as unknown as Output;
      if (command === 'BatchWriteItem') {
        const sent = input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, AttributeValue> } }[]>;
        const left = (output.UnprocessedItems ?? {}) as Record<string, unknown[]>;
        let items = 0;
        for (const [table, reqs] of Object.entries(sent)) {
          const done = reqs.length - (left[table]?.length ?? 0);
          items += done;
          // Unprocessed items are the last ones in practice; the meter charges the first `done`.
          for (const r of reqs.slice(0, done)) if (r.PutRequest) write(table, r.PutRequest.Item);
        }
        op(command, items);
      } else if (command === 'BatchGetItem') {
        const asked = input.RequestItems as Record<string, { Keys: Record<string, AttributeValue>[] }>;
        const left = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
        let items = 0;
        for (const [table, { Keys }] of Object.entries(asked)) {
          const done = Keys.length - (left[table]?.Keys?.length ?? 0);
          items += done;
          for (const k of Keys.slice(0, done)) count.rcu += readKey(table, k);
        }
        op(command, items);
      } else if (command === 'Query') {
        const table = input.TableName as string;
        const found = (output.Items ?? []) as Record<string, AttributeValue>[];
        // A projection may leave the partition key out of the items: take it from the key condition.
        const pk = (input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined)?.[':ez'];
        const bytes = found.reduce(
          (n, i) => n + (sizes.get(keyOf(table, pk && i.seat ? { eventZone: pk, seat: i.seat } : i)) ?? itemBytes(i)),
          0,
        );
        count.rcu += kb(bytes, 4096);
        op(command, found.length);
      } else if (command === 'GetItem') {
        count.rcu += readKey(input.TableName as string, input.Key as Record<string, AttributeValue>);
        op(command, 1);
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return {
    count,
    sizes,
    stop() {
      active = false;
      dynamo.middlewareStack.remove(name);
    },
  };
}
