/**
 * npm run bench [-- --quick]: the load lab's report. Starts the api as a child process per
 * backend, runs every scenario against events of its own, checks each run by set comparison,
 * measures the ceilings, and writes bench/results/<timestamp>.{json,md,svg} plus latest.*
 * (latest-quick.* for --quick). Exits non-zero when any scenario was incorrect.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRedisClient } from '../src/shared/redis';
import { loadConfig } from '../src/config/config';
import { withScripts } from '../src/commands/scripts';
import { createLogger } from '../src/observability/logger';
import { BaselineSeats } from '../src/purchase/sql-store';
import { createSqlClient } from '../src/shared/sql';
import { createEventLog, topics } from '../src/stream/kafka';
import { LoadClient } from '../load/driver/client';
import { printProgress, runNoop, runScenario, type LabTarget } from '../load/driver/lab';
import type { RunStats } from '../load/driver/runner';
import { startServer, type ServerProcess } from '../load/driver/server-process';
import { EventLogCollector } from '../load/driver/stores';
import { buildScenario, type ScenarioName, type Size } from '../load/scenarios';
import { describeMachine } from './machine';
import { redisCeiling } from './redis-ceiling';
import { ratios, toMarkdown, toSvg, type BenchResult, type ScenarioResult } from './report';
import { forgetStoredEvents, startStoresPhase, type StoresFigures } from './stores';
import { runHttpHolds, type HttpHoldsPhase } from './holds-http';
import { runTopologyComparison } from './topology';
import { runWaitingRoomLab, type WaitingRoomFigures } from './waiting-room';
import { topologyMarkdown } from './topology-report';
import { runViewersBench, writeViewersFiles } from './viewers';
import { capacityCorrect, findCapacity, type CapacityResult } from './capacity';
import { runDefaultStart } from './default-start';
import { runWrkCeilings, type WrkCeilings } from './wrk';
import { runResetCycles, type ResetCyclesResult } from './reset-cycles';
import { profileApi, profileTopics, type ProfileResult } from './profile';
import type { ViewersResult } from './viewers-report';

interface Settings {
  size: Size;
  concurrency: number;
  noopRequests: number;
  openLoopRate: number;
  redisBenchmarkRequests: number;
  redisScenarios: ScenarioName[];
  sqlScenarios: ScenarioName[];
  /** Best-available holds over HTTP (bench/holds-http.ts): churn seconds after the rush; 0 = rush only. */
  holdChurnSeconds: number;
  /** Replay → reset cycles on the default start (bench/reset-cycles.ts): cycles, zones of the seed venue, clients. */
  resetCycles: { cycles: number; zones: number; concurrency: number };
  /** Capacity at p99 < 50 ms (bench/capacity.ts): steps at most, seconds of requests per step. */
  capacity: { maxSteps: number; stepSeconds: number };
}

/** The bench's phases, in the order they run; `--only a,b` runs some of them, `--skip a,b` leaves some out. */
const PHASES = [
  'scenarios',
  'wrk',
  'capacity',
  'holds',
  'profile',
  'waiting-room',
  'stores',
  'default-start',
  'redis-ceiling',
  'sql',
  'viewers',
  'reset-cycles',
] as const;
type Phase = (typeof PHASES)[number];
/** The CPU profile runs only when asked for (`--profile`, or `--only profile`): its sampling slows the api it measures. */
const ON_REQUEST: Phase[] = ['profile'];

function selectPhases(only: string | undefined, skip: string | undefined, profile: boolean): Set<Phase> {
  const parse = (list: string, flag: string) =>
    list.split(',').map((p) => {
      if (!(PHASES as readonly string[]).includes(p)) throw new Error(`${flag} ${p}: pick from ${PHASES.join(', ')}`);
      return p as Phase;
    });
  const chosen = new Set<Phase>(only ? parse(only, '--only') : PHASES.filter((p) => !ON_REQUEST.includes(p)));
  if (profile) chosen.add('profile');
  for (const p of skip ? parse(skip, '--skip') : []) chosen.delete(p);
  return chosen;
}

const SETTINGS: Record<'quick' | 'full', Settings> = {
  quick: {
    size: 'quick',
    concurrency: 1000,
    noopRequests: 20_000,
    openLoopRate: 5_000,
    redisBenchmarkRequests: 50_000,
    redisScenarios: ['seed-replay', 'hot-seat', 'groups', 'sellout', 'mixed'],
    sqlScenarios: ['hot-seat', 'seed-replay'],
    holdChurnSeconds: 0,
    capacity: { maxSteps: 3, stepSeconds: 2 },
    resetCycles: { cycles: 3, zones: 4, concurrency: 100 },
  },
  full: {
    size: 'full',
    concurrency: 1000,
    noopRequests: 100_000,
    openLoopRate: 10_000,
    redisBenchmarkRequests: 200_000,
    redisScenarios: ['seed-replay', 'hot-seat', 'groups', 'sellout', 'mixed'],
    sqlScenarios: ['hot-seat', 'seed-replay'],
    holdChurnSeconds: 5,
    capacity: { maxSteps: 12, stepSeconds: 5 },
    // Ten cycles of half the seed venue (39,000 seats each): the whole event ten times takes 13.5 min
    // here, about half the full bench's budget (`node dist/bench/reset-cycles.js` runs it whole).
    resetCycles: { cycles: 10, zones: 50, concurrency: 1000 },
  },
};

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      /** cluster: the topology comparison (bench/topology.ts) instead of the scenario matrix. */
      topology: { type: 'string', default: 'single' },
      out: { type: 'string', default: path.resolve(__dirname, '..', '..', 'bench', 'results') },
      only: { type: 'string' },
      skip: { type: 'string' },
      /** Also record a CPU profile of the api during the seed replay (bench/profile.ts). */
      profile: { type: 'boolean', default: false },
    },
  });
  const phases = selectPhases(values.only, values.skip, values.profile);
  const mode = values.quick ? 'quick' : 'full';
  const s = SETTINGS[mode];
  const started = new Date();
  const runId = String(started.getTime());
  if (values.topology === 'cluster') return topologyRun(mode, s, started, runId, values.out);
  if (values.topology !== 'single') throw new Error(`--topology ${values.topology}: use --topology cluster (or leave it out)`);
  const cfg = loadConfig();
  const redis = withScripts(createRedisClient(cfg));
  const baseline = new BaselineSeats(createSqlClient(cfg.MYSQL_URL, { connections: 4 }));
  const kafka = createEventLog(cfg, createLogger('warn', 'bench'));
  const scenarios: ScenarioResult[] = [];
  const createdTopics: string[] = [];
  let noop: RunStats | undefined;
  let redisFigures: Awaited<ReturnType<typeof redisCeiling>> | undefined;
  let stores: StoresFigures | undefined;
  let holdsHttp: HttpHoldsPhase[] | undefined;
  let waitingRoom: WaitingRoomFigures | undefined;
  let viewers: ViewersResult | undefined;
  const capacity: CapacityResult[] = [];
  let profile: ProfileResult | undefined;
  let wrk: WrkCeilings | { skipped: string } | undefined;
  let resetCycles: ResetCyclesResult | undefined;
  let warmups = 0;
  const ceilingErrors: string[] = [];

  log(`load lab ${mode} run ${runId}: ${s.concurrency} clients`);
  const machine = await describeMachine(redis, baseline.sql);
  const record = (
    name: string,
    backend: 'redis' | 'sql',
    concurrency: number,
    description: string,
    stats: RunStats | undefined,
    correct: boolean,
    problems: string[],
  ) => {
    const r: ScenarioResult = {
      name,
      backend,
      mode: stats?.mode ?? 'closed',
      requests: stats?.requests ?? 0,
      throughput: stats?.throughput ?? 0,
      p50: stats?.p50 ?? 0,
      p99: stats?.p99 ?? 0,
      correct,
      p90: stats?.p90 ?? 0,
      max: stats?.max ?? 0,
      durationMs: stats?.durationMs ?? 0,
      concurrency,
      ...(stats?.targetRate ? { targetRate: stats.targetRate, sendRate: stats.sendRate } : {}),
      statuses: stats?.statuses ?? {},
      description,
      ...(problems.length > 0 ? { problems: problems.slice(0, 20) } : {}),
    };
    scenarios.push(r);
    log(
      `${correct ? 'OK  ' : 'FAIL'} ${name} ${backend} ${r.mode}${r.targetRate ? ` @${r.targetRate}/s` : ''}: ${r.requests} requests, ${r.throughput} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms ${JSON.stringify(r.statuses)}${correct ? '' : `\n     ${problems.slice(0, 5).join('\n     ')}`}`,
    );
  };

  /** One scenario on one server; an exception counts as an incorrect run, the bench goes on. */
  const scenario = async (lab: LabTarget, name: ScenarioName, rate?: number) => {
    const plan = buildScenario(name, s.size);
    const eventId = `Bench${runId}-${name}-${lab.backend}${rate ? `-open${rate}` : ''}`;
    log(`${name} (${lab.backend}${rate ? `, open loop ${rate}/s` : ', closed loop'}): ${plan.description}`);
    try {
      const report = await runScenario(lab, plan, {
        eventId,
        concurrency: s.concurrency,
        ...(rate ? { rate } : {}),
        onProgress: printProgress,
        label: `${name} ${lab.backend}${rate ? ' open' : ''}`,
      });
      record(name, lab.backend, s.concurrency, plan.description, report.stats, report.verdict.correct, report.verdict.problems);
      return report.stats;
    } catch (err) {
      record(name, lab.backend, s.concurrency, plan.description, undefined, false, [`the run failed: ${(err as Error).message}`]);
      return undefined;
    }
  };

  const withServer = async (
    backend: 'redis' | 'sql',
    fn: (lab: LabTarget, server: ServerProcess) => Promise<void>,
    topicPrefix = backend === 'redis' ? `bench.${runId}` : `bench.${runId}.sql`,
  ) => {
    const server = await startServer({ backend, topicPrefix });
    createdTopics.push(...Object.values(topics({ KAFKA_TOPIC_PREFIX: topicPrefix })));
    log(`api server (${backend}) pid ${server.pid} at ${server.url}, topic prefix ${topicPrefix}`);
    const eventLog = backend === 'redis' ? new EventLogCollector(kafka, topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets) : undefined;
    // One client per server: its connections, opened by the warm-up, serve every measured run.
    const client = new LoadClient(server.url, s.concurrency);
    try {
      await eventLog?.start();
      const lab: LabTarget = {
        url: server.url,
        backend,
        redis,
        prefix: cfg.REDIS_KEY_PREFIX,
        client,
        ...(backend === 'sql' ? { baseline } : { eventLog }),
      };
      // Warm-up (not reported): JIT, connections, pools, the Kafka producer.
      await runNoop(server.url, 5000, { concurrency: s.concurrency }, client);
      const warm = await runScenario(lab, buildScenario('seed-replay', 'test'), {
        eventId: `Bench${runId}-warmup-${backend}${++warmups}`,
        concurrency: 200,
      });
      if (!warm.verdict.correct) throw new Error(`the warm-up run was incorrect: ${warm.verdict.problems.slice(0, 3).join('; ')}`);
      await fn(lab, server);
    } finally {
      await client.close();
      await eventLog?.stop().catch(() => undefined);
      await server.stop();
    }
  };

  try {
    if (['scenarios', 'wrk', 'capacity', 'holds'].some((p) => phases.has(p as Phase)))
      await withServer('redis', async (lab, server) => {
        let replay: RunStats | undefined;
        if (phases.has('scenarios')) {
          log(`no-op POST ceiling: ${s.noopRequests} requests`);
          noop = await runNoop(
            server.url,
            s.noopRequests,
            { concurrency: s.concurrency, onProgress: printProgress, label: 'noop' },
            lab.client,
          );
          log(`     no-op POST: ${noop.throughput} req/s, p50 ${noop.p50} ms, p99 ${noop.p99} ms`);
          for (const name of s.redisScenarios) {
            const stats = await scenario(lab, name);
            if (name === 'seed-replay') {
              replay = stats;
              await scenario(lab, 'seed-replay', s.openLoopRate);
            }
          }
          // A second open-loop run at a rate the server sustained in the closed loop, when that is below the aim.
          const sustainable = replay ? Math.floor((replay.throughput * 0.7) / 500) * 500 : 0;
          if (mode === 'full' && sustainable >= 500 && sustainable < s.openLoopRate) await scenario(lab, 'seed-replay', sustainable);
        }

        // The same ceilings with wrk (a lighter generator than the Node driver): no-op and a seed replay of its own.
        if (phases.has('wrk'))
          try {
            wrk = await runWrkCeilings(
              { url: server.url, redis, prefix: cfg.REDIS_KEY_PREFIX, serverPid: server.pid },
              {
                eventId: `Bench${runId}-wrk`,
                zones: mode === 'quick' ? 10 : 100,
                connections: s.concurrency,
                noopSeconds: mode === 'quick' ? 5 : 10,
                log,
              },
            );
          } catch (err) {
            ceilingErrors.push(`wrk ceilings: ${(err as Error).message}`);
            log(`FAIL wrk ceilings: ${(err as Error).message}`);
          }

        if (phases.has('capacity')) {
          log(`capacity of the api role alone: open-loop seed replays, the rate ×1.25 per step until p99 ≥ 50 ms`);
          capacity.push(
            await findCapacity(lab, {
              target: 'api role alone',
              runId,
              eventPrefix: `Bench${runId}-api`,
              startRate: replay ? replay.throughput * 0.3 : 500,
              concurrency: s.concurrency,
              log,
              ...s.capacity,
            }),
          );
        }

        if (phases.has('holds')) {
          log(
            `best-available holds over HTTP: ${s.concurrency} clients, rush${s.holdChurnSeconds ? ` and ${s.holdChurnSeconds} s churn` : ''}, 780- and 10,000-seat zones`,
          );
          const holdsStarted = Date.now();
          try {
            holdsHttp = await runHttpHolds({
              url: server.url,
              redis,
              prefix: cfg.REDIS_KEY_PREFIX,
              runId,
              clients: s.concurrency,
              seconds: s.holdChurnSeconds,
              log,
            });
            log(`     holds over HTTP took ${((Date.now() - holdsStarted) / 1000).toFixed(1)} s`);
          } catch (err) {
            ceilingErrors.push(`holds over HTTP: ${(err as Error).message}`);
            log(`FAIL holds over HTTP: ${(err as Error).message}`);
          }
        }
      });

    if (phases.has('profile')) {
      log('CPU profile of the api (--cpu-prof) during a seed replay: µs per purchase by component');
      try {
        createdTopics.push(...profileTopics(runId));
        profile = await profileApi({
          redis,
          prefix: cfg.REDIS_KEY_PREFIX,
          kafka,
          runId,
          size: s.size,
          concurrency: s.concurrency,
          keepAs: path.join(values.out, `${stamp(started)}${mode === 'quick' ? '-quick' : ''}-api.cpuprofile`),
          log,
        });
        log(
          `     main thread ${profile.mainThreadUsPerPurchase} µs per purchase; top: ${profile.rows
            .slice(0, 3)
            .map((r) => `${r.component} ${r.usPerPurchase} µs`)
            .join(', ')}`,
        );
      } catch (err) {
        ceilingErrors.push(`profile: ${(err as Error).message}`);
        log(`FAIL profile: ${(err as Error).message}`);
      }
    }

    // The waiting room under a burst: joins, polls, admission of buyers who hold and pay (its own api and key prefix).
    const queueStarted = Date.now();
    if (phases.has('waiting-room'))
      try {
        waitingRoom = await runWaitingRoomLab(mode, runId, log);
        log(
          `     waiting room took ${((Date.now() - queueStarted) / 1000).toFixed(1)} s${waitingRoom.correct ? '' : `: FAILED ${waitingRoom.problems.join('; ')}`}`,
        );
      } catch (err) {
        ceilingErrors.push(`waiting room: ${(err as Error).message}`);
        log(`FAIL waiting room: ${(err as Error).message}`);
      }

    // The stores behind the sale: a writer and a projector consume while a seed replay sells.
    if (phases.has('stores')) {
      log('stores: writer (DynamoDB) and projector (MySQL) consuming during a seed replay');
      const phase = await startStoresPhase(cfg, kafka, runId);
      createdTopics.push(...Object.values(topics({ KAFKA_TOPIC_PREFIX: phase.topicPrefix })));
      const storedEvents: string[] = [];
      try {
        await withServer(
          'redis',
          async (lab) => {
            const plan = buildScenario('seed-replay', s.size);
            const eventId = `Bench${runId}-stores`;
            storedEvents.push(eventId, `Bench${runId}-warmup-redis${warmups}`);
            const first = Date.now();
            const report = await runScenario(lab, plan, {
              eventId,
              concurrency: s.concurrency,
              onProgress: printProgress,
              label: 'seed-replay with stores',
            });
            record(
              'seed-replay+stores',
              'redis',
              s.concurrency,
              `${plan.description}, with the writer and projector consuming`,
              report.stats,
              report.verdict.correct,
              report.verdict.problems,
            );
            stores = await phase.finish(first, Date.now());
            log(`     stores: ${JSON.stringify(stores)}`);
          },
          phase.topicPrefix,
        );
      } catch (err) {
        ceilingErrors.push(`stores phase: ${(err as Error).message}`);
        log(`FAIL stores phase: ${(err as Error).message}`);
      } finally {
        await phase.stop();
        await forgetStoredEvents(cfg, storedEvents);
      }
    }

    // What `npm start` runs (the supervisor and every role, stores included): the seed replay and its capacity.
    if (phases.has('default-start')) {
      log('default start: the supervisor with every role as npm start runs it, then the seed replay and its capacity');
      const d = await runDefaultStart({ cfg, redis, kafka, runId, size: s.size, concurrency: s.concurrency, capacity: s.capacity, log });
      createdTopics.push(...d.topics);
      ceilingErrors.push(...d.errors);
      for (const e of d.errors) log(`FAIL ${e}`);
      if (d.replay)
        record(
          'default-start',
          'redis',
          s.concurrency,
          `${d.replay.description}, against npm start (supervisor; api, controller, writer and projector processes)`,
          d.replay.stats,
          d.replay.verdict.correct,
          d.replay.verdict.problems,
        );
      if (d.capacity) capacity.push(d.capacity);
    }

    if (phases.has('redis-ceiling')) {
      log(`raw Redis ceiling of reserve.lua: redis-benchmark ${s.redisBenchmarkRequests} calls`);
      // A connection of its own: tens of thousands of pipelined script calls stay off the fixtures' one.
      const scratch = withScripts(createRedisClient(cfg));
      try {
        redisFigures = await redisCeiling(scratch, cfg.REDIS_KEY_PREFIX, cfg.REDIS_URL, runId, s.redisBenchmarkRequests);
        log(
          `     ${redisFigures.redisScript.throughput} calls/s (conflict path), ${redisFigures.redisScriptSuccess.throughput} calls/s (success path via Node)`,
        );
      } catch (err) {
        ceilingErrors.push(`raw Redis ceiling: ${(err as Error).message}`);
        log(`FAIL raw Redis ceiling: ${(err as Error).message}`);
      } finally {
        await scratch.quit().catch(() => undefined);
      }
    }

    if (phases.has('sql'))
      await withServer('sql', async (lab) => {
        for (const name of s.sqlScenarios) await scenario(lab, name);
      });

    // Viewers of one zone: the change stream against 1 s polling, a fresh api process per phase (bench/viewers.ts).
    const viewersTopics = `bench.${runId}.viewers`;
    createdTopics.push(...Object.values(topics({ KAFKA_TOPIC_PREFIX: viewersTopics })));
    if (phases.has('viewers'))
      try {
        viewers = await runViewersBench({ mode, runId, redis, prefix: cfg.REDIS_KEY_PREFIX, topicPrefix: viewersTopics, machine });
      } catch (err) {
        ceilingErrors.push(`viewers: ${(err as Error).message}`);
        log(`FAIL viewers: ${(err as Error).message}`);
      }

    // What a load tester repeats on npm start: replay, reset-event, replay again (its own services and prefixes).
    if (phases.has('reset-cycles'))
      try {
        resetCycles = await runResetCycles({ ...s.resetCycles, log });
      } catch (err) {
        ceilingErrors.push(`reset cycles: ${(err as Error).message}`);
        log(`FAIL reset cycles: ${(err as Error).message}`);
      }
  } finally {
    await kafka
      .deleteTopics(createdTopics)
      .catch((err: Error) => log(`could not delete the bench topics ${createdTopics.join(', ')}: ${err.message}`));
    await kafka.close();
    await baseline.sql.close();
    await redis.quit();
  }

  machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const ceilings: BenchResult['ceilings'] = {
    noopPost: {
      how: `undici, ${s.concurrency} clients, closed loop`,
      requests: noop?.requests ?? 0,
      throughput: noop?.throughput ?? 0,
      p50: noop?.p50 ?? 0,
      p99: noop?.p99 ?? 0,
    },
    redisScript: redisFigures?.redisScript ?? { requests: 0, throughput: 0 },
    ...(redisFigures ? { redisScriptSuccess: redisFigures.redisScriptSuccess } : {}),
  };
  const result: BenchResult = {
    runId,
    startedAt: started.toISOString(),
    size: mode,
    durationSec: Math.round((Date.now() - started.getTime()) / 1000),
    machine,
    settings: { concurrency: s.concurrency, openLoopRate: s.openLoopRate, sqlDriver: 'mysql2', sqlConnections: 16 },
    scenarios,
    ceilings,
    ratios: ratios({ scenarios, ceilings, capacity, ...(wrk ? { wrk } : {}) }),
    ...(stores ? { stores } : {}),
    ...(holdsHttp ? { holdsHttp } : {}),
    ...(waitingRoom ? { waitingRoom } : {}),
    ...(viewers ? { viewers } : {}),
    ...(capacity.length ? { capacity } : {}),
    ...(profile ? { profile } : {}),
    ...(wrk ? { wrk } : {}),
    ...(resetCycles ? { resetCycles } : {}),
    phases: [...phases],
    correct:
      (scenarios.length > 0 || !phases.has('scenarios')) &&
      scenarios.every((x) => x.correct) &&
      capacity.every(capacityCorrect) &&
      (resetCycles ? resetCycles.allCorrect && resetCycles.allReady : true) &&
      (holdsHttp ?? []).every((h) => h.correct) &&
      (waitingRoom?.correct ?? true) &&
      (viewers?.correct ?? true),
    ...(ceilingErrors.length > 0 ? { errors: ceilingErrors } : {}),
  };

  mkdirSync(values.out, { recursive: true });
  const base = `${stamp(started)}${mode === 'quick' ? '-quick' : ''}`;
  const latest = mode === 'quick' ? 'latest-quick' : 'latest';
  if (viewers) writeViewersFiles(values.out, base, latest, viewers);
  const viewersChart = viewers ? `${base}-viewers.svg` : undefined;
  const files = { json: `${JSON.stringify(result, null, 2)}\n`, md: `${toMarkdown(result, viewersChart)}\n`, svg: `${toSvg(result)}\n` };
  for (const [ext, text] of Object.entries(files)) {
    writeFileSync(path.join(values.out, `${base}.${ext}`), text);
    writeFileSync(path.join(values.out, `${latest}.${ext}`), text);
  }
  log(`\n${files.md}`);
  log(`wrote ${path.join(values.out, base)}.{json,md,svg} and ${latest}.* in ${result.durationSec} s`);
  if (!result.correct) log('INCORRECT: at least one scenario failed its checks (see above); the bench fails.');
  if (ceilingErrors.length > 0) log(`A ceiling could not be measured (${ceilingErrors.join('; ')}); the bench fails.`);
  return result.correct && ceilingErrors.length === 0 ? 0 : 1;
}

/** `--topology cluster`: single vs cluster seed replays and their costs, in bench/results/<stamp>-topology.*. */
async function topologyRun(mode: 'quick' | 'full', s: Settings, started: Date, runId: string, out: string): Promise<number> {
  const cfg = loadConfig();
  const redis = createRedisClient(cfg);
  const sql = createSqlClient(cfg.MYSQL_URL, { connections: 1 });
  const machine = await describeMachine(redis, sql).finally(async () => {
    await redis.quit();
    await sql.close();
  });
  log(`topology comparison ${mode} run ${runId}: ${s.concurrency} clients`);
  const result = await runTopologyComparison({ size: s.size, concurrency: s.concurrency, runId, log });
  machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const durationSec = Math.round((Date.now() - started.getTime()) / 1000);
  mkdirSync(out, { recursive: true });
  const base = `${stamp(started)}-topology${mode === 'quick' ? '-quick' : ''}`;
  const files = {
    json: `${JSON.stringify({ runId, startedAt: started.toISOString(), durationSec, machine, ...result }, null, 2)}\n`,
    md: `${topologyMarkdown(result, machine)}\n`,
  };
  for (const [ext, text] of Object.entries(files)) {
    writeFileSync(path.join(out, `${base}.${ext}`), text);
    writeFileSync(path.join(out, `latest-topology.${ext}`), text);
  }
  log(`\n${files.md}`);
  log(`wrote ${path.join(out, base)}.{json,md} and latest-topology.* in ${durationSec} s`);
  if (!result.correct) log('INCORRECT or incomplete: see above; the bench fails.');
  return result.correct ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`The bench failed: ${(err as Error).stack ?? String(err)}\nCheck npm run services:status and run npm run build first.`);
    process.exit(1);
  },
);
