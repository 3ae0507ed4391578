import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;
export interface TableWrite {
  table: string;
  request: WriteRequest;
}

const WRITE_LIMIT = 25;
const GET_LIMIT = 100;
const MAX_ATTEMPTS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Exponential backoff with full jitter, capped at 2 s. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt));

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` over the items with at most `concurrency` calls in flight. */
export async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * BatchWriteItem in calls of 25 (tables may mix), `concurrency` calls in flight, and
 * UnprocessedItems retried with backoff until written. Throws when a call keeps failing,
 * so the caller leaves its offsets uncommitted.
 */
export async function batchWriteAll(dynamo: DynamoDBClient, writes: TableWrite[], concurrency = 8): Promise<void> {
  await inParallel(chunks(writes, WRITE_LIMIT), concurrency, async (chunk) => {
    let pending: Record<string, WriteRequest[]> = {};
    for (const w of chunk) (pending[w.table] ??= []).push(w.request);
    for (let attempt = 0; Object.keys(pending).length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchWriteItem left items unprocessed after ${MAX_ATTEMPTS} attempts; DynamoDB is throttling or failing`);
      if (attempt > 0) await backoff(attempt);
      const out = await dynamo.send(new BatchWriteItemCommand({ RequestItems: pending }));
      pending = Object.fromEntries(Object.entries(out.UnprocessedItems ?? {}).filter(([, reqs]) => reqs.length > 0));
    }
  });
}

/** BatchGetItem in calls of 100 keys, UnprocessedKeys retried; returns every item found. */
export async function batchGetAll(
  dynamo: DynamoDBClient,
  table: string,
  keys: Item[],
  opts: { consistent: boolean; projection?: string; names?: Record<string, string>; concurrency?: number },
): Promise<Item[]> {
  const found: Item[] = [];
  await inParallel(chunks(keys, GET_LIMIT), opts.concurrency ?? 8, async (chunk) => {
    let pending: Item[] = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchGetItem left keys unprocessed after ${MAX_ATTEMPTS} attempts; DynamoDB is throttling or failing`);
      if (attempt > 0) await backoff(attempt);
      const out = await dynamo.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: opts.consistent,
              ...(opts.projection ? { ProjectionExpression: opts.projection } : {}),
              ...(opts.names ? { ExpressionAttributeNames: opts.names } : {}),
            },
          },
        }),
      );
      found.push(...(out.Responses?.[table] ?? []));
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  });
  return found;
}
