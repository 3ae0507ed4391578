import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { Sequelize } from 'sequelize';
import type { Config } from '../config/config';
import { withScripts, type ScriptedRedis } from '../inventory/scripts';
import type { Logger } from '../observability/logger';
import { createKafka } from '../stream/kafka';

/**
 * The infrastructure of one process: its settings, its logger and the connections its roles
 * share (Redis with the inventory scripts, Kafka, DynamoDB, MySQL), each created on first use
 * and closed once. Roles and admin tools receive it; only src/runtime/platform.ts (and the
 * admin CLI, an entry point of its own) create one.
 */
export class RuntimeContext {
  private redisConn: ScriptedRedis | undefined;
  private kafkaClient: Kafka | undefined;
  private dynamoClient: DynamoDBClient | undefined;
  private sql: Sequelize | undefined;

  constructor(
    readonly cfg: Config,
    readonly log: Logger,
  ) {}

  get redis(): ScriptedRedis {
    this.redisConn ??= withScripts(
      new Redis(this.cfg.REDIS_URL, {
        enableAutoPipelining: true,
        maxRetriesPerRequest: 2,
        // No per-command timeout: it arms a timer for every command on the hot path. The
        // purchase path has its own deadline (PURCHASE_TIMEOUT_MS); a dropped connection fails fast.
        connectionName: `ticketing-${this.cfg.ROLE}`,
      }),
    );
    return this.redisConn;
  }

  get kafka(): Kafka {
    this.kafkaClient ??= createKafka(this.cfg, this.log.child({ component: 'kafka' }));
    return this.kafkaClient;
  }

  get dynamo(): DynamoDBClient {
    this.dynamoClient ??= createDynamoClient(this.cfg);
    return this.dynamoClient;
  }

  get mysql(): Sequelize {
    this.sql ??= createSequelize(this.cfg.MYSQL_URL);
    return this.sql;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redisConn?.quit(), this.sql?.close()]);
    this.dynamoClient?.destroy();
  }
}

export function createDynamoClient(cfg: Pick<Config, 'DYNAMODB_ENDPOINT' | 'AWS_REGION'>): DynamoDBClient {
  const local = cfg.DYNAMODB_ENDPOINT !== '' && !process.env.AWS_ACCESS_KEY_ID;
  return new DynamoDBClient({
    region: cfg.AWS_REGION,
    ...(cfg.DYNAMODB_ENDPOINT ? { endpoint: cfg.DYNAMODB_ENDPOINT } : {}),
    // dynalite accepts any signature; real AWS takes the default credential chain.
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 5,
  });
}

export function createSequelize(url: string): Sequelize {
  return new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
    dialect: 'mysql',
    logging: false,
    pool: { max: 10, min: 0, idle: 10000 },
    dialectOptions: { connectTimeout: 5000 },
  });
}
