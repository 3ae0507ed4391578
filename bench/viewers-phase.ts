/**
 * One phase of the viewers benchmark (bench/viewers.ts): N viewers of one zone of a running api,
 * on the change stream or polling the seats route, while purchases go through the API at a fixed
 * rate. Measures the time from each purchase's 201 (as its client received it) to every viewer
 * having seen the seat taken, the changes missed, and the api's CPU and memory, read from
 * /proc/<pid> (outside the api) when its pid is known.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { ZoneLayout } from '../src/catalog/layout';
import { cpuSeconds } from './costs';
import type { FromWorker, ToWorker, ViewerMode, WorkerCounters, WorkerReport } from './viewers-protocol';
import { Histogram, quantileOf, takenBitsOf, type Purchase } from './viewers-seen';

const now = () => performance.timeOrigin + performance.now();

export interface ViewersPhaseSpec {
  /** `none`: purchases only, no viewers (the CPU the viewers' figures are taken above). */
  mode: ViewerMode | 'none';
  viewers: number;
  url: string;
  /** The api process, for CPU and RSS from /proc (undefined: not measured). */
  pid?: number;
  eventId: string;
  zoneId: string;
  layout: ZoneLayout;
  /** Purchases per second and how many; seats are bought in offset order from `firstSeat`. */
  rate: number;
  purchases: number;
  firstSeat?: number;
  /** Buyer ids are `<buyerPrefix><offset>`. */
  buyerPrefix: string;
  /** Second octet of the viewers' source addresses (127.<n>.0.<worker>): a fresh port range per phase. */
  addressOctet: number;
  /** How long viewers may take after the last purchase to see everything. */
  drainMs?: number;
  /** A window with viewers and no purchases first (ms; 0 = none): the cost of viewers of a zone nobody buys in. */
  idleMs?: number;
  log: (line: string) => void;
}

export interface ViewersPhaseResult {
  mode: ViewerMode | 'none';
  viewers: number;
  /** Viewer processes (the load generator). */
  workers: number;
  /** Seconds to open every viewer (stream: snapshot received; polling: first answer). */
  openSeconds: number;
  purchaseRate: number;
  purchases: number;
  /** Purchase latency from its scheduled send time to its answer (ms; open loop, so queueing counts). */
  purchaseLatency: { p50: number; p99: number; max: number };
  /** How long the viewers had after the last purchase (ms). */
  drainMs: number;
  /** The measured window: first purchase sent → last purchase answered (s). */
  seconds: number;
  latency: {
    /** Per purchase, the latest viewer's 201 → seen (ms); then over purchases. null: past the drain (some viewer never saw it). */
    purchaseP50: number | null;
    purchaseP99: number | null;
    purchaseMax: number | null;
    /** Every (viewer, purchase) pair (ms, 1 ms buckets); a pair never seen counts as past the drain (null). */
    pairP50: number | null;
    pairP99: number | null;
    pairs: number;
    /** Pairs seen before the buyer's 201 arrived (counted as 0 ms). */
    beforeAnswer: number;
  };
  missed: {
    /** Seqs a stream viewer never received (gaps between change events). */
    seqGaps: number;
    /** (viewer, purchase) pairs never seen by the end of the drain. */
    unseenPairs: number;
    /** Streams that ended before the close, and viewers that could not open. */
    dropped: number;
    openFailed: number;
    /** Snapshots sent mid-stream (the api's reader fell behind its log): no change lost, but no longer a pure diff. */
    resyncs: number;
  };
  api?: {
    /** CPU over the window, % of one core. */
    cpuPercent: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
  };
  /** The viewers with no purchases (`idleMs`): api CPU, answers per second and their statuses. */
  idle?: { seconds: number; cpuPercent?: number; requestsPerSecond: number; statuses: Record<string, number> };
  /** Stream: the answers to the viewers' GET …/stream, by status. */
  openStatuses: Record<string, number>;
  /** Polling: answers per second over the window, by status; stream: 0. */
  requestsPerSecond: number;
  /** Polling: the api answered under 90 % of the polls the viewers asked for (one per viewer per second). */
  saturated?: boolean;
  statuses: Record<string, number>;
  /** Requests or streams that failed without an answer. */
  errors: number;
  /** The viewer processes' CPU over the window, % of one core (all of them together). */
  driverCpuPercent: number;
  /** Bytes the viewers received per second over the window. */
  bytesPerSecond: number;
  /**
   * Stream and purchases-only phases: no problem at all. Polling phases are the comparison, not
   * the system under test: what polling could not deliver (late or unseen seats, purchases the
   * saturated api could not confirm) is listed in `problems` as its result, and the phase is
   * incorrect only when it could not be measured.
   */
  correct: boolean;
  problems: string[];
}

const PURCHASE_TIMEOUT_MS = 20_000;
const purchaseConnections = (s: ViewersPhaseSpec) => Math.min(256, Math.max(16, s.purchases));
/** Polling pages opened per second over all viewer processes: 10,000 open in 5 s. */
const POLL_OPEN_PER_SECOND = 2000;

/** Viewers per child process: 2,500 keeps each process's event loop quick, and 4 of them at most on this machine. */
export const workersFor = (viewers: number) => Math.min(4, Math.max(1, Math.ceil(viewers / 2500)));

/** Resident memory of a process (MiB), 0 when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : 0;
  } catch {
    return 0;
  }
}

/** A viewer process, asked one thing at a time. */
class ViewerProcess {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (m: FromWorker) => void>();
  private failure: Error | undefined;

  constructor() {
    // No -r preloads of the driver (npm run bench's topology hook): a viewer process needs none.
    this.child = fork(path.join(__dirname, 'viewers-worker.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromWorker) => {
      if (m.type === 'fatal') return this.fail(new Error(`a viewer process failed: ${m.message}`));
      const w = this.waiting.get(m.type);
      this.waiting.delete(m.type);
      w?.(m);
    });
    this.child.on('exit', (code) => code !== 0 && this.fail(new Error(`a viewer process exited with ${code}`)));
  }

  private fail(err: Error) {
    this.failure = err;
    for (const w of this.waiting.values()) w({ type: 'fatal', message: err.message });
    this.waiting.clear();
  }

  ask<T extends FromWorker['type']>(msg: ToWorker, reply: T, timeoutMs = 120_000): Promise<Extract<FromWorker, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a viewer process did not answer ${msg.type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(reply, (m) => {
        clearTimeout(timer);
        if (m.type === 'fatal') reject(new Error(m.message));
        else resolve(m as Extract<FromWorker, { type: T }>);
      });
      this.child.send(msg);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.failure) return void this.child.kill('SIGKILL');
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.ask({ type: 'close' }, 'closed', 10_000).catch(() => this.child.kill('SIGKILL'));
    await Promise.race([exited, sleep(5000).then(() => this.child.kill('SIGKILL'))]);
  }
}

/** Purchases at `rate`/s (open loop: purchase i is sent at start + i/rate whatever the answers), one seat each. */
async function purchase(pool: Pool, s: ViewersPhaseSpec, offsets: number[]) {
  const ok: Purchase[] = [];
  const refused: Record<string, number> = {};
  const latencies: number[] = [];
  const start = performance.now() + 20;
  await Promise.all(
    offsets.map(async (offset, i) => {
      const due = start + (i * 1000) / s.rate;
      await sleep(Math.max(0, due - performance.now()));
      const seat = s.layout.seatAt(offset);
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/api/v1/events/${s.eventId}/purchases`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: `${s.buyerPrefix}${offset}`, zoneId: s.zoneId, seats: [seat] }),
        });
        const text = await res.body.text();
        const at = now();
        latencies.push(performance.now() - due);
        if (res.statusCode === 201) ok.push({ offset, at });
        else {
          const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
          const key = `${res.statusCode}${code ? ` ${code}` : ''}`;
          refused[key] = (refused[key] ?? 0) + 1;
        }
      } catch (err) {
        latencies.push(performance.now() - due);
        const key = `0 ${(err as Error).message}`;
        refused[key] = (refused[key] ?? 0) + 1;
      }
    }),
  );
  ok.sort((a, b) => a.at - b.at);
  const latency = {
    p50: round(quantileOf(latencies, 0.5), 1),
    p99: round(quantileOf(latencies, 0.99), 1),
    max: round(Math.max(0, ...latencies), 1),
  };
  return { ok, refused, latency };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const diffCounters = (a: WorkerCounters[], b: WorkerCounters[]) => {
  const statuses: Record<string, number> = {};
  b.forEach((c, i) => {
    for (const [k, v] of Object.entries(c.statuses)) statuses[k] = (statuses[k] ?? 0) + v - (a[i]?.statuses[k] ?? 0);
  });
  return {
    statuses,
    errors: sum(b.map((c, i) => c.errors - (a[i]?.errors ?? 0))),
    bytes: sum(b.map((c, i) => c.bytes - (a[i]?.bytes ?? 0))),
    cpuMicros: sum(b.map((c, i) => c.cpuMicros - (a[i]?.cpuMicros ?? 0))),
  };
};

export async function runViewersPhase(s: ViewersPhaseSpec): Promise<ViewersPhaseResult> {
  const problems: string[] = [];
  const workerCount = s.mode === 'none' || s.viewers === 0 ? 0 : workersFor(s.viewers);
  const procs = Array.from({ length: workerCount }, () => new ViewerProcess());
  // A purchase unanswered after PURCHASE_TIMEOUT_MS counts as failed: a saturated api (10,000 pollers) keeps the phase bounded.
  // As many connections as purchases in flight may need: an open loop queued in the client would hide the api's latency.
  const pool = new Pool(s.url, {
    connections: purchaseConnections(s),
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: PURCHASE_TIMEOUT_MS,
    bodyTimeout: PURCHASE_TIMEOUT_MS,
  });
  const rssBefore = s.pid ? rssMiB(s.pid) : 0;
  try {
    // The buyers' connections are open before the viewers come, as a buyer's page is: a polled api's
    // full listen backlog then delays their purchases, not their connects.
    await Promise.all(
      Array.from({ length: purchaseConnections(s) }, () => pool.request({ method: 'GET', path: '/readyz' }).then((r) => r.body.dump())),
    );
    // Open the viewers, split across the processes, each from a source address of its own.
    const opened = await Promise.all(
      procs.map((p, w) => {
        const count = Math.floor(s.viewers / workerCount) + (w < s.viewers % workerCount ? 1 : 0);
        return p.ask(
          {
            type: 'open',
            mode: s.mode as ViewerMode,
            url: s.url,
            eventId: s.eventId,
            zoneId: s.zoneId,
            count,
            localAddress: `127.${s.addressOctet}.0.${w + 1}`,
            connectConcurrency: 64,
            openPerSecond: Math.ceil(POLL_OPEN_PER_SECOND / workerCount),
            pollEveryMs: 1000,
            // Polls of an api that cannot keep up answer late: 20 s, then the phase goes on with those open.
            openTimeoutMs: s.mode === 'poll' ? 20_000 : 60_000,
          },
          'opened',
          120_000,
        );
      }),
    );
    const openSeconds = Math.max(0, ...opened.map((o) => o.seconds));
    const openFailed = sum(opened.map((o) => o.failed));
    if (openFailed > 0) {
      const why = [...new Set(opened.flatMap((o) => o.errorSamples))].slice(0, 3).join('; ');
      problems.push(`${openFailed} viewers were not open (no first answer) within the opening's deadline${why ? `: ${why}` : ''}`);
    }
    if (workerCount > 0) s.log(`     ${sum(opened.map((o) => o.open))} ${s.mode} viewers open in ${openSeconds.toFixed(1)} s`);
    // Polling pages started at random moments within a second: let one full round pass.
    await sleep(s.mode === 'poll' ? 1500 : 500);

    const progress = (purchases: Purchase[]) => Promise.all(procs.map((p) => p.ask({ type: 'progress', purchases }, 'progress')));
    const counters = async () => (await progress([])).map((p) => p.counters);
    const opening = await counters();
    let idle: ViewersPhaseResult['idle'];
    if (s.idleMs && workerCount > 0) {
      const c0 = s.pid ? cpuSeconds(s.pid) : 0;
      const t = performance.now();
      await sleep(s.idleMs);
      const secs = (performance.now() - t) / 1000;
      const w = diffCounters(opening, await counters());
      idle = {
        seconds: round(secs, 2),
        ...(s.pid ? { cpuPercent: round(((cpuSeconds(s.pid) - c0) / secs) * 100, 1) } : {}),
        requestsPerSecond: s.mode === 'poll' ? Math.round(sum(Object.values(w.statuses)) / secs) : 0,
        statuses: w.statuses,
      };
    }
    const before = await progress([]);
    const cpu0 = s.pid ? cpuSeconds(s.pid) : 0;
    const t0 = performance.now();
    const first = s.firstSeat ?? 0;
    const offsets = Array.from({ length: s.purchases }, (_, i) => first + i);
    const { ok, refused, latency: purchaseLatency } = await purchase(pool, s, offsets);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = s.pid ? cpuSeconds(s.pid) : 0;
    const rssAfter = s.pid ? rssMiB(s.pid) : 0;
    const after = await progress([]);
    const window = diffCounters(
      before.map((b) => b.counters),
      after.map((a) => a.counters),
    );
    if (Object.keys(refused).length > 0) problems.push(`purchases not answered 201: ${JSON.stringify(refused)}`);

    // Drain: every viewer sees every purchased seat, or the deadline passes (what is left is missed).
    const deadline = performance.now() + (s.drainMs ?? 5000);
    let notDone = workerCount > 0 ? s.viewers : 0;
    while (workerCount > 0 && performance.now() < deadline) {
      notDone = sum((await progress(ok)).map((p) => p.notDone));
      if (notDone === 0) break;
      await sleep(100);
    }
    if (notDone > 0) s.log(`     ${notDone} viewers had not seen every purchase ${s.drainMs ?? 5000} ms after the last one`);

    const reports = (await Promise.all(procs.map((p) => p.ask({ type: 'report', purchases: ok }, 'report')))).map((m) => m.report);
    const result = merge(s, reports, ok, problems);
    if (s.mode === 'stream') await checkPicture(s, pool, reports, problems);
    const apiCpu = s.pid
      ? { cpuPercent: round(((cpu1 - cpu0) / seconds) * 100, 1), rssBeforeMiB: rssBefore, rssAfterMiB: rssAfter }
      : undefined;
    const answers = s.mode === 'poll' ? sum(Object.values(window.statuses)) : 0;
    const missed = {
      seqGaps: result.gaps,
      unseenPairs: result.unseen,
      dropped: result.dropped,
      openFailed,
      resyncs: result.resyncs,
    };
    if (s.mode === 'stream') {
      if (missed.seqGaps > 0) problems.push(`${missed.seqGaps} seqs never reached a viewer (gaps)`);
      if (missed.dropped > 0) problems.push(`${missed.dropped} streams ended before the close`);
    }
    if (missed.unseenPairs > 0) problems.push(`${missed.unseenPairs} (viewer, purchase) pairs never seen`);
    if (ok.length === 0) problems.push('no purchase succeeded');
    return {
      mode: s.mode,
      viewers: s.viewers,
      workers: workerCount,
      openSeconds: round(openSeconds, 1),
      purchaseRate: s.rate,
      purchases: ok.length,
      purchaseLatency,
      drainMs: s.drainMs ?? 5000,
      seconds: round(seconds, 2),
      latency: result.latency,
      missed,
      ...(apiCpu ? { api: apiCpu } : {}),
      ...(idle ? { idle } : {}),
      openStatuses: s.mode === 'stream' ? diffCounters([], opening).statuses : {},
      requestsPerSecond: Math.round(answers / seconds),
      ...(s.mode === 'poll' ? { saturated: answers / seconds < 0.9 * s.viewers } : {}),
      statuses: window.statuses,
      errors: window.errors,
      driverCpuPercent: round((window.cpuMicros / 1e6 / seconds) * 100, 1),
      bytesPerSecond: Math.round(window.bytes / seconds),
      correct: s.mode === 'poll' || problems.length === 0,
      problems: problems.slice(0, 10),
    };
  } finally {
    await Promise.all(procs.map((p) => p.close()));
    await pool.close();
  }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function merge(s: ViewersPhaseSpec, reports: WorkerReport[], ok: Purchase[], problems: string[]) {
  const pairs = new Histogram();
  for (const r of reports) pairs.mergeSparse(r.pairs);
  const unseen = sum(reports.map((r) => r.unseen));
  pairs.addNever(unseen);
  // Per purchase: the latest viewer over every process; Infinity when some viewer never saw it.
  const perPurchase = ok.map((_, i) => {
    let max = 0;
    for (const r of reports) {
      const m = r.maxPerPurchase[i];
      if (m === null || m === undefined) return Infinity;
      max = Math.max(max, m);
    }
    return max;
  });
  const never = perPurchase.filter((m) => m === Infinity).length;
  if (s.mode !== 'none' && never > 0) problems.push(`${never} purchases never reached every viewer`);
  const finite = (v: number) => (Number.isFinite(v) ? round(v, 1) : null);
  for (const r of reports)
    for (const e of r.errorSamples.slice(0, 2)) if (!problems.includes(`viewer error: ${e}`)) problems.push(`viewer error: ${e}`);
  return {
    gaps: sum(reports.map((r) => r.gaps)),
    unseen,
    dropped: sum(reports.map((r) => r.dropped)),
    resyncs: sum(reports.map((r) => r.resyncs)),
    latency: {
      purchaseP50: finite(quantileOf(perPurchase, 0.5)),
      purchaseP99: finite(quantileOf(perPurchase, 0.99)),
      purchaseMax: finite(Math.max(0, ...perPurchase)),
      pairP50: pairs.quantileOrNever(0.5),
      pairP99: pairs.quantileOrNever(0.99),
      pairs: pairs.total - unseen,
      beforeAnswer: sum(reports.map((r) => r.beforeAnswer)),
    },
  };
}

/** The zone as the stream's frames tell it must be the zone the seats route reads from Redis, in every viewer process. */
async function checkPicture(s: ViewersPhaseSpec, pool: Pool, reports: WorkerReport[], problems: string[]) {
  const res = await pool.request({ method: 'GET', path: `/api/v1/events/${s.eventId}/zones/${s.zoneId}/seats` });
  const truth = takenBitsOf((await res.body.json()) as { sold?: { data?: string } });
  const bytes = Math.ceil(s.layout.capacity / 8);
  const sized = (b: Buffer) => Buffer.concat([b, Buffer.alloc(bytes)]).subarray(0, bytes);
  reports.forEach((r, w) => {
    if (!r.picture) return void problems.push(`viewer process ${w + 1} has no picture of the zone`);
    if (!sized(Buffer.from(r.picture.taken, 'base64')).equals(sized(truth)))
      problems.push(`viewer process ${w + 1}: the stream's picture at seq ${r.picture.seq} differs from the seats route`);
    if (r.lastSeq && r.lastSeq.min !== r.picture.seq)
      problems.push(
        `viewer process ${w + 1}: viewers ended at seqs ${r.lastSeq.min}..${r.lastSeq.max}, the newest frame was ${r.picture.seq}`,
      );
  });
}
