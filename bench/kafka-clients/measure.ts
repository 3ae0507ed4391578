import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** What one shape cost one client: CPU per message, throughput and ack latency. */
export interface Measured {
  messages: number;
  seconds: number;
  /** process.cpuUsage (user + system, every thread of the process: a native client's threads too) per message. */
  cpuUsPerMessage: number;
  /** The main thread alone (the event loop the api shares), from /proc: 10 ms ticks, fine over a run of seconds. */
  loopUsPerMessage: number | undefined;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** CPU time of the main thread (tid = pid) in µs, or undefined where /proc has no per-thread stat. */
function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state: utime is 14th, stime 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Runs `concurrency` workers that together make `operations` calls of `op`, each timed from
 * call to resolve; `messagesPerOp` records per call. The CPU and wall clock cover the whole run.
 */
export async function measure(
  operations: number,
  concurrency: number,
  messagesPerOp: number,
  op: (i: number) => Promise<void>,
): Promise<Measured> {
  const latencies = new Float64Array(operations);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < operations; i = next++) {
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
    }
  };
  const cpu0 = process.cpuUsage();
  const loop0 = mainThreadCpuUs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, operations) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const loop1 = mainThreadCpuUs();
  const messages = operations * messagesPerOp;
  latencies.sort();
  return {
    messages,
    seconds,
    cpuUsPerMessage: (cpu.user + cpu.system) / messages,
    loopUsPerMessage: loop0 === undefined || loop1 === undefined ? undefined : (loop1 - loop0) / messages,
    throughput: messages / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** The run in the middle by CPU per message, the figure quoted (rounds of one run, not a mean). */
export function median(runs: readonly Measured[]): Measured {
  const byCpu = [...runs].sort((a, b) => a.cpuUsPerMessage - b.cpuUsPerMessage);
  const mid = byCpu[Math.floor((byCpu.length - 1) / 2)]!;
  const med = (f: (m: Measured) => number) => {
    const v = runs.map(f).sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)]!;
  };
  return {
    ...mid,
    cpuUsPerMessage: med((m) => m.cpuUsPerMessage),
    loopUsPerMessage: runs.every((m) => m.loopUsPerMessage !== undefined) ? med((m) => m.loopUsPerMessage!) : undefined,
    throughput: med((m) => m.throughput),
    p50Ms: med((m) => m.p50Ms),
    p99Ms: med((m) => m.p99Ms),
  };
}
