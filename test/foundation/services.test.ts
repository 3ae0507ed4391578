import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { createDynamoClient } from '../../src/infra/connections';
import { createSqlClient } from '../../src/shared/sql';
import type { Subscription } from '../../src/stream/event-log';
import { createEventLog } from '../../src/stream/kafka';
import { testConfig, testLogger, uid, waitFor } from '../support/env';
import { testRedis } from '../support/platform';

/** The real services answer and behave as the platform uses them. */
const cfg = testConfig();

test('Redis: the platform instance persists with AOF and runs the purchase scripts by SHA', async () => {
  const redis = testRedis();
  try {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    const key = `${cfg.REDIS_KEY_PREFIX}inv:{${uid('svc')}:1}:meta`;
    // reserve.lua answers NO_INVENTORY (4) for a zone that does not exist.
    expect(
      await redis.tpReserve(
        key.replace('meta', 'bits'),
        key.replace('meta', 'counts'),
        key,
        key.replace('meta', 'pending'),
        key.replace('meta', 'p:x'),
        'h',
        'x',
        0,
        '{}',
        0,
        0,
      ),
    ).toEqual([4]);
  } finally {
    await redis.quit();
  }
});

test('Kafka 4: the event log creates a topic, produces idempotently with acks=all, consumes in a group and commits', async () => {
  const eventLog = createEventLog(cfg, testLogger());
  const topic = uid('svc.roundtrip.');
  const groupId = `${topic}.group`;
  const got: string[] = [];
  let reader: Subscription | undefined;
  try {
    await eventLog.ensureTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
    expect((await eventLog.endOffsets(topic)).map((p) => p.partition).sort()).toEqual([0, 1]);
    const producer = await eventLog.openProducer();
    await producer
      .send(topic, [
        { key: 'a', value: 'one' },
        { key: 'b', value: 'two' },
      ])
      .finally(() => producer.close());
    reader = await eventLog.consume({
      groupId,
      topic,
      onBatch: async (batch) => {
        for (const r of batch.records) got.push(r.value!.toString());
        await batch.commit(batch.records[batch.records.length - 1]!.offset + 1);
      },
    });
    await waitFor(() => got.length === 2, 'both messages', 30000);
    expect(got.sort()).toEqual(['one', 'two']);
    // The group committed its offsets: the broker knows where it stands.
    await waitFor(
      async () => [...(await eventLog.committedOffsets(groupId, topic)).values()].reduce((s, o) => s + o, 0) === 2,
      'committed offsets',
      15000,
    );
  } finally {
    await reader?.stop();
    await eventLog.deleteTopics([topic]).catch(() => undefined);
    await eventLog.close();
  }
});

test('dynalite: a conditional put rejects a duplicate', async () => {
  const db = createDynamoClient(cfg);
  const TableName = uid('svc-cond-');
  try {
    await db.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await waitUntilTableExists({ client: db, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName });
    const put = () =>
      db.send(new PutItemCommand({ TableName, Item: { pk: { S: 'seat#A1' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  } finally {
    await db.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    db.destroy();
  }
});

test('MariaDB: reachable as MySQL, database `ticketing` exists', async () => {
  const sql = createSqlClient(cfg.MYSQL_URL, { connections: 1 });
  try {
    const rows = await sql.select('SELECT DATABASE() AS db, VERSION() AS version');
    expect(rows).toEqual([expect.objectContaining({ db: 'ticketing', version: expect.stringMatching(/MariaDB|^\d/) })]);
  } finally {
    await sql.close();
  }
});

test('the machine Redis on 6379 is not the platform store (no persistence there)', async () => {
  const other = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await other.connect();
    expect(await other.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(cfg.REDIS_URL).not.toContain(':6379');
  } finally {
    other.disconnect();
  }
});
