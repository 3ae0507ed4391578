import type { ScriptedRedis } from '../../src/commands/scripts';
import type { BaselineSeats } from '../../src/purchase/sql-store';
import { toHttp, type HttpCall, type ScenarioPlan } from '../scenarios';
import { LoadClient } from './client';
import { createBenchEvent, type Backend } from './fixtures';
import { runCalls, type Progress, type RunStats } from './runner';
import { readBaselineSeats, readSeatMaps, type EventLogCollector } from './stores';
import { verifyRun, type Verdict } from './verify';

/** A running api server under test and the stores the checks read. */
export interface LabTarget {
  url: string;
  backend: Backend;
  /** The platform's Redis and key prefix: the lab creates its events there. */
  redis: ScriptedRedis;
  prefix: string;
  /** The baseline's seat rows (SQL backend). */
  baseline?: BaselineSeats;
  /** The server's tickets topic (Redis backend); without it the event log is not checked. */
  eventLog?: EventLogCollector;
  /** A client whose connections stay open across runs (else each run opens its own). */
  client?: LoadClient;
}

export interface ScenarioRunOptions {
  eventId: string;
  concurrency: number;
  /** Open loop at this arrival rate; closed loop when absent. */
  rate?: number;
  onProgress?: (p: Progress) => void;
  label?: string;
  /** Called right before and right after the measured requests (bench/costs.ts takes its snapshots there). */
  around?: { before(): Promise<void>; after(): Promise<void> };
}

export interface ScenarioReport {
  name: string;
  backend: Backend;
  eventId: string;
  description: string;
  stats: RunStats;
  verdict: Verdict;
}

/**
 * One scenario end to end: creates its own event, sends the setup requests, runs the measured
 * requests, reads the stores back, checks the sets, and removes the event.
 */
export async function runScenario(lab: LabTarget, plan: ScenarioPlan, opts: ScenarioRunOptions): Promise<ScenarioReport> {
  const event = await createBenchEvent(lab.redis, lab.prefix, opts.eventId, plan.layout, lab.backend, lab.baseline);
  const client = lab.client ?? new LoadClient(lab.url, opts.concurrency);
  try {
    const calls = (reqs: typeof plan.requests): HttpCall[] => reqs.map((r) => toHttp(r, event));
    const setup = await runCalls(client, calls(plan.setup), { concurrency: Math.min(opts.concurrency, 50) });
    lab.eventLog?.pause();
    await opts.around?.before();
    const run = await runCalls(client, calls(plan.requests), {
      concurrency: opts.concurrency,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      label: opts.label ?? `${plan.name} ${lab.backend}`,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    await opts.around?.after();
    let log;
    if (lab.eventLog) {
      await lab.eventLog.catchUp();
      log = lab.eventLog.purchasesOf(event.eventId);
    }
    const inventory =
      lab.backend === 'sql'
        ? await readBaselineSeats(lab.baseline!, event.eventId, plan.layout)
        : await readSeatMaps(lab.url, event, plan.layout);
    const verdict = verifyRun({ plan, setupOutcomes: setup.outcomes, outcomes: run.outcomes, inventory, ...(log ? { log } : {}) });
    return { name: plan.name, backend: lab.backend, eventId: event.eventId, description: plan.description, stats: run.stats, verdict };
  } finally {
    if (client !== lab.client) await client.close();
    await event.remove();
  }
}

/** The server's own ceiling: the no-op POST route, same client and concurrency. */
export async function runNoop(
  url: string,
  requests: number,
  opts: Omit<ScenarioRunOptions, 'eventId'>,
  shared?: LoadClient,
): Promise<RunStats> {
  const client = shared ?? new LoadClient(url, opts.concurrency);
  try {
    const calls: HttpCall[] = Array.from({ length: requests }, () => ({ method: 'POST', path: '/bench/noop' }));
    const { stats } = await runCalls(client, calls, {
      concurrency: opts.concurrency,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      label: opts.label ?? 'noop',
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const bad = requests - (stats.statuses['201'] ?? 0);
    if (bad > 0) throw new Error(`POST /bench/noop failed ${bad} times (${JSON.stringify(stats.statuses)})`);
    return stats;
  } finally {
    if (client !== shared) await client.close();
  }
}

export function printProgress(p: Progress): void {
  const pct = p.total === 0 ? 100 : Math.floor((p.done * 100) / p.total);
  process.stderr.write(
    `  [${p.label}] ${String(pct).padStart(3)}%  ${p.done}/${p.total}  ${Math.round(p.rate).toLocaleString('en-US')} req/s\n`,
  );
}
