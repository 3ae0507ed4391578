import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { batchGetAll } from '../writer/batch';
import type { ResetFence } from './fence';

/** The fences of these events as DynamoDB holds them (ConsistentRead); an event never reset is absent. */
export async function readDynamoFences(dynamo: DynamoDBClient, table: string, eventIds: string[]): Promise<Map<string, ResetFence>> {
  if (eventIds.length === 0) return new Map();
  try {
    return await readFences(dynamo, table, eventIds);
  } catch (err) {
    // No table yet: nothing was ever reset (the writer and the reset create it, tables.ts).
    if (err instanceof ResourceNotFoundException) return new Map();
    throw err;
  }
}

async function readFences(dynamo: DynamoDBClient, table: string, eventIds: string[]): Promise<Map<string, ResetFence>> {
  const items =
    eventIds.length === 1
      ? [
          (await dynamo.send(new GetItemCommand({ TableName: table, Key: { eventId: { S: eventIds[0]! } }, ConsistentRead: true }))).Item,
        ].filter((i) => i !== undefined)
      : await batchGetAll(
          dynamo,
          table,
          eventIds.map((id) => ({ eventId: { S: id } })),
          { consistent: true, projection: '#e, #f', names: { '#e': 'eventId', '#f': 'fence' } },
        );
  return new Map(items.map((i) => [i.eventId?.S ?? '', JSON.parse(i.fence?.S ?? '{}') as ResetFence]));
}

/** Another reset of the event recorded its fence between this one's read and write. */
export class ConcurrentResetError extends Error {}

/**
 * Records a reset fence: from now on the writer skips the event's records before it. With
 * `replacing` (the generation this reset read), only over that generation's fence (or none):
 * two resets of one event never both take the next generation, nor does one move it back.
 */
export async function writeDynamoFence(dynamo: DynamoDBClient, table: string, fence: ResetFence, replacing?: number): Promise<void> {
  const item = { eventId: { S: fence.eventId }, fence: { S: JSON.stringify(fence) }, generation: { N: String(fence.generation) } };
  try {
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: item,
        ...(replacing === undefined
          ? {}
          : {
              // A fence written before `generation` was its own attribute has none: it was the only one.
              ConditionExpression: 'attribute_not_exists(eventId) OR attribute_not_exists(#g) OR #g = :prev',
              ExpressionAttributeNames: { '#g': 'generation' },
              ExpressionAttributeValues: { ':prev': { N: String(replacing) } },
            }),
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException)
      throw new ConcurrentResetError(
        `another reset of ${fence.eventId} recorded its fence first (generation ${replacing} is gone); wait for it to finish, then run the reset again`,
      );
    throw err;
  }
}
