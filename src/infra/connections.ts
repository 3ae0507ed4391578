import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../config/config';
import { withScripts, type ScriptedRedis } from '../commands/scripts';
import { createRedisClient } from '../shared/redis';
import type { Logger } from '../observability/logger';
import { createSqlClient, type SqlClient } from '../shared/sql';
import type { ConsumerFaults } from '../stream/consumer';
import type { EventLog } from '../stream/event-log';
import { createEventLog } from '../stream/kafka';

/** Test-only fault hooks, handed to the roles by whoever starts the platform (never configuration). */
export interface PlatformFaults {
  consumer?: ConsumerFaults;
}

/**
 * The infrastructure of one process: its settings, its logger and the connections its roles
 * share (Redis with the inventory scripts, Kafka, DynamoDB, MySQL), each created on first use
 * and closed once. Roles and admin tools receive it; only src/runtime/platform.ts (and the
 * admin CLI, an entry point of its own) create one.
 */
export class RuntimeContext {
  private redisConn: ScriptedRedis | undefined;
  private eventLogClient: EventLog | undefined;
  private dynamoClient: DynamoDBClient | undefined;
  private sql: SqlClient | undefined;

  constructor(
    readonly cfg: Config,
    readonly log: Logger,
    readonly faults: PlatformFaults = {},
  ) {}

  get redis(): ScriptedRedis {
    this.redisConn ??= withScripts(createRedisClient(this.cfg, { connectionName: `ticketing-${this.cfg.ROLE}` }));
    return this.redisConn;
  }

  /** The event log (Kafka) behind the seam in src/stream/event-log.ts. */
  get eventLog(): EventLog {
    this.eventLogClient ??= createEventLog(this.cfg, this.log.child({ component: 'kafka' }));
    return this.eventLogClient;
  }

  get dynamo(): DynamoDBClient {
    this.dynamoClient ??= createDynamoClient(this.cfg);
    return this.dynamoClient;
  }

  get mysql(): SqlClient {
    this.sql ??= createSqlClient(this.cfg.MYSQL_URL, { connections: 10 });
    return this.sql;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redisConn?.quit(), this.sql?.close(), this.eventLogClient?.close()]);
    this.dynamoClient?.destroy();
  }
}

export function createDynamoClient(cfg: Pick<Config, 'DYNAMODB_ENDPOINT' | 'AWS_REGION' | 'AWS_ACCESS_KEY_ID'>): DynamoDBClient {
  const local = cfg.DYNAMODB_ENDPOINT !== '' && !cfg.AWS_ACCESS_KEY_ID;
  return new DynamoDBClient({
    region: cfg.AWS_REGION,
    ...(cfg.DYNAMODB_ENDPOINT ? { endpoint: cfg.DYNAMODB_ENDPOINT } : {}),
    // dynalite accepts any signature; real AWS takes the default credential chain.
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 5,
  });
}
