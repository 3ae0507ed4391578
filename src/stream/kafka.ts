import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import type { EventLog } from './event-log';
import { KAFKAJS_HARMLESS_WARNINGS, KafkajsEventLog } from './kafkajs-adapter';

/** The platform's one place that knows how to reach its event log and which topics it uses. */
export function topics(cfg: Pick<Config, 'KAFKA_TOPIC_PREFIX'>) {
  return {
    tickets: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.v1`,
    deadLetter: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.dlq`,
  };
}

/** The event log of this process. The adapter is chosen here: swapping the Kafka client changes this line. */
export function createEventLog(cfg: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'>, log: Logger): EventLog {
  return new KafkajsEventLog({ brokers: cfg.KAFKA_BROKERS.split(','), clientId: cfg.KAFKA_CLIENT_ID }, log);
}

/** Process warnings the event-log client raises that carry no information (main.ts drops them). */
export const HARMLESS_CLIENT_WARNINGS: ReadonlySet<string> = KAFKAJS_HARMLESS_WARNINGS;

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
