/**
 * npm run faults: a seed-shaped replay on a subset of zones while faults are injected one after
 * another with real signals (docs/faults.md). Prints one line per fault and a total, writes the
 * table to .services/faults-latest.md, and exits non-zero when any figure is not 0 or the audit
 * is not clean. Needs `npm run build` and the shared services (`npm run services:up`).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { auditEvent, formatAudit } from '../src/admin/audit';
import { CqrsStores } from '../src/admin/stores';
import { createLogger } from '../src/observability/logger';
import { RuntimeContext } from '../src/infra/connections';
import { seatKey, seedLayout } from '../load/scenarios';
import { ROOT } from '../test/support/process';
import { Buyers } from './buyers';
import { createEnvironment, type FaultEnvironment } from './environment';
import { faultList, type FaultContext } from './faults';
import { computeFigures } from './figures';
import { readFinalState } from './observe';
import { buildPlan, type Buy } from './plan';
import { exampleLines, isClean, tableLines, toMarkdown, type PhaseRecord, type SuiteReport } from './report';
import { Roles } from './roles';
import { pollPurchases, unknownOutcomes, waitConsumers, waitPendingSettled } from './settle';

// kafkajs 2.2.4 arms a timer with a negative delay on Node ≥ 23 (see src/main.ts): drop that one warning.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

const started = Date.now();
const say = (line: string) => process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${line}\n`);

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

function zoneWithMostUnknown(buys: Buy[]): string {
  const counts = new Map<string, number>();
  for (const b of buys)
    for (const a of b.attempts) if (a.status === 503 && a.purchaseId) counts.set(b.zoneId, (counts.get(b.zoneId) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0] ?? '1';
}

/** Stops the run and cleans up (Ctrl-C, SIGTERM, or the --budget-s watchdog); cleans up once the environment exists. */
let stopEarly: (why: string, exitCode: number) => void = (_why, exitCode) => process.exit(exitCode);
const onSignal = (sig: NodeJS.Signals) => stopEarly(`${sig}: interrupted`, 130);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      zones: { type: 'string', default: '8' },
      rate: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '150' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(ROOT, '.services', 'faults-latest.md') },
      'budget-s': { type: 'string', default: '420' },
    },
  });
  // A hard bound for CI: a run that hangs (a fault that never recovers, a wait gone wrong) is a failure.
  const budgetS = positiveInt(values['budget-s'], '--budget-s');
  const watchdog = setTimeout(() => stopEarly(`FAILED: the suite ran longer than --budget-s ${budgetS}`, 1), budgetS * 1000);
  watchdog.unref();
  const zones = positiveInt(values.zones, '--zones');
  const rate = positiveInt(values.rate, '--rate');
  const concurrency = positiveInt(values.concurrency, '--concurrency');
  const seed = positiveInt(values.seed, '--seed');
  const timing = { purchaseTimeoutMs: 2500, pendingResendAfterMs: 3000, sweepIntervalMs: 1000 };
  const faults = faultList({ kafkaFreezeMs: timing.purchaseTimeoutMs + 2500, projectorStopMs: 8000 });
  const layout = seedLayout(zones);

  rmSync(values.out, { force: true }); // never leave the previous run's table behind a run that fails early
  const env: FaultEnvironment = await createEnvironment(layout, timing, say);
  let roles: Roles | undefined;
  let ctx: RuntimeContext | undefined;
  let stores: CqrsStores | undefined;
  stopEarly = (why, exitCode) => {
    say(`${why}; cleaning up what the suite created, then exiting`);
    void (async () => {
      roles?.writeLogs(path.join(ROOT, '.services', 'faults-logs'));
      await roles?.stopAll(1000).catch(() => undefined);
      await env.cleanup();
      process.exit(exitCode);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(
      `event ${env.eventId}: ${zones} zones x 26 rows x 30 seats; Redis prefix ${env.roleEnv.REDIS_KEY_PREFIX}, tables ${env.roleEnv.DYNAMODB_TABLE_PREFIX}-*, MySQL ${new URL(env.roleEnv.MYSQL_URL!).pathname.slice(1)}, Kafka ${env.kafka.brokers}`,
    );
    roles = await Roles.create(env.roleEnv, ['controller', 'writer', 'projector', 'api']);
    await roles.start('controller');
    await Promise.all((['writer', 'projector', 'api'] as const).map((r) => roles!.start(r)));
    say(`roles up: api ${roles.url('api')}, writer, projector, controller (separate processes)`);

    // Silent: the suite's own Kafka admin sees the broker die too; its reconnect errors are expected.
    ctx = new RuntimeContext(env.cfg, createLogger('silent', 'faults'));
    const cqrs = new CqrsStores(ctx);
    stores = cqrs;
    const entry = await cqrs.catalog.getEvent(env.eventId);
    if (!entry) throw new Error(`the controller did not seed ${env.eventId}; see its log in .services/faults-logs/`);

    const plan = buildPlan({ zones, seed, runId: env.runId, target: { eventId: env.eventId, venueId: env.venueId } });
    const buyers = new Buyers(plan.buys, {
      url: roles.url('api'),
      concurrency,
      rate,
      retryForMs: 75_000,
      backoffMs: 250,
      maxBackoffMs: 5000,
    });
    const perPhase = Math.ceil(plan.buys.length / faults.length);
    say(
      `replay: ${plan.buys.length} requests for ${plan.seats} seats (every seat once, ~110 % duplicates, multi-seat groups), ${concurrency} clients, ≤ ${rate} req/s, ${faults.length} phases of ${perPhase}`,
    );

    const phases: PhaseRecord[] = [];
    let current = 0;
    const ticker = setInterval(() => {
      const top = [...buyers.statuses]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      say(`  [${faults[current]?.name}] ${buyers.finished}/${plan.buys.length} requests done, ${buyers.sent} attempts; ${top}`);
    }, 5000);
    ticker.unref();
    buyers.start();
    const faultCtx: FaultContext = {
      roles,
      kafka: env.kafka,
      inventory: cqrs.inventory,
      eventId: env.eventId,
      uncommitted: (group) => cqrs.waitForGroup(group, 0),
      lostZone: () => zoneWithMostUnknown(plan.buys),
      log: (l) => say(`  ${l}`),
    };
    for (const [p, fault] of faults.entries()) {
      current = p;
      const rec: PhaseRecord = { name: fault.name, what: fault.what, startedAt: Date.now() };
      phases.push(rec);
      say(`phase ${p + 1}/${faults.length}: ${fault.name} (${fault.what})`);
      buyers.release(p, (p + 1) * perPhase);
      await buyers.whenSent(p * perPhase + Math.floor(perPhase / 4));
      rec.injectedAt = Date.now();
      try {
        await fault.inject(faultCtx);
        rec.recoveredMs = Date.now() - rec.injectedAt;
        if (p > 0) say(`  recovered after ${(rec.recoveredMs / 1000).toFixed(1)} s`);
      } catch (err) {
        rec.error = (err as Error).message;
        say(`  DID NOT RECOVER: ${rec.error}; no further requests or faults, judging what was sold so far`);
        buyers.abandon();
        break;
      }
      await buyers.whenSent((p + 1) * perPhase);
    }
    say('requests sent; waiting for the last answers (bounded retries)');
    await buyers.finish();
    clearInterval(ticker);

    const notes: string[] = [];
    say('settling: pending purchases (the sweep), the consumers, then every 503 that carried a purchase id');
    const zoneIds = entry.venue.zones.map((z) => z.zoneId);
    const pendingLeft = await waitPendingSettled(cqrs.inventory, env.eventId, zoneIds, 60_000);
    if (pendingLeft > 0) notes.push(`${pendingLeft} purchases still pending in Redis 60 s after the load (the sweep did not settle them)`);
    let behind = await waitConsumers(cqrs, 90_000, say);
    const ids = unknownOutcomes(plan.buys);
    const settled = await pollPurchases(roles.url('api'), ids, 30_000);
    const states = [...settled.values()].reduce((m, s) => m.set(s.state, (m.get(s.state) ?? 0) + 1), new Map<string, number>());
    say(`  ${ids.length} unknown outcomes polled: ${[...states].map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`);
    behind = await waitConsumers(cqrs, 30_000, say);
    if (behind.writer > 0 || behind.projector > 0)
      notes.push(`consumers still behind at the deadline: writer ${behind.writer}, projector ${behind.projector} messages`);

    say('reading the stores and running the audit');
    const state = await readFinalState(cqrs, env.eventId, entry.venue.zones);
    const audit = await auditEvent(cqrs, env.eventId, { waitMs: 20_000 });
    const auditClean = audit.drift.length === 0 && audit.unverified.length === 0 && audit.missingZones.length === 0;
    const auditLines = formatAudit(audit);
    const figures = computeFigures({
      phaseStarts: phases.map((p) => p.startedAt),
      buys: plan.buys.filter((b) => b.attempts.length > 0),
      settled,
      state,
      auditDrift: audit.drift.map((d) => seatKey(d.zoneId, d)),
    });
    for (const p of phases) if (p.error) notes.push(`${p.name}: the platform did not recover (${p.error})`);
    const failed = !isClean(figures.total) || !auditClean || phases.some((p) => p.error) || behind.writer > 0 || behind.projector > 0;
    const report: SuiteReport = {
      startedAt: new Date(started),
      durationMs: Date.now() - started,
      settings: {
        zones,
        requests: plan.buys.length,
        seats: plan.seats,
        clients: concurrency,
        'max req/s': rate,
        seed,
        PURCHASE_TIMEOUT_MS: timing.purchaseTimeoutMs,
      },
      phases,
      figures,
      audit: {
        clean: auditClean,
        line: auditClean
          ? `clean (${auditLines.at(-1)})`
          : `NOT clean: ${auditLines.slice(0, 8).join('; ')}${auditLines.length > 8 ? ` … (${auditLines.length} lines)` : ''}`,
      },
      notes,
      failed,
    };
    process.stdout.write(`\n${tableLines(report).join('\n')}\n\naudit: ${report.audit.line}\n`);
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    if (!isClean(figures.total)) process.stdout.write(`\n${exampleLines(figures.total).join('\n')}\n`);
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, toMarkdown(report));
    say(`table written to ${path.relative(process.cwd(), values.out)}`);
    process.stdout.write(
      failed
        ? '\nFAULT SUITE FAILED: a figure is not 0, the audit is not clean, or the platform did not recover (see above).\n'
        : '\nfault suite: every figure 0, audit clean.\n',
    );
    return failed ? 1 : 0;
  } finally {
    const logs = roles?.writeLogs(path.join(ROOT, '.services', 'faults-logs'));
    await roles?.stopAll().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    await ctx?.close().catch(() => undefined);
    const problems = await env.cleanup();
    for (const p of problems) say(`cleanup problem (remove it by hand): ${p}`);
    if (problems.length === 0) say('private Kafka, seeds folder, Redis keys, DynamoDB tables and MySQL database removed');
    if (logs) say(`role logs in ${path.relative(process.cwd(), logs)}`);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    clearTimeout(watchdog);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `fault suite could not run: ${(err as Error).stack ?? String(err)}\nCheck npm run build and npm run services:status.\n`,
    );
    process.exit(2);
  },
);
