import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';

/** The platform's one place that knows how to reach Kafka and which topics it uses. */
export function topics(cfg: Pick<Config, 'KAFKA_TOPIC_PREFIX'>) {
  return {
    tickets: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.v1`,
    deadLetter: `${cfg.KAFKA_TOPIC_PREFIX}.tickets.dlq`,
  };
}

export function createKafka(cfg: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'>, log: Logger, clientSuffix = ''): Kafka {
  const toPino = (level: logLevel) =>
    level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
  return new Kafka({
    clientId: `${cfg.KAFKA_CLIENT_ID}${clientSuffix}`,
    brokers: cfg.KAFKA_BROKERS.split(','),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[toPino(level)]({ kafka: rest }, `kafka: ${message}`);
      },
  });
}

/** Creates the platform's topics when absent (idempotent). */
export async function ensureTopics(
  kafka: Kafka,
  cfg: Pick<Config, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_PARTITIONS' | 'KAFKA_REPLICATION_FACTOR' | 'KAFKA_MIN_INSYNC_REPLICAS'>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const t = topics(cfg);
    const existing = new Set(await admin.listTopics());
    const missing = [t.tickets, t.deadLetter].filter((name) => !existing.has(name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: cfg.KAFKA_PARTITIONS,
          replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
          configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(cfg.KAFKA_MIN_INSYNC_REPLICAS, cfg.KAFKA_REPLICATION_FACTOR)) }],
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
