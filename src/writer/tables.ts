import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type ListTablesCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * The write model's tables (the source of truth). What an event sells lives in tables of its
 * own, one pair per reset generation (docs/cqrs.md, "Reset (load tests)"), so a reset drops them
 * whole instead of deleting 156,000 items one by one:
 *  - `<prefix>.<eventId>.<generation>.seats`: PK `eventZone` = `<eventId>#<zoneId>`, SK `seat` =
 *    `<row>#<seat, 5 digits>`: one item per sold seat, so a seat's truth is one ConsistentRead
 *    and a zone is one Query.
 *  - `<prefix>.<eventId>.<generation>.tickets`: PK `ticketId` (which names the event,
 *    src/purchase/ids.ts), GSI `byUser` (userId, createdOn).
 *  - `<prefix>-resets`, shared: PK `eventId`, the reset fence of an event that a load test reset
 *    (src/reset/fence.ts); its `generation` names the event's current tables (0 when never reset).
 * Event ids never contain a dot, so `<prefix>.<eventId>.` starts only that event's tables.
 */
export function tableNames(prefix: string) {
  return { resets: `${prefix}-resets` };
}

export interface EventTables {
  seats: string;
  tickets: string;
}

/** The tables of one generation of an event. */
export function eventTableNames(prefix: string, eventId: string, generation: number): EventTables {
  const base = `${prefix}.${eventId}.${generation}`;
  return { seats: `${base}.seats`, tickets: `${base}.tickets` };
}

/** The definitions of one generation's tables of an event. */
export function eventTableDefinitions(names: EventTables): CreateTableCommandInput[] {
  return [seatTableDefinition(names.seats), ticketTableDefinition(names.tickets)];
}

export const eventZoneKey = (eventId: string, zoneId: string) => `${eventId}#${zoneId}`;
/** Zero-padded to 5 digits (a row holds up to 65535 seats) so a Query returns seats in order. */
export const seatSortKey = (row: string, column: number) => `${row}#${String(column).padStart(5, '0')}`;

export function parseSeatSortKey(sk: string): { row: string; column: number } | undefined {
  const m = /^([A-Za-z0-9]{1,8})#(\d{1,5})$/.exec(sk);
  return m ? { row: m[1]!, column: Number(m[2]) } : undefined;
}

/** The seat-keyed table: `eventId#zoneId` → `row#seat`, one item per sold seat. */
export function seatTableDefinition(TableName: string): CreateTableCommandInput {
  return {
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'eventZone', AttributeType: 'S' },
      { AttributeName: 'seat', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'eventZone', KeyType: 'HASH' },
      { AttributeName: 'seat', KeyType: 'RANGE' },
    ],
  };
}

/**
 * The ticket-keyed table: `ticketId`, GSI `byUser` (userId, createdOn). No `byEvent` index: the
 * table holds one event's tickets only (it was what a reset read to find them, and a third of a
 * ticket's writes).
 */
export function ticketTableDefinition(TableName: string): CreateTableCommandInput {
  return {
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'ticketId', AttributeType: 'S' },
      { AttributeName: 'userId', AttributeType: 'S' },
      { AttributeName: 'createdOn', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'ticketId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byUser',
        KeySchema: [
          { AttributeName: 'userId', KeyType: 'HASH' },
          { AttributeName: 'createdOn', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

function definitions(prefix: string): CreateTableCommandInput[] {
  const names = tableNames(prefix);
  return [
    {
      TableName: names.resets,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'eventId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
    },
  ];
}

/** Creates the shared tables when absent and waits until they are ACTIVE (idempotent, safe in parallel). */
export async function ensureTables(dynamo: DynamoDBClient, prefix: string, timeoutMs = 30000): Promise<void> {
  await Promise.all(definitions(prefix).map((def) => ensureTable(dynamo, def, timeoutMs)));
}

/** Creates the table when absent and waits until it is ACTIVE; true if this call created it. */
export async function ensureTable(dynamo: DynamoDBClient, def: CreateTableCommandInput, timeoutMs = 30000): Promise<boolean> {
  const name = def.TableName!;
  const status = await tableStatus(dynamo, name);
  let created = false;
  if (status === undefined) {
    try {
      await dynamo.send(new CreateTableCommand(def));
      created = true;
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err; // another process created it first
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (let now = await tableStatus(dynamo, name); now !== 'ACTIVE'; now = await tableStatus(dynamo, name)) {
    // Dropped, or being dropped (a reset moved the event on): as absent, so a writer re-reads the fence.
    if (now === 'DELETING' || (now === undefined && created))
      throw new ResourceNotFoundException({
        message: `DynamoDB table ${name} is being dropped (a reset); read the event's fence again`,
        $metadata: {},
      });
    if (Date.now() > deadline)
      throw new Error(`DynamoDB table ${name} is not ACTIVE after ${timeoutMs} ms; check the endpoint (DYNAMODB_ENDPOINT) and retry`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return created;
}

/** Starts creating the table if absent, without waiting for it (ensureTable waits). */
export async function createTableIfAbsent(dynamo: DynamoDBClient, def: CreateTableCommandInput): Promise<void> {
  try {
    await dynamo.send(new CreateTableCommand(def));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}

/**
 * Drops a table whole (dynalite removes its items and indexes in one LevelDB batch: 2–3 s for
 * the seed event's 78,000 tickets, against 12 s deleting them item by item). True if it was
 * there; a table already gone, or going, is not an error.
 */
export async function dropTable(dynamo: DynamoDBClient, name: string): Promise<boolean> {
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      await dynamo.send(new DeleteTableCommand({ TableName: name }));
      return true;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return false;
      // Still CREATING (a writer is creating it): drop it once it is ACTIVE.
      if (!(err instanceof ResourceInUseException) || Date.now() > deadline) throw err;
    }
  }
}

/**
 * Every table whose name starts with `head`, in name order (ListTables pages from `head`). For
 * clean-ups only: dynalite answers ListTables by walking every key of its store.
 */
export async function listTables(dynamo: DynamoDBClient, head: string): Promise<string[]> {
  const out: string[] = [];
  let start: string | undefined = head;
  for (;;) {
    const page: ListTablesCommandOutput = await dynamo.send(new ListTablesCommand({ ExclusiveStartTableName: start, Limit: 100 }));
    const names = page.TableNames ?? [];
    out.push(...names.filter((n) => n.startsWith(head)));
    // Names come in order: past the last one starting with `head`, there is no other.
    if (!page.LastEvaluatedTableName || names.some((n) => n > head && !n.startsWith(head))) return out;
    start = page.LastEvaluatedTableName;
  }
}

/** Drops every table of a prefix: the shared ones and every event's (tests and benches clean up with it). */
export async function dropAllTables(dynamo: DynamoDBClient, prefix: string): Promise<void> {
  const names = new Set([...Object.values(tableNames(prefix)), ...(await listTables(dynamo, `${prefix}.`))]);
  await Promise.all([...names].map((n) => dropTable(dynamo, n).catch(() => undefined)));
}

async function tableStatus(dynamo: DynamoDBClient, name: string): Promise<string | undefined> {
  try {
    const out = await dynamo.send(new DescribeTableCommand({ TableName: name }));
    return out.Table?.TableStatus;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}
