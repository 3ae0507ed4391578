import { ConditionalCheckFailedException, CreateTableCommand, DeleteTableCommand, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { createDynamoClient, createSequelize } from '../../src/infra/connections';
import { createKafka } from '../../src/stream/kafka';
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
    expect(await redis.tpReserve(key.replace('meta', 'bits'), key.replace('meta', 'counts'), key, key.replace('meta', 'pending'), key.replace('meta', 'p:x'), 'h', 'x', 0, '{}', 0, 0)).toEqual([4]);
  } finally {
    await redis.quit();
  }
});

test('Kafka 4: kafkajs creates a topic, produces idempotently with acks=all, consumes in a group', async () => {
  const kafka = createKafka(cfg, testLogger());
  const topic = uid('svc.roundtrip.');
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `${topic}.group` });
  try {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    await producer.connect();
    const sent = await producer.send({ topic, acks: -1, messages: [{ key: 'a', value: 'one' }, { key: 'b', value: 'two' }] });
    expect(sent.every((r) => r.errorCode === 0)).toBe(true);
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await waitFor(() => got.length === 2, 'both messages', 30000);
    expect(got.sort()).toEqual(['one', 'two']);
    // The group committed its offsets: the broker knows where it stands.
    await waitFor(async () => {
      const offsets = await admin.fetchOffsets({ groupId: `${topic}.group`, topics: [topic] });
      return offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0) === 2;
    }, 'committed offsets', 15000);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test('dynalite: a conditional put rejects a duplicate', async () => {
  const db = createDynamoClient(cfg);
  const TableName = uid('svc-cond-');
  try {
    await db.send(new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
    await waitUntilTableExists({ client: db, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName });
    const put = () => db.send(new PutItemCommand({ TableName, Item: { pk: { S: 'seat#A1' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  } finally {
    await db.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    db.destroy();
  }
});

test('MariaDB: reachable as MySQL, database `ticketing` exists', async () => {
  const sql = createSequelize(cfg.MYSQL_URL);
  try {
    const [rows] = await sql.query('SELECT DATABASE() AS db, VERSION() AS version');
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
