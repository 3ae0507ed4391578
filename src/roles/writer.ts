import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { RuntimeContext } from '../infra/connections';
import { startConsumerLoop } from '../stream/consumer';
import { ensureTopics, topics } from '../stream/kafka';
import { writerGroup } from '../writer/rebuild-source';
import { DynamoWriteModel } from '../writer/store';
import { ensureTables } from '../writer/tables';
import type { RoleHandle } from './role';

/** The writer role: Kafka → DynamoDB (the write model, source of truth). */
export async function startWriter(ctx: RuntimeContext): Promise<RoleHandle> {
  const { cfg } = ctx;
  const log = ctx.log.child({ component: 'writer' });
  await ensureTables(ctx.dynamo, cfg.DYNAMODB_TABLE_PREFIX);
  await ensureTopics(ctx.eventLog, cfg);
  const model = new DynamoWriteModel(ctx.dynamo, cfg.DYNAMODB_TABLE_PREFIX);
  const t = topics(cfg);
  const loop = await startConsumerLoop({
    eventLog: ctx.eventLog,
    groupId: writerGroup(cfg.KAFKA_TOPIC_PREFIX),
    topic: t.tickets,
    deadLetterTopic: t.deadLetter,
    handle: (records, _partition, batch) => model.writeChunk(records, { assignment: batch.assignment, heartbeat: batch.heartbeat }),
    log,
    faults: ctx.faults.consumer,
  });
  return {
    name: 'writer',
    readiness: [
      // DescribeTable of its shared table (the reset fences), a point read: dynalite answers
      // ListTables by walking every key of its store, which under a readiness probe kept old
      // LevelDB files on disk (docs/performance.md, "Reset").
      { name: 'dynamodb', check: () => ctx.dynamo.send(new DescribeTableCommand({ TableName: model.tables.resets })) },
      { name: 'writer-consumer', check: () => loop.check() },
    ],
    async stop() {
      await loop.stop();
    },
  };
}
