/**
 * The fault suite's private world: a Kafka broker of its own (it kills it), and on the shared
 * Redis, dynalite and MariaDB a key prefix, a table prefix and a database of its own, plus a
 * seeds folder with one seed-shaped event whose sales window is open now. Everything it
 * creates is removed by `cleanup()`, also after a failure.
 */
import { DeleteTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { loadConfig, type Config } from '../src/config/config';
import { withScripts } from '../src/commands/scripts';
import { createDynamoClient } from '../src/infra/connections';
import { createSqlClient } from '../src/shared/sql';
import { tableNames } from '../src/writer/tables';
import type { VenueLayout } from '../load/scenarios';
import { uid } from '../test/support/env';
import { dropKeyPrefix } from '../test/support/platform';
import { PrivateKafka } from '../test/support/private-kafka';

export interface Timing {
  purchaseTimeoutMs: number;
  pendingResendAfterMs: number;
  sweepIntervalMs: number;
}

export interface FaultEnvironment {
  runId: string;
  eventId: string;
  venueId: string;
  kafka: PrivateKafka;
  /** The variables every role process gets (docs/contracts.md). */
  roleEnv: Record<string, string>;
  /** The same, parsed: for the suite's own connections (stores, audit). */
  cfg: Config;
  cleanup(): Promise<string[]>;
}

const DB_NAME = /^tp_faults_[a-z0-9]+$/;

function seedDocuments(eventId: string, venueId: string, layout: VenueLayout, now: number): string {
  const venue = {
    apiVersion: 'ticketing.dev/v1alpha1',
    kind: 'Venue',
    metadata: { name: venueId.toLowerCase() },
    spec: {
      venueId,
      name: 'Fault Suite Arena',
      zones: layout.zones.map((z) => ({
        zoneId: z.zoneId,
        name: `Zone ${z.zoneId}`,
        rows: z.rows,
        seatsPerRow: z.seatsPerRow,
        priceCents: 20000,
        category: 'premium',
      })),
    },
  };
  const event = {
    apiVersion: 'ticketing.dev/v1alpha1',
    kind: 'Event',
    metadata: { name: eventId.toLowerCase() },
    spec: {
      eventId,
      venueRef: { name: venueId.toLowerCase() },
      name: 'Fault Suite Night',
      startsAt: new Date(now + 30 * 86_400_000).toISOString(),
      // Open around now, so the suite never becomes a time bomb.
      salesWindow: { opensAt: new Date(now - 3_600_000).toISOString(), closesAt: new Date(now + 86_400_000).toISOString() },
      state: 'OnSale',
      perUserLimit: 10,
      currency: 'USD',
    },
  };
  return `${stringify(venue)}---\n${stringify(event)}`;
}

export async function createEnvironment(layout: VenueLayout, timing: Timing, log: (line: string) => void): Promise<FaultEnvironment> {
  const base = loadConfig();
  const runId = uid('f');
  const eventId = `Faults-${runId}`;
  const venueId = `FaultsArena-${runId}`;
  const prefix = `tp:${runId}:`;
  const tablePrefix = `faults-${runId}`;
  const database = `tp_faults_${runId}`;
  const done: (() => Promise<void> | void)[] = [];
  const problems: string[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return problems;
    cleaned = true;
    for (const step of done.reverse())
      await Promise.resolve()
        .then(step)
        .catch((err: Error) => problems.push(err.message));
    return problems;
  };

  try {
    const seedsDir = mkdtempSync(path.join(os.tmpdir(), 'tp-faults-seeds-'));
    done.push(() => rmSync(seedsDir, { recursive: true, force: true }));
    writeFileSync(path.join(seedsDir, 'faults.yaml'), seedDocuments(eventId, venueId, layout, Date.now()));

    // The suite's own keys on the shared Redis: removed by prefix, never FLUSHALL.
    done.push(async () => {
      const redis = withScripts(new Redis(base.REDIS_URL, { maxRetriesPerRequest: 2 }));
      try {
        await dropKeyPrefix(redis, prefix);
      } finally {
        redis.disconnect();
      }
    });

    done.push(async () => {
      const dynamo = createDynamoClient(base);
      try {
        for (const TableName of Object.values(tableNames(tablePrefix))) {
          await dynamo.send(new DeleteTableCommand({ TableName })).catch((err) => {
            if (!(err instanceof ResourceNotFoundException)) throw err;
          });
        }
      } finally {
        dynamo.destroy();
      }
    });

    const mysqlUrl = new URL(base.MYSQL_URL);
    mysqlUrl.pathname = `/${database}`;
    if (!DB_NAME.test(database)) throw new Error(`refusing to use ${database}: not a fault-suite database name`);
    const admin = createSqlClient(base.MYSQL_URL, { connections: 1 });
    try {
      await admin.run(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } catch (err) {
      throw new Error(
        `could not create the suite's MySQL database ${database} at ${base.MYSQL_URL}: ${(err as Error).message}. Check npm run services:status; root needs CREATE privileges.`,
        { cause: err },
      );
    } finally {
      await admin.close();
    }
    done.push(async () => {
      const sql = createSqlClient(base.MYSQL_URL, { connections: 1 });
      try {
        await sql.run(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await sql.close();
      }
    });

    log('starting a private Kafka broker (the suite kills it; the shared one is never touched)');
    const kafka = await PrivateKafka.create();
    done.push(() => kafka.destroy());
    // Never leave the broker behind, even when the suite dies of an uncaught error.
    const killBroker = () => void kafka.kill();
    process.once('exit', killBroker);
    done.push(() => void process.removeListener('exit', killBroker));
    await kafka.start();

    const roleEnv: Record<string, string> = {
      REDIS_URL: base.REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      KAFKA_BROKERS: kafka.brokers,
      KAFKA_TOPIC_PREFIX: `faults.${runId}`,
      KAFKA_PARTITIONS: '3',
      DYNAMODB_ENDPOINT: base.DYNAMODB_ENDPOINT,
      DYNAMODB_TABLE_PREFIX: tablePrefix,
      MYSQL_URL: mysqlUrl.toString(),
      SEEDS_DIR: seedsDir,
      CONTROLLER_SOURCE: 'file',
      PURCHASE_TIMEOUT_MS: String(timing.purchaseTimeoutMs),
      PENDING_RESEND_AFTER_MS: String(timing.pendingResendAfterMs),
      SWEEP_INTERVAL_MS: String(timing.sweepIntervalMs),
      SHUTDOWN_GRACE_MS: '2000',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      LOG_LEVEL: 'warn',
      API_WORKERS: '1',
    };
    return { runId, eventId, venueId, kafka, roleEnv, cfg: loadConfig(roleEnv), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
