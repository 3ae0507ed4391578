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
  await ensureTopics(ctx.kafka, cfg);
  const t = topics(cfg);
  const loop = await startConsumerLoop({
    kafka: ctx.kafka,
    groupId: projectorGroup(cfg.KAFKA_TOPIC_PREFIX),
    topic: t.tickets,
    deadLetterTopic: t.deadLetter,
    handle: (messages) => projectChunk(ctx.mysql, messages),
    log,
  });
  return {
    name: 'projector',
    readiness: [
      { name: 'mysql', check: () => ctx.mysql.query('SELECT 1') },
      { name: 'projector-consumer', check: () => loop.check() },
    ],
    async stop() {
      await loop.stop();
    },
  };
}
