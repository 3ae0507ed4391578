import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import type { EventLog, ProducerClient } from './event-log';
import { KAFKAJS_HARMLESS_WARNINGS, KafkajsEventLog } from './kafkajs-adapter';
import { platformaticProducers } from './platformatic-producer';

/** The platform's one place that knows how to reach its event log and which topics it uses. */
export function topics(cfg: Pick<Config, 'KAFKA_TOPIC_PREFIX'>) {
  return {
    tickets: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.v1`,
    deadLetter: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.dlq`,
  };
}

/**
 * The event log of this process; the adapters are chosen here. Consumers and admin run on
 * kafkajs. The producer runs on `@platformatic/kafka` (0.40× kafkajs's CPU per record on the
 * purchase path, docs/performance.md "Kafka client"), or on kafkajs with
 * `KAFKA_PRODUCER_CLIENT=kafkajs`.
 */
export function createEventLog(
  cfg: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'> & Partial<Pick<Config, 'KAFKA_PRODUCER_CLIENT'>>,
  log: Logger,
): EventLog {
  const settings = { brokers: cfg.KAFKA_BROKERS.split(','), clientId: cfg.KAFKA_CLIENT_ID };
  const kafkajs = new KafkajsEventLog(settings, log);
  return (cfg.KAFKA_PRODUCER_CLIENT ?? 'platformatic') === 'kafkajs'
    ? kafkajs
    : withProducers(kafkajs, platformaticProducers(settings, log));
}

/** `log` with its producers from `producers`; everything else as `log` does it. */
export function withProducers(log: EventLog, producers: ProducerClient): EventLog {
  return {
    sendOverrunMs: producers.sendOverrunMs,
    openProducer: () => producers.openProducer(),
    ensureTopics: (specs) => log.ensureTopics(specs),
    deleteTopics: (names) => log.deleteTopics(names),
    consume: (opts) => log.consume(opts),
    endOffsets: (topic) => log.endOffsets(topic),
    committedOffsets: (groupId, topic) => log.committedOffsets(groupId, topic),
    partitionOf: (key, partitions) => log.partitionOf(key, partitions),
    close: () => log.close(),
  };
}

/**
 * Drops the process warnings the event-log client raises that carry no information (kafkajs on
 * Node ≥ 23, see the adapter) and prints every other warning. Entry points call it once.
 */
export function quietHarmlessClientWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!KAFKAJS_HARMLESS_WARNINGS.has(w.name)) process.stderr.write(`${w.name}: ${w.message}\n`);
  });
}

/** Creates the platform's topics when absent (idempotent). */
export async function ensureTopics(
  eventLog: EventLog,
  cfg: Pick<Config, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_PARTITIONS' | 'KAFKA_REPLICATION_FACTOR' | 'KAFKA_MIN_INSYNC_REPLICAS'>,
): Promise<void> {
  const t = topics(cfg);
  const minInsync = String(Math.min(cfg.KAFKA_MIN_INSYNC_REPLICAS, cfg.KAFKA_REPLICATION_FACTOR));
  await eventLog.ensureTopics(
    [t.tickets, t.deadLetter].map((name) => ({
      name,
      partitions: cfg.KAFKA_PARTITIONS,
      replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
      configs: { 'min.insync.replicas': minInsync },
    })),
  );
}
