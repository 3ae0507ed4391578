/**
 * npm run load -- <scenario> [options]: runs one load-lab scenario against a running api server
 * and checks the result. See docs/load-lab.md.
 */
import { parseArgs } from 'node:util';
import { createRedisClient } from '../src/shared/redis';
import { loadConfig } from '../src/config/config';
import { withScripts } from '../src/commands/scripts';
import { createLogger } from '../src/observability/logger';
import { BaselineSeats } from '../src/purchase/sql-store';
import { createSqlClient } from '../src/shared/sql';
import { createEventLog, topics } from '../src/stream/kafka';
import { printProgress, runNoop, runScenario, type LabTarget } from './driver/lab';
import { EventLogCollector } from './driver/stores';
import { buildScenario, isScenarioName, SCENARIO_NAMES, SIZES, type Size } from './scenarios';

const USAGE = `Usage: npm run load -- <scenario> [options]

Scenarios: ${SCENARIO_NAMES.join(', ')}, noop (the server's no-op POST ceiling)

Options:
  --url URL            api server (default http://127.0.0.1:8080)
  --concurrency N      closed loop: clients in flight (default 1000); open loop: connections
  --rate N             open loop at N requests/s (latency from the scheduled send time)
  --size test|quick|full   scenario size (default full)
  --backend redis|sql  the server's INVENTORY_BACKEND (default redis)
  --topic NAME         the server's tickets topic to check (default <KAFKA_TOPIC_PREFIX>.tickets.v1
                       from the environment); --no-log skips the event-log check
  --event-id ID        id of the event the run creates (default Load<timestamp>)
  --requests N         noop only: how many requests (default 100000)

REDIS_URL, REDIS_KEY_PREFIX, MYSQL_URL and KAFKA_BROKERS come from the environment as for the
server (docs/contracts.md): the run creates its own event there and removes it afterwards.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      concurrency: { type: 'string', default: '1000' },
      rate: { type: 'string' },
      size: { type: 'string', default: 'full' },
      backend: { type: 'string', default: 'redis' },
      topic: { type: 'string' },
      'no-log': { type: 'boolean', default: false },
      'event-id': { type: 'string' },
      requests: { type: 'string', default: '100000' },
      help: { type: 'boolean', default: false },
    },
  });
  const name = positionals[0];
  if (values.help || !name) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const concurrency = positiveInt(values.concurrency, '--concurrency');
  const rate = values.rate === undefined ? undefined : positiveInt(values.rate, '--rate');
  const url = values.url.replace(/\/$/, '');

  if (name === 'noop') {
    const stats = await runNoop(url, positiveInt(values.requests, '--requests'), {
      concurrency,
      ...(rate ? { rate } : {}),
      onProgress: printProgress,
    });
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    return 0;
  }
  if (!isScenarioName(name)) throw new UsageError(`Unknown scenario "${name}": use one of ${SCENARIO_NAMES.join(', ')}, noop`);
  if (!(SIZES as readonly string[]).includes(values.size)) throw new UsageError(`--size must be one of ${SIZES.join(', ')}`);
  if (values.backend !== 'redis' && values.backend !== 'sql') throw new UsageError('--backend must be redis or sql');

  const cfg = loadConfig();
  const redis = withScripts(createRedisClient(cfg));
  const baseline = values.backend === 'sql' ? new BaselineSeats(createSqlClient(cfg.MYSQL_URL, { connections: 4 })) : undefined;
  const topic = values.topic ?? topics(cfg).tickets;
  const kafka = values.backend === 'redis' && !values['no-log'] ? createEventLog(cfg, createLogger('warn', 'load')) : undefined;
  const eventLog = kafka ? new EventLogCollector(kafka, topic) : undefined;
  try {
    await eventLog?.start();
    const lab: LabTarget = {
      url,
      backend: values.backend,
      redis,
      prefix: cfg.REDIS_KEY_PREFIX,
      ...(baseline ? { baseline } : {}),
      ...(eventLog ? { eventLog } : {}),
    };
    const plan = buildScenario(name, values.size as Size);
    process.stderr.write(`${plan.name}: ${plan.description}\n`);
    const report = await runScenario(lab, plan, {
      eventId: values['event-id'] ?? `Load${Date.now()}`,
      concurrency,
      ...(rate ? { rate } : {}),
      onProgress: printProgress,
    });
    process.stdout.write(
      `${JSON.stringify({ ...report, verdict: { ...report.verdict, problems: report.verdict.problems.slice(0, 20) } }, null, 2)}\n`,
    );
    if (!report.verdict.correct) {
      process.stderr.write(`INCORRECT: ${report.verdict.problems.length} problems, first: ${report.verdict.problems[0]}\n`);
      return 1;
    }
    process.stderr.write(
      `correct: ${report.verdict.confirmed} × 201, ${report.verdict.conflicts} × 409, ${report.verdict.reads} reads; ${report.stats.throughput} req/s, p50 ${report.stats.p50} ms, p99 ${report.stats.p99} ms\n`,
    );
    return 0;
  } finally {
    await eventLog?.stop().catch(() => undefined);
    await kafka?.close();
    await baseline?.sql.close();
    await redis.quit();
  }
}

class UsageError extends Error {}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof UsageError ? `${err.message}\n\n${USAGE}` : ((err as Error).stack ?? String(err))}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
