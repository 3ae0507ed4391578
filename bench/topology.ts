/**
 * `npm run bench -- --topology cluster`: the seed replay on the single topology (1 api, 1 writer,
 * 1 projector) and on the cluster topology (Redis Cluster 3+3, 3 Kafka brokers; 2 api, 2 writers,
 * 2 projectors) in one run, with what each purchase costs every part (bench/costs.ts), the
 * cluster replay with REDIS_WAIT_REPLICAS=0 and =1, and reserve.lua with and without the
 * failover fence's check (bench/fence-cost.ts). Every replay is checked as the bench checks
 * (exact 201/409 counts, seat → ticket sets, the event log), and the stores must hold every sale.
 */
import { loadConfig, type Config } from '../src/config/config';
import { withScripts } from '../src/commands/scripts';
import { createDynamoClient } from '../src/infra/connections';
import { createLogger } from '../src/observability/logger';
import { projectorGroup } from '../src/projector/project';
import { createRedisClient } from '../src/shared/redis';
import type { EventLog } from '../src/stream/event-log';
import { createEventLog, topics } from '../src/stream/kafka';
import { groupProgress } from '../src/stream/progress';
import { writerGroup } from '../src/writer/rebuild-source';
import { dropAllTables } from '../src/writer/tables';
import { LoadClient } from '../load/driver/client';
import { printProgress, runNoop, runScenario, type LabTarget } from '../load/driver/lab';
import { startServer, type ServerProcess } from '../load/driver/server-process';
import { EventLogCollector } from '../load/driver/stores';
import { buildScenario, type Size } from '../load/scenarios';
import { ensureClusterServices } from './cluster-services';
import {
  brokerLogDirs,
  cpuCost,
  cpuSnapshot,
  listenerPid,
  redisCost,
  redisSnapshot,
  topicCost,
  topicSnapshot,
  type PartitionCost,
  type ShardCost,
} from './costs';
import { measureFenceCost, type FenceCost } from './fence-cost';
import { forgetStoredEvents } from './stores';

// The one reader of scripts/topology/<name>.env (plain CommonJS, outside the compiled tree).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { topologyVariables } = require('../../scripts/topology/topology.cjs') as { topologyVariables(n: string): Record<string, string> };

export interface TopologyReplay {
  topology: 'single' | 'cluster';
  apis: number;
  writers: number;
  projectors: number;
  waitReplicas: number;
  requests: number;
  purchases: number;
  throughput: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  correct: boolean;
  problems?: string[];
  /** CPU microseconds per purchase: api processes (during the replay), writers and projectors (until caught up), Kafka brokers. */
  cpuUsecPerPurchase: Record<string, number>;
  redisShards: ShardCost[];
  partitions: PartitionCost[];
  /** Tickets the writers (DynamoDB) and projectors (MySQL) counted as newly stored (≥ sold; a rebalance may count one twice), against the 201s sold. */
  stored: { sold: number; dynamodb: number; mysql: number };
}

export interface TopologyComparison {
  size: Size;
  concurrency: number;
  replays: TopologyReplay[];
  fence?: FenceCost;
  errors: string[];
  correct: boolean;
}

interface Shape {
  topology: 'single' | 'cluster';
  env: NodeJS.ProcessEnv;
  apis: number;
  consumers: number;
  waits: number[];
}

const counter = (text: string, labels: string) =>
  Number(new RegExp(`^ticketing_tickets_stored_total\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

async function storedTickets(children: ServerProcess[], store: 'dynamodb' | 'mysql'): Promise<number> {
  const texts = await Promise.all(children.map(async (c) => (await fetch(`${c.url}/metrics`)).text()));
  return texts.reduce((n, t) => n + counter(t, `store="${store}"`), 0);
}

async function caughtUp(kafka: EventLog, topicPrefix: string): Promise<void> {
  const topic = topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets;
  const deadline = Date.now() + 300_000;
  for (const group of [writerGroup(topicPrefix), projectorGroup(topicPrefix)]) {
    for (;;) {
      const progress = await groupProgress(kafka, group, topic);
      if (progress.every((p) => p.end <= p.low || p.committed >= p.end)) break;
      if (Date.now() > deadline) throw new Error(`the consumer group ${group} did not catch up within 5 minutes`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const brokerPorts = (cfg: Config) => cfg.KAFKA_BROKERS.split(',').map((b) => Number(b.slice(b.lastIndexOf(':') + 1)));

async function runShape(
  shape: Shape,
  o: { size: Size; concurrency: number; runId: string; log: (m: string) => void },
  out: TopologyComparison,
): Promise<void> {
  const { log } = o;
  const cfg = loadConfig(shape.env);
  const redis = withScripts(createRedisClient(cfg));
  const kafka = createEventLog(cfg, createLogger('warn', 'bench'));
  const topicPrefix = `bench.${o.runId}.${shape.topology}`;
  const tablePrefix = `bench${o.runId}${shape.topology}`;
  const topic = topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets;
  const brokers = brokerPorts(cfg)
    .map(listenerPid)
    .filter((p): p is number => p !== undefined);
  const logDirs = brokers.flatMap(brokerLogDirs);
  const consumers: { writer: ServerProcess[]; projector: ServerProcess[] } = { writer: [], projector: [] };
  const eventIds: string[] = [];
  let sold = 0;
  try {
    const env = { ...shape.env, DYNAMODB_TABLE_PREFIX: tablePrefix } as Record<string, string>;
    for (const role of ['writer', 'projector'] as const)
      for (let i = 0; i < shape.consumers; i++) consumers[role].push(await startServer({ backend: 'redis', role, topicPrefix, env }));
    for (const wait of shape.waits) {
      const label = `${shape.topology} (${shape.apis} api, ${shape.consumers} writer, ${shape.consumers} projector, REDIS_WAIT_REPLICAS=${wait})`;
      log(`seed replay on ${label}`);
      const apis: ServerProcess[] = [];
      const eventLog = new EventLogCollector(kafka, topic);
      let client: LoadClient | undefined;
      try {
        for (let i = 0; i < shape.apis; i++)
          apis.push(await startServer({ backend: 'redis', topicPrefix, env: { ...env, REDIS_WAIT_REPLICAS: String(wait) } }));
        client = new LoadClient(
          apis.map((a) => a.url),
          o.concurrency,
        );
        await eventLog.start();
        const lab: LabTarget = { url: apis[0]!.url, backend: 'redis', redis, prefix: cfg.REDIS_KEY_PREFIX, client, eventLog };
        // Warm-up (not reported), as bench/run.ts does: JIT, connections, the Kafka producers.
        await runNoop(apis[0]!.url, 5000, { concurrency: o.concurrency }, client);
        const warmId = `Bench${o.runId}-topo-warm-${shape.topology}-w${wait}`;
        eventIds.push(warmId);
        const warm = await runScenario(lab, buildScenario('seed-replay', 'test'), { eventId: warmId, concurrency: 200 });
        if (!warm.verdict.correct) throw new Error(`the warm-up run was incorrect: ${warm.verdict.problems.slice(0, 3).join('; ')}`);
        sold += warm.stats.statuses['201'] ?? 0;

        const pids = { api: apis.map((a) => a.pid), broker: brokers };
        let cpu0 = cpuSnapshot(pids);
        let cpu1 = cpu0;
        let redis0 = await redisSnapshot(redis);
        let redis1 = redis0;
        let topic0 = await topicSnapshot(kafka, topic, logDirs);
        let topic1 = topic0;
        const consumerPids = { writer: consumers.writer.map((c) => c.pid), projector: consumers.projector.map((c) => c.pid) };
        const consumers0 = cpuSnapshot(consumerPids);
        const eventId = `Bench${o.runId}-topo-${shape.topology}-w${wait}`;
        eventIds.push(eventId);
        const report = await runScenario(lab, buildScenario('seed-replay', o.size), {
          eventId,
          concurrency: o.concurrency,
          onProgress: printProgress,
          label: `seed-replay ${shape.topology} wait=${wait}`,
          around: {
            async before() {
              cpu0 = cpuSnapshot(pids);
              redis0 = await redisSnapshot(redis);
              topic0 = await topicSnapshot(kafka, topic, logDirs);
            },
            async after() {
              cpu1 = cpuSnapshot(pids);
              redis1 = await redisSnapshot(redis);
              topic1 = await topicSnapshot(kafka, topic, logDirs);
            },
          },
        });
        const purchases = report.stats.statuses['201'] ?? 0;
        sold += purchases;
        await caughtUp(kafka, topicPrefix);
        const consumers1 = cpuSnapshot(consumerPids);
        const stored = {
          sold,
          dynamodb: await storedTickets(consumers.writer, 'dynamodb'),
          mysql: await storedTickets(consumers.projector, 'mysql'),
        };
        const problems = [...report.verdict.problems];
        // The counters count a ticket each time a consumer writes it new. A rebalance redelivers
        // records to the group's other member, and two members can both find a ticket absent and
        // write it (same key, same item), so the counters may exceed the sales; never fall short.
        if (stored.dynamodb < sold || stored.mysql < sold)
          problems.push(`the stores hold ${stored.dynamodb} (DynamoDB) and ${stored.mysql} (MySQL) tickets; ${sold} were sold`);
        const r: TopologyReplay = {
          topology: shape.topology,
          apis: shape.apis,
          writers: shape.consumers,
          projectors: shape.consumers,
          waitReplicas: wait,
          requests: report.stats.requests,
          purchases,
          throughput: report.stats.throughput,
          p50: report.stats.p50,
          p99: report.stats.p99,
          statuses: report.stats.statuses,
          correct: problems.length === 0,
          ...(problems.length > 0 ? { problems: problems.slice(0, 20) } : {}),
          cpuUsecPerPurchase: { ...cpuCost(cpu0, cpu1, purchases), ...cpuCost(consumers0, consumers1, purchases) },
          redisShards: redisCost(redis0, redis1, purchases),
          partitions: topicCost(topic0, topic1),
          stored,
        };
        out.replays.push(r);
        log(
          `${r.correct ? 'OK  ' : 'FAIL'} ${label}: ${r.throughput} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms ${JSON.stringify(r.statuses)}; CPU µs/purchase ${JSON.stringify(r.cpuUsecPerPurchase)}${r.correct ? '' : `\n     ${problems.slice(0, 5).join('\n     ')}`}`,
        );
      } catch (err) {
        out.errors.push(`${label}: ${(err as Error).message}`);
        log(`FAIL ${label}: ${(err as Error).message}`);
      } finally {
        await client?.close();
        await eventLog.stop().catch(() => undefined);
        for (const a of apis) await a.stop();
      }
    }
    if (shape.topology === 'cluster') {
      log('reserve.lua with and without the fence check (redis-benchmark, conflict path, one master)');
      try {
        out.fence = await measureFenceCost(redis, cfg.REDIS_KEY_PREFIX, cfg.REDIS_URL, o.runId, o.size === 'full' ? 200_000 : 50_000);
        log(`     ${JSON.stringify(out.fence.variants.map((v) => [v.variant, v.medianRps, v.medianUsecPerCall]))}`);
      } catch (err) {
        out.errors.push(`fence cost: ${(err as Error).message}`);
        log(`FAIL fence cost: ${(err as Error).message}`);
      }
    }
  } finally {
    for (const c of [...consumers.writer, ...consumers.projector]) await c.stop().catch(() => undefined);
    await forgetStoredEvents(cfg, eventIds);
    const dynamo = createDynamoClient(cfg);
    await dropAllTables(dynamo, tablePrefix);
    dynamo.destroy();
    await kafka
      .deleteTopics(Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix })))
      .catch((err: Error) => log(`could not delete the bench topics of ${topicPrefix}: ${err.message}`));
    await kafka.close();
    await redis.quit();
  }
}

/** The comparison; the cluster services are started for it when down, and left as found. */
export async function runTopologyComparison(o: {
  size: Size;
  concurrency: number;
  runId: string;
  log: (m: string) => void;
}): Promise<TopologyComparison> {
  if ((process.env.TOPOLOGY ?? 'single') !== 'single' && process.env.TOPOLOGY !== '')
    throw new Error('--topology cluster runs both topologies itself: run it without TOPOLOGY (npm run bench -- --topology cluster)');
  const clusterVars = topologyVariables('cluster');
  const single = { ...process.env };
  const cluster = { ...process.env, ...clusterVars };
  const out: TopologyComparison = { size: o.size, concurrency: o.concurrency, replays: [], errors: [], correct: false };
  const services = await ensureClusterServices(process.env, o.log);
  try {
    await runShape({ topology: 'single', env: single, apis: 1, consumers: 1, waits: [0] }, o, out);
    await runShape({ topology: 'cluster', env: cluster, apis: 2, consumers: 2, waits: [0, 1] }, o, out);
  } finally {
    await services.restore();
  }
  out.correct = out.errors.length === 0 && out.replays.length === 3 && out.replays.every((r) => r.correct);
  return out;
}
