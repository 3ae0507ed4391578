import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { HttpCall } from '../scenarios';
import type { LoadClient, Outcome } from './client';

export interface Progress {
  label: string;
  done: number;
  total: number;
  /** Answers per second over the last interval. */
  rate: number;
}

export interface RunOptions {
  /** Closed loop: this many clients each send the next request when their answer came. */
  concurrency: number;
  /** Open loop: requests are sent at this many per second whatever the answers do. */
  rate?: number;
  label?: string;
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
}

export interface RunStats {
  mode: 'closed' | 'open';
  requests: number;
  durationMs: number;
  /** Answers per second over the whole run. */
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Open loop: the rate asked for, and how fast requests actually went out. */
  targetRate?: number;
  sendRate?: number;
  statuses: Record<string, number>;
}

export interface RunResult {
  outcomes: Outcome[];
  stats: RunStats;
}

const ms = (micros: number) => Math.round(micros) / 1000;

/**
 * Sends the calls and measures every answer. Closed loop: latency from send to answer.
 * Open loop: request i is due at start + i/rate and its latency counts from that due time,
 * so a slow server cannot hide its queueing by slowing the driver (coordinated omission).
 */
export async function runCalls(client: LoadClient, calls: HttpCall[], opts: RunOptions): Promise<RunResult> {
  const n = calls.length;
  const outcomes: Outcome[] = new Array<Outcome>(n);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  let done = 0;
  let lastDone = 0;
  let lastAt = performance.now();
  const label = opts.label ?? 'run';
  const progress = opts.onProgress
    ? setInterval(() => {
        const now = performance.now();
        opts.onProgress!({ label, done, total: n, rate: ((done - lastDone) * 1000) / (now - lastAt) });
        lastDone = done;
        lastAt = now;
      }, opts.progressEveryMs ?? 1000)
    : undefined;
  progress?.unref();

  const start = performance.now();
  let end = start;
  let lastSend = start;
  const complete = (i: number, outcome: Outcome, from: number) => {
    const now = performance.now();
    outcomes[i] = outcome;
    histogram.recordValue(Math.max(1, Math.round((now - from) * 1000)));
    done++;
    end = now;
  };

  try {
    if (opts.rate === undefined) {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < n; i = next++) {
          const sentAt = performance.now();
          complete(i, await client.send(calls[i]!), sentAt);
        }
      };
      await Promise.all(Array.from({ length: Math.min(opts.concurrency, n) }, worker));
    } else {
      const interval = 1000 / opts.rate;
      await new Promise<void>((resolve) => {
        let sent = 0;
        const tick = () => {
          const due = Math.min(n, Math.floor((performance.now() - start) / interval) + 1);
          for (; sent < due; sent++) {
            const i = sent;
            const scheduled = start + i * interval;
            void client.send(calls[i]!).then((o) => {
              complete(i, o, scheduled);
              if (done === n) resolve();
            });
          }
          lastSend = performance.now();
          if (sent < n) setTimeout(tick, Math.max(0, Math.min(5, start + sent * interval - performance.now())));
        };
        if (n === 0) resolve();
        else tick();
      });
    }
  } finally {
    if (progress) clearInterval(progress);
  }

  const durationMs = Math.max(end - start, 0.001);
  const statuses: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 0 ? 'error' : String(o.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const stats: RunStats = {
    mode: opts.rate === undefined ? 'closed' : 'open',
    requests: n,
    durationMs: Math.round(durationMs),
    throughput: Math.round((n * 1000) / durationMs),
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    ...(opts.rate === undefined ? {} : { targetRate: opts.rate, sendRate: Math.round((n * 1000) / Math.max(lastSend - start, 1)) }),
    statuses,
  };
  histogram.destroy();
  return { outcomes, stats };
}
