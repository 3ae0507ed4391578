/**
 * The `default-start` scenario: the seed replay against exactly what `npm start` runs (the
 * supervisor with the controller on seeds/, the api, the writer and the projector, each a
 * process of its own, stores included), then its capacity at the latency target. A key prefix,
 * topic prefix and table prefix of its own keep it apart from anything else on the machine;
 * everything it created is removed at the end.
 */
import { DeleteTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Config } from '../src/config/config';
import type { ScriptedRedis } from '../src/commands/scripts';
import { createDynamoClient } from '../src/infra/connections';
import { scanKeys, unlinkEach } from '../src/shared/redis';
import type { EventLog } from '../src/stream/event-log';
import { topics } from '../src/stream/kafka';
import { LoadClient } from '../load/driver/client';
import { printProgress, runNoop, runScenario, type LabTarget, type ScenarioReport } from '../load/driver/lab';
import { startServer } from '../load/driver/server-process';
import { EventLogCollector } from '../load/driver/stores';
import { buildScenario, type Size } from '../load/scenarios';
import { findCapacity, type CapacityOptions, type CapacityResult } from './capacity';
import { forgetStoredEvents } from './stores';

export interface DefaultStartFigures {
  replay?: ScenarioReport;
  capacity?: CapacityResult;
  /** Topics it created (the caller deletes them with the bench's other topics). */
  topics: string[];
  errors: string[];
}

export interface DefaultStartOptions {
  cfg: Config;
  redis: ScriptedRedis;
  kafka: EventLog;
  runId: string;
  size: Size;
  concurrency: number;
  capacity: Pick<CapacityOptions, 'maxSteps' | 'stepSeconds'>;
  log: (msg: string) => void;
}

export async function runDefaultStart(o: DefaultStartOptions): Promise<DefaultStartFigures> {
  const prefix = `tpb${o.runId}:`;
  const topicPrefix = `bench.${o.runId}.default`;
  const tablePrefix = `bench${o.runId}d`;
  const figures: DefaultStartFigures = { topics: Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix })), errors: [] };
  const eventIds: string[] = [];
  const eventLog = new EventLogCollector(o.kafka, topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let client: LoadClient | undefined;
  try {
    server = await startServer({
      backend: 'redis',
      topicPrefix,
      supervised: true,
      // The lab sends everything from one address: the per-client rate limits stay off, as in every scenario.
      env: { REDIS_KEY_PREFIX: prefix, DYNAMODB_TABLE_PREFIX: tablePrefix },
      readyTimeoutMs: 120_000,
    });
    o.log(
      `default start (supervisor pid ${server.pid}) at ${server.url}: key prefix ${prefix}, topics ${topicPrefix}.*, tables ${tablePrefix}-*`,
    );
    client = new LoadClient(server.url, o.concurrency);
    await eventLog.start();
    const lab: LabTarget = { url: server.url, backend: 'redis', redis: o.redis, prefix, client, eventLog };
    await runNoop(server.url, 5000, { concurrency: o.concurrency }, client);
    const warmId = `Bench${o.runId}-default-warmup`;
    eventIds.push(warmId);
    const warm = await runScenario(lab, buildScenario('seed-replay', 'test'), { eventId: warmId, concurrency: 200 });
    if (!warm.verdict.correct) throw new Error(`the warm-up run was incorrect: ${warm.verdict.problems.slice(0, 3).join('; ')}`);
    const replayId = `Bench${o.runId}-default-replay`;
    eventIds.push(replayId);
    figures.replay = await runScenario(lab, buildScenario('seed-replay', o.size), {
      eventId: replayId,
      concurrency: o.concurrency,
      onProgress: printProgress,
      label: 'seed-replay default start',
    });
    const capPrefix = `Bench${o.runId}-default`;
    figures.capacity = await findCapacity(lab, {
      target: 'default start (npm start)',
      runId: o.runId,
      eventPrefix: capPrefix,
      startRate: figures.replay.stats.throughput * 0.3,
      concurrency: o.concurrency,
      log: o.log,
      onStep: (eventId) => eventIds.push(eventId),
      ...o.capacity,
    });
  } catch (err) {
    figures.errors.push(`default start: ${(err as Error).message}`);
  } finally {
    await client?.close();
    await eventLog.stop().catch(() => undefined);
    await server?.stop();
    await removeEverything(o.cfg, o.redis, prefix, tablePrefix, eventIds).catch((err: Error) =>
      figures.errors.push(`default start cleanup (remove keys ${prefix}* and tables ${tablePrefix}* by hand): ${err.message}`),
    );
  }
  return figures;
}

/** The phase's keys, tables and read-model rows: all its own (its prefixes are unique to the run). */
async function removeEverything(cfg: Config, redis: ScriptedRedis, prefix: string, tablePrefix: string, eventIds: string[]) {
  for await (const keys of scanKeys(redis, `${prefix}*`)) await unlinkEach(redis, keys);
  const dynamo = createDynamoClient(cfg);
  try {
    const names: string[] = [];
    let from: string | undefined;
    do {
      const page = await dynamo.send(new ListTablesCommand(from ? { ExclusiveStartTableName: from } : {}));
      names.push(...(page.TableNames ?? []));
      from = page.LastEvaluatedTableName;
    } while (from);
    for (const TableName of names.filter((t) => t.startsWith(`${tablePrefix}-`))) await dynamo.send(new DeleteTableCommand({ TableName }));
  } finally {
    dynamo.destroy();
  }
  await forgetStoredEvents(cfg, eventIds);
}
