import { migrate } from '../projector/migrations';
import { projectChunk, projectorGroup } from '../projector/project';
import type { RuntimeContext } from '../infra/connections';
import { startConsumerLoop } from '../stream/consumer';
import { ensureTopics, topics } from '../stream/kafka';
import type { RoleHandle } from './role';

/** The projector role: Kafka → MySQL (the read model). */
export async function startProjector(ctx: RuntimeContext): Promise<RoleHandle> {
  const { cfg } = ctx;
  const log = ctx.log.child({ component: 'projector' });
  const applied = await migrate(ctx.mysql);
  if (applied.length) log.info({ applied }, 'read-model migrations applied');
  await ensureTopics(ctx.eventLog, cfg);
  const t = topics(cfg);
  const loop = await startConsumerLoop({
    eventLog: ctx.eventLog,
    groupId: projectorGroup(cfg.KAFKA_TOPIC_PREFIX),
    topic: t.tickets,
    deadLetterTopic: t.deadLetter,
    handle: (records) => projectChunk(ctx.mysql, records),
    log,
    faults: ctx.faults.consumer,
  });
  return {
    name: 'projector',
    readiness: [
      { name: 'mysql', check: () => ctx.mysql.select('SELECT 1') },
      { name: 'projector-consumer', check: () => loop.check() },
    ],
    async stop() {
      await loop.stop();
    },
  };
}
