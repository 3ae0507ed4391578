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
  await inParallel(chunks(writes, WRITE_LIMIT), concurrency, (chunk) => writeCall(dynamo, chunk));
}

/** One BatchWriteItem of up to 25 items, its UnprocessedItems retried with backoff until written. */
async function writeCall(dynamo: DynamoDBClient, chunk: TableWrite[]): Promise<void> {
  let pending: Record<string, WriteRequest[]> = {};
  for (const w of chunk) (pending[w.table] ??= []).push(w.request);
  for (let attempt = 0; Object.keys(pending).length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS)
      throw new Error(`BatchWriteItem left items unprocessed after ${MAX_ATTEMPTS} attempts; DynamoDB is throttling or failing`);
    if (attempt > 0) await backoff(attempt);
    const out = await dynamo.send(new BatchWriteItemCommand({ RequestItems: pending }));
    pending = Object.fromEntries(Object.entries(out.UnprocessedItems ?? {}).filter(([, reqs]) => reqs.length > 0));
  }
}

/**
 * BatchWriteItem of pairs where `then` may only be written once its `first` is (a seat item
 * after its ticket item): calls of 25 with `concurrency` in flight, the `then` items sent as
 * soon as their `first` items are stored instead of after all of them, so no phase waits for
 * the slowest call of the one before. Throws (and stops sending) when a call keeps failing.
 */
export async function batchWriteInOrder(
  dynamo: DynamoDBClient,
  pairs: { first: TableWrite; then?: TableWrite }[],
  concurrency = 8,
): Promise<void> {
  const firsts = chunks(pairs, WRITE_LIMIT);
  let next = 0;
  let firstsLeft = firsts.length;
  let failed = false;
  const ready: TableWrite[] = [];
  let wake: () => void = () => undefined;
  let woken = new Promise<void>((resolve) => (wake = resolve));
  const signal = () => {
    wake();
    woken = new Promise<void>((resolve) => (wake = resolve));
  };
  const worker = async () => {
    while (!failed) {
      if (ready.length >= WRITE_LIMIT || (ready.length > 0 && next >= firsts.length)) {
        await writeCall(dynamo, ready.splice(0, WRITE_LIMIT));
      } else if (next < firsts.length) {
        const chunk = firsts[next++]!;
        await writeCall(
          dynamo,
          chunk.map((p) => p.first),
        );
        for (const p of chunk) if (p.then) ready.push(p.then);
        firstsLeft--;
        signal();
      } else if (firstsLeft === 0 && ready.length === 0) return;
      else await woken;
    }
  };
  // Every worker settles before this returns or throws: no call of a failed chunk is still in
  // flight when the consumer loop retries it.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(concurrency, firsts.length)) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        signal();
        throw err;
      }),
    ),
  );
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
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
