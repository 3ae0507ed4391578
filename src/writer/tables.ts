import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * The write model's tables (the source of truth):
 *  - seats:   PK `eventZone` = `<eventId>#<zoneId>`, SK `seat` = `<row>#<seat, 5 digits>`: one item
 *             per sold seat, so a seat's truth is one ConsistentRead and a zone is one Query.
 *  - tickets: PK `ticketId`, GSIs `byEvent` (eventId, ticketId) and `byUser` (userId, createdOn).
 *  - resets:  PK `eventId`: the reset fence of an event that a load test reset (src/reset/fence.ts).
 */
export function tableNames(prefix: string) {
  return { seats: `${prefix}-seats`, tickets: `${prefix}-tickets`, resets: `${prefix}-resets` };
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

function definitions(prefix: string): CreateTableCommandInput[] {
  const names = tableNames(prefix);
  const all = { Projection: { ProjectionType: 'ALL' as const } };
  return [
    seatTableDefinition(names.seats),
    {
      TableName: names.resets,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'eventId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
    },
    {
      TableName: names.tickets,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'ticketId', AttributeType: 'S' },
        { AttributeName: 'eventId', AttributeType: 'S' },
        { AttributeName: 'userId', AttributeType: 'S' },
        { AttributeName: 'createdOn', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'ticketId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byEvent',
          KeySchema: [
            { AttributeName: 'eventId', KeyType: 'HASH' },
            { AttributeName: 'ticketId', KeyType: 'RANGE' },
          ],
          ...all,
        },
        {
          IndexName: 'byUser',
          KeySchema: [
            { AttributeName: 'userId', KeyType: 'HASH' },
            { AttributeName: 'createdOn', KeyType: 'RANGE' },
          ],
          ...all,
        },
      ],
    },
  ];
}

/** Creates the tables when absent and waits until they are ACTIVE (idempotent, safe in parallel). */
export async function ensureTables(dynamo: DynamoDBClient, prefix: string, timeoutMs = 30000): Promise<void> {
  await Promise.all(definitions(prefix).map((def) => ensureTable(dynamo, def, timeoutMs)));
}

export async function ensureTable(dynamo: DynamoDBClient, def: CreateTableCommandInput, timeoutMs = 30000): Promise<void> {
  const name = def.TableName!;
  const status = await tableStatus(dynamo, name);
  if (status === undefined) {
    try {
      await dynamo.send(new CreateTableCommand(def));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err; // another process created it first
    }
  }
  const deadline = Date.now() + timeoutMs;
  while ((await tableStatus(dynamo, name)) !== 'ACTIVE') {
    if (Date.now() > deadline)
      throw new Error(`DynamoDB table ${name} is not ACTIVE after ${timeoutMs} ms; check the endpoint (DYNAMODB_ENDPOINT) and retry`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
