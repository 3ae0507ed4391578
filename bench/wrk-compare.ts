/**
 * `node dist/bench/wrk.js [--quick]`: the Node driver and wrk on the same api server in one run.
 * Starts the api as bench/run.ts does (load/driver/server-process.ts), warms it up, then measures
 * the no-op POST ceiling and the seed replay with each generator (a fresh event per run: the
 * purchases sell seats), and prints a markdown table with each generator's own CPU per 1,000
 * requests. The Node driver's seed replay is checked by set comparison as always; wrk's is not.
 */
import os from 'node:os';
import { loadConfig } from '../src/config/config';
import { withScripts } from '../src/commands/scripts';
import { createLogger } from '../src/observability/logger';
import { createRedisClient } from '../src/shared/redis';
import { createEventLog, topics } from '../src/stream/kafka';
import { LoadClient } from '../load/driver/client';
import { printProgress, runNoop, runScenario, type LabTarget } from '../load/driver/lab';
import type { RunStats } from '../load/driver/runner';
import { startServer } from '../load/driver/server-process';
import { buildScenario } from '../load/scenarios';
import { processCpuSeconds, runWrkCeilings, type WrkCeilings } from './wrk';

const SIZES = {
  quick: { zones: 10, noopRequests: 20_000, noopSeconds: 5, size: 'quick' as const },
  full: { zones: 100, noopRequests: 100_000, noopSeconds: 10, size: 'full' as const },
};
const CONNECTIONS = 1000;

const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface NodeRun {
  stats: RunStats;
  cpuSeconds: number;
  serverCpuSeconds?: number;
}

/** CPU seconds of this process (every thread of it: the driver's whole cost) and of the server. */
function cpuMeter(serverPid: number) {
  let self = process.cpuUsage();
  let server = processCpuSeconds(serverPid);
  return {
    start() {
      self = process.cpuUsage();
      server = processCpuSeconds(serverPid);
    },
    stop(): { cpuSeconds: number; serverCpuSeconds?: number } {
      const d = process.cpuUsage(self);
      const after = processCpuSeconds(serverPid);
      return {
        cpuSeconds: Math.round((d.user + d.system) / 1e4) / 100,
        ...(after !== undefined && server !== undefined ? { serverCpuSeconds: Math.round((after - server) * 100) / 100 } : {}),
      };
    },
  };
}

const per1k = (cpu: number | undefined, requests: number) =>
  cpu === undefined || requests === 0 ? undefined : Math.round((cpu * 1e6) / requests) / 1000; // s per 1,000 → 3 decimals
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? 'n/a' : (a / b).toFixed(2));

export function comparisonMarkdown(node: { noop: NodeRun; replay: NodeRun; correct: boolean }, wrk: WrkCeilings, machine: string): string {
  const wn = wrk.noop;
  const wr = wrk.seedReplay;
  const wrkNoopCpu = per1k(wn.cpuSeconds, wn.summary.requests);
  const wrkReplayCpu = per1k(wr.cpuSeconds, wr.summary.requests);
  const nodeNoopCpu = per1k(node.noop.cpuSeconds, node.noop.stats.requests);
  const nodeReplayCpu = per1k(node.replay.cpuSeconds, node.replay.stats.requests);
  const rows: [string, string, string, string][] = [
    [
      'no-op POST, req/s',
      fmt(node.noop.stats.throughput),
      fmt(wn.summary.throughput),
      ratio(wn.summary.throughput, node.noop.stats.throughput),
    ],
    ['no-op POST, p99 ms', fmt(node.noop.stats.p99, 1), fmt(wn.summary.p99, 1), ratio(wn.summary.p99, node.noop.stats.p99)],
    ['seed replay, req/s', fmt(node.replay.stats.throughput), fmt(wr.throughput), ratio(wr.throughput, node.replay.stats.throughput)],
    ['seed replay, p50 ms', fmt(node.replay.stats.p50, 1), fmt(wr.summary.p50, 1), ratio(wr.summary.p50, node.replay.stats.p50)],
    ['seed replay, p99 ms', fmt(node.replay.stats.p99, 1), fmt(wr.summary.p99, 1), ratio(wr.summary.p99, node.replay.stats.p99)],
    [
      'seed replay ÷ no-op, same generator',
      ratio(node.replay.stats.throughput, node.noop.stats.throughput),
      ratio(wr.throughput, wn.summary.throughput),
      '',
    ],
    ['generator CPU s per 1,000 requests, no-op', fmt(nodeNoopCpu, 3), fmt(wrkNoopCpu, 3), ratio(wrkNoopCpu, nodeNoopCpu)],
    ['generator CPU s per 1,000 requests, seed replay', fmt(nodeReplayCpu, 3), fmt(wrkReplayCpu, 3), ratio(wrkReplayCpu, nodeReplayCpu)],
    [
      'api server CPU s per 1,000 requests, seed replay',
      fmt(per1k(node.replay.serverCpuSeconds, node.replay.stats.requests), 3),
      fmt(per1k(wr.serverCpuSeconds, wr.summary.requests), 3),
      '',
    ],
  ];
  const nodeCores = node.replay.cpuSeconds / (node.replay.stats.durationMs / 1000);
  const wrkCores = wr.cpuSeconds / wr.summary.durationSec;
  const statuses = Object.entries(wr.summary.script?.statuses ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return [
    `### Load generator: wrk vs the Node driver (${machine})`,
    '',
    `Same api server (api role, Redis backend), ${CONNECTIONS} connections, closed loop; wrk with ${wrk.threads} threads.`,
    `Seed replay: ${wr.zones} zones, ${wr.seats} seats + ${wr.duplicates} duplicates, a fresh event per generator.`,
    '',
    '| measure | Node driver | wrk | wrk ÷ Node |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `During the seed replay the Node driver used ${nodeCores.toFixed(2)} of the 2 cores, wrk ${wrkCores.toFixed(2)}.`,
    `Node driver's seed replay correct (set comparison against the stores): ${node.correct ? 'yes' : 'NO'}.`,
    `wrk's purchase answers: ${statuses}${wr.complete ? ' (one 201 per seat, 409 per duplicate)' : ` (NOT one 201 per seat and a 409 per duplicate; ${wr.lost} lost)`}; ` +
      `wrk counted ${wr.summary.requests} answers in all, /healthz fillers included (its latency percentiles include them).`,
    `wrk socket errors: no-op ${JSON.stringify(wn.summary.socketErrors)}, seed replay ${JSON.stringify(wr.summary.socketErrors)}.`,
    'Generator CPU: the Node driver from process.cpuUsage() around the measured requests; wrk from /proc/<pid>/stat when it is stopped, its Lua set-up included.',
  ].join('\n');
}

export async function compareGenerators(mode: 'quick' | 'full'): Promise<number> {
  const s = SIZES[mode];
  const runId = String(Date.now());
  const cfg = loadConfig();
  const redis = withScripts(createRedisClient(cfg));
  const kafka = createEventLog(cfg, createLogger('warn', 'bench-wrk'));
  const topicPrefix = `bench.wrk.${runId}`;
  const server = await startServer({ backend: 'redis', topicPrefix });
  log(`wrk vs Node driver (${mode}) run ${runId}: api pid ${server.pid} at ${server.url}, topic prefix ${topicPrefix}`);
  const client = new LoadClient(server.url, CONNECTIONS);
  const meter = cpuMeter(server.pid);
  try {
    const lab: LabTarget = { url: server.url, backend: 'redis', redis, prefix: cfg.REDIS_KEY_PREFIX, client };
    // Warm-up (not reported), as bench/run.ts does: JIT, connections, pools, the Kafka producer.
    await runNoop(server.url, 5000, { concurrency: CONNECTIONS }, client);
    const warm = await runScenario(lab, buildScenario('seed-replay', 'test'), { eventId: `BenchWrk${runId}-warmup`, concurrency: 200 });
    if (!warm.verdict.correct) throw new Error(`the warm-up run was incorrect: ${warm.verdict.problems.slice(0, 3).join('; ')}`);

    log(`Node driver no-op POST: ${s.noopRequests} requests`);
    meter.start();
    const noopStats = await runNoop(
      server.url,
      s.noopRequests,
      { concurrency: CONNECTIONS, onProgress: printProgress, label: 'node noop' },
      client,
    );
    const noop: NodeRun = { stats: noopStats, ...meter.stop() };

    const plan = buildScenario('seed-replay', s.size);
    log(`Node driver seed replay: ${plan.description}`);
    let replayCpu: ReturnType<typeof meter.stop> = { cpuSeconds: 0 };
    const report = await runScenario(lab, plan, {
      eventId: `BenchWrk${runId}-node`,
      concurrency: CONNECTIONS,
      onProgress: printProgress,
      label: 'node seed-replay',
      around: {
        before: async () => meter.start(),
        after: async () => {
          replayCpu = meter.stop();
        },
      },
    });
    const replay: NodeRun = { stats: report.stats, ...replayCpu };

    const wrk = await runWrkCeilings(
      { url: server.url, redis, prefix: cfg.REDIS_KEY_PREFIX, serverPid: server.pid },
      { eventId: `BenchWrk${runId}-wrk`, zones: s.zones, connections: CONNECTIONS, noopSeconds: s.noopSeconds, log },
    );
    if ('skipped' in wrk) return 1;
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const md = comparisonMarkdown(
      { noop, replay, correct: report.verdict.correct },
      wrk,
      `${os.availableParallelism()} × ${cpu}, load ${os.loadavg()[0]!.toFixed(2)} at the end`,
    );
    process.stdout.write(`\n${md}\n`);
    if (!report.verdict.correct) log(`INCORRECT Node driver seed replay: ${report.verdict.problems.slice(0, 5).join('; ')}`);
    return report.verdict.correct ? 0 : 1;
  } finally {
    await client.close();
    await server.stop();
    await kafka
      .deleteTopics(Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix })))
      .catch((err: Error) => log(`could not delete the topics of ${topicPrefix}: ${err.message}`));
    await kafka.close();
    await redis.quit();
  }
}

/**
 * For bench/run.ts's report: wrk's ceilings beside the Node driver's no-op and seed-replay figures
 * of the same server (the driver's CPU is not measured there; `node dist/bench/wrk.js` does).
 */
export function wrkCeilingsMarkdown(
  wrk: WrkCeilings | { skipped: string },
  node: { noop?: Pick<RunStats, 'throughput' | 'p99'>; replay?: Pick<RunStats, 'throughput' | 'p99'> },
): string {
  if ('skipped' in wrk) return `### Ceilings with wrk\n\n${wrk.skipped}`;
  const wr = wrk.seedReplay;
  const rows = [
    ['no-op POST, req/s', fmt(node.noop?.throughput), fmt(wrk.noop.summary.throughput)],
    ['no-op POST, p99 ms', fmt(node.noop?.p99, 1), fmt(wrk.noop.summary.p99, 1)],
    [`seed replay (${wr.zones} zones), req/s`, fmt(node.replay?.throughput), fmt(wr.throughput)],
    ['seed replay, p99 ms', fmt(node.replay?.p99, 1), fmt(wr.summary.p99, 1)],
    [
      'wrk CPU s per 1,000 requests (no-op / seed replay)',
      '',
      `${fmt(per1k(wrk.noop.cpuSeconds, wrk.noop.summary.requests), 3)} / ${fmt(per1k(wr.cpuSeconds, wr.summary.requests), 3)}`,
    ],
  ];
  return [
    '### Ceilings with wrk',
    '',
    `wrk ${wrk.threads} threads, ${wrk.connections} connections, on the same api server as the Node driver. Only a ceiling: the Node driver's runs are the checked ones.`,
    '',
    '| measure | Node driver | wrk |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `wrk's purchases: ${Object.entries(wr.summary.script?.statuses ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}${wr.complete ? '' : ` (not one 201 per seat and a 409 per duplicate; ${wr.lost} lost)`}.`,
  ].join('\n');
}
