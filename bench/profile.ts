/**
 * `npm run bench -- --profile`: where the api's CPU goes per purchase. The api runs with
 * `--cpu-prof`; the seed replay's window is cut out of the profile (V8's sample clock and the
 * driver's process.hrtime are both CLOCK_MONOTONIC), each sample is charged to a component by the
 * innermost frame that names one, and the shares are scaled to the main thread's own CPU time
 * over the window (from /proc, so a busy machine's waits are not counted as work).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScriptedRedis } from '../src/commands/scripts';
import type { EventLog } from '../src/stream/event-log';
import { topics } from '../src/stream/kafka';
import { LoadClient } from '../load/driver/client';
import { printProgress, runNoop, runScenario, type LabTarget } from '../load/driver/lab';
import { startServer } from '../load/driver/server-process';
import { EventLogCollector } from '../load/driver/stores';
import { buildScenario, type Size } from '../load/scenarios';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}
/** The `.cpuprofile` V8 writes (Chrome DevTools' format). */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Components, tried on each frame from the sample's leaf towards the root: the first that names
 * the frame takes the sample. Node's own modules are tried only when no frame of the stack names
 * a library or the platform (a socket write from kafkajs is Kafka's, not Node's).
 */
const EXPRESS = 'Express (router, middleware, body parsing, response helpers)';
const NODE_HTTP = "HTTP: Node's parser and socket I/O";
/** Node's HTTP and socket modules: a sample in them under Express or src/http is the HTTP server's own work. */
const NODE_IO = /^node:(_http|internal\/http|http$|net$|internal\/stream_base|internal\/streams|stream$|internal\/net)/;
const COMPONENTS: [name: string, test: RegExp][] = [
  [
    'Kafka produce and encoding (@platformatic/kafka, kafkajs)',
    /node_modules\/(@platformatic\/|kafkajs\/|mnemonist\/|fastq\/)|\/dist\/src\/stream\//,
  ],
  [
    'Redis calls: Lua, idempotency, confirm (ioredis)',
    /node_modules\/(ioredis|@ioredis|redis-parser|redis-errors|cluster-key-slot|denque|standard-as-callback)\/|\/dist\/src\/(inventory|commands)\/|\/dist\/src\/shared\/redis/,
  ],
  ['validation (zod)', /node_modules\/zod\/|\/dist\/src\/http\/(validation|schemas|seats-body|checkout-schemas|admission-schemas)\./],
  ['metrics (prom-client)', /node_modules\/(prom-client|tdigest|bintrees)\/|\/dist\/src\/observability\/metrics/],
  [
    'logging (pino)',
    /node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free)\/|\/dist\/src\/observability\/logger/,
  ],
  ['tracing (OpenTelemetry)', /node_modules\/@opentelemetry\/|\/dist\/src\/observability\/trac/],
  ['catalog', /\/dist\/src\/catalog\//],
  ['admission and rate limits', /\/dist\/src\/admission\//],
  ['purchase engine (own code)', /\/dist\/src\/(purchase|checkout|events)\//],
  [
    EXPRESS,
    /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|on-finished|content-type|type-is|accepts|negotiator|mime-types|parseurl|qs|cookie|depd|http-errors|statuses|safe-buffer|iconv-lite|media-typer|path-to-regexp|encodeurl|escape-html|etag|fresh|range-parser|proxy-addr|forwarded|ipaddr\.js|vary|content-disposition|merge-descriptors|serve-static|utils-merge|debug|ms|unpipe|bytes|destroy|ee-first|setprototypeof|toidentifier|inherits|call-bound|get-intrinsic|side-channel[^/]*|es-[^/]+|gopd|has-symbols|hasown|function-bind|dunder-proto|math-intrinsics|object-inspect|once|wrappy|router|is-promise)\//,
  ],
  ['platform HTTP layer (src/http: routes, problems)', /\/dist\/src\/http\//],
  ['other platform code', /\/dist\/src\//],
  ['other libraries', /node_modules\//],
];
const CORE: [name: string, test: RegExp][] = [
  [NODE_HTTP, NODE_IO],
  ['Node core (promises, timers, buffers, other)', /^node:/],
];
const GC = 'garbage collection';
const SAMPLE_INTERVAL_US = 250;
const NATIVE = 'native, not attributed (program)';

export interface ProfileRow {
  component: string;
  /** Main-thread CPU µs per purchase request charged to the component. */
  usPerPurchase: number;
  share: number;
}

export interface ProfileResult {
  requests: number;
  throughput: number;
  /** Main-thread CPU µs per purchase request over the replay (from /proc). */
  mainThreadUsPerPurchase: number;
  /** The other threads' (GC helpers, JIT compiler, libuv pool) CPU µs per purchase. */
  otherThreadsUsPerPurchase: number;
  /** Share of the window's samples the main thread was idle. */
  idleShare: number;
  /** Samples in the window while busy: the shares rest on these (a busy machine delays V8's sampler). */
  busySamples: number;
  /** The samples the interval would have given over the busy time (window × busy share ÷ 250 µs). */
  expectedSamples: number;
  rows: ProfileRow[];
  profileFile?: string;
}

/** utime + stime of a thread (or the whole process with tid = undefined), in µs. */
function cpuMicros(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted after the command's ")": indexes 11 and 12 here.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux; /proc counts in these

/** µs per component for the samples between `fromUs` and `toUs` (the profile's own clock). */
export function attribute(profile: CpuProfile, fromUs: number, toUs: number): { component: string; us: number; samples: number }[] {
  if (fromUs < profile.startTime || toUs > profile.endTime)
    throw new Error(
      `the replay's window (${fromUs}–${toUs} µs) lies outside the profile (${profile.startTime}–${profile.endTime} µs): the clocks did not line up`,
    );
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id;
  const memo = new Map<number, string>();
  const componentOf = (id: number): string => {
    const known = memo.get(id);
    if (known) return known;
    const leaf = byId.get(id)!;
    let found: string | undefined;
    if (leaf.callFrame.functionName === '(garbage collector)') found = GC;
    else if (leaf.callFrame.functionName === '(idle)') found = 'idle';
    else if (leaf.callFrame.functionName === '(program)') found = NATIVE;
    let passedNodeIo = false;
    const walk = (rules: [string, RegExp][]) => {
      for (let n: ProfileNode | undefined = leaf; n && !found; n = n.parent === undefined ? undefined : byId.get(n.parent)) {
        found = rules.find(([, re]) => re.test(n.callFrame.url))?.[0];
        passedNodeIo ||= NODE_IO.test(n.callFrame.url);
      }
    };
    if (!found) walk(COMPONENTS);
    // res.end's socket write, reached from Express or a route: the HTTP server's I/O, not routing.
    if (passedNodeIo && (found === EXPRESS || found?.startsWith('platform HTTP'))) found = NODE_HTTP;
    if (!found) walk(CORE);
    const name = found ?? NATIVE;
    memo.set(id, name);
    return name;
  };
  const totals = new Map<string, { us: number; samples: number }>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    if (t < fromUs || t > toUs) continue;
    const next = profile.timeDeltas[i + 1] ?? 0;
    const c = componentOf(profile.samples[i]!);
    const sum = totals.get(c) ?? { us: 0, samples: 0 };
    sum.us += next;
    sum.samples++;
    totals.set(c, sum);
  }
  return [...totals].map(([component, t]) => ({ component, ...t })).sort((a, b) => b.us - a.us);
}

export interface ProfileOptions {
  redis: ScriptedRedis;
  prefix: string;
  kafka: EventLog;
  runId: string;
  size: Size;
  concurrency: number;
  /** Where the raw .cpuprofile is kept (open it in Chrome DevTools or speedscope); omitted: deleted. */
  keepAs?: string;
  log: (msg: string) => void;
}

/** The topics the profile's api creates (the caller deletes them with the bench's others, whatever happens). */
export const profileTopics = (runId: string) => Object.values(topics({ KAFKA_TOPIC_PREFIX: `bench.${runId}.profile` }));

export async function profileApi(o: ProfileOptions): Promise<ProfileResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tp-cpu-prof-'));
  const topicPrefix = `bench.${o.runId}.profile`;
  const server = await startServer({
    backend: 'redis',
    topicPrefix,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${SAMPLE_INTERVAL_US}`],
  });
  const eventLog = new EventLogCollector(o.kafka, topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets);
  const client = new LoadClient(server.url, o.concurrency);
  let window: { from: bigint; to: bigint; main: number; all: number } | undefined;
  let stats;
  try {
    await eventLog.start();
    const lab: LabTarget = { url: server.url, backend: 'redis', redis: o.redis, prefix: o.prefix, client, eventLog };
    await runNoop(server.url, 5000, { concurrency: o.concurrency }, client);
    const warm = await runScenario(lab, buildScenario('seed-replay', 'test'), {
      eventId: `Bench${o.runId}-profile-warmup`,
      concurrency: 200,
    });
    if (!warm.verdict.correct) throw new Error(`the warm-up run was incorrect: ${warm.verdict.problems.slice(0, 3).join('; ')}`);
    let from = 0n;
    let main0 = 0;
    let all0 = 0;
    const report = await runScenario(lab, buildScenario('seed-replay', o.size), {
      eventId: `Bench${o.runId}-profile`,
      concurrency: o.concurrency,
      onProgress: printProgress,
      label: 'seed-replay profiled',
      around: {
        before: async () => {
          main0 = cpuMicros(server.pid, server.pid);
          all0 = cpuMicros(server.pid);
          from = process.hrtime.bigint();
        },
        after: async () => {
          window = {
            from,
            to: process.hrtime.bigint(),
            main: cpuMicros(server.pid, server.pid) - main0,
            all: cpuMicros(server.pid) - all0,
          };
        },
      },
    });
    if (!report.verdict.correct) throw new Error(`the profiled replay was incorrect: ${report.verdict.problems.slice(0, 3).join('; ')}`);
    stats = report.stats;
  } finally {
    await client.close();
    await eventLog.stop().catch(() => undefined);
    await server.stop(); // the api writes its profile as it exits
  }
  try {
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`the api wrote no CPU profile into ${dir}: did it exit cleanly on SIGTERM?`);
    const raw = readFileSync(path.join(dir, file), 'utf8');
    const profile = JSON.parse(raw) as CpuProfile;
    const parts = attribute(profile, Number(window!.from / 1000n), Number(window!.to / 1000n));
    const idle = parts.find((p) => p.component === 'idle')?.us ?? 0;
    const busy = parts.filter((p) => p.component !== 'idle').reduce((n, p) => n + p.us, 0);
    const total = idle + busy;
    if (busy === 0) throw new Error('the profile holds no sample inside the replay: the clocks did not line up');
    const mainUs = window!.main / stats.requests;
    const result: ProfileResult = {
      requests: stats.requests,
      throughput: stats.throughput,
      mainThreadUsPerPurchase: Math.round(mainUs * 10) / 10,
      otherThreadsUsPerPurchase: Math.round(((window!.all - window!.main) / stats.requests) * 10) / 10,
      idleShare: Math.round((idle / total) * 1000) / 1000,
      busySamples: parts.filter((p) => p.component !== 'idle').reduce((n, p) => n + p.samples, 0),
      expectedSamples: Math.round(busy / SAMPLE_INTERVAL_US),
      rows: parts
        .filter((p) => p.component !== 'idle')
        .map((p) => ({
          component: p.component,
          share: Math.round((p.us / busy) * 1000) / 1000,
          usPerPurchase: Math.round((p.us / busy) * mainUs * 10) / 10,
        })),
    };
    if (o.keepAs) {
      mkdirSync(path.dirname(o.keepAs), { recursive: true });
      writeFileSync(o.keepAs, raw);
      result.profileFile = path.basename(o.keepAs);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function profileTable(p: ProfileResult): string[] {
  const n = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return [
    `CPU profile of the api during the seed replay: ${p.requests.toLocaleString('en-US')} purchase requests at ${p.throughput.toLocaleString('en-US')} req/s; main thread ${n(p.mainThreadUsPerPurchase)} µs of CPU per purchase (idle ${n(p.idleShare * 100)}% of the window), other threads ${n(p.otherThreadsUsPerPurchase)} µs; ${p.busySamples.toLocaleString('en-US')} busy samples (${p.expectedSamples.toLocaleString('en-US')} at the nominal interval)${p.profileFile ? ` (profile: ${p.profileFile})` : ''}.`,
    '',
    '| component | µs per purchase (main thread) | share |',
    '| --- | ---: | ---: |',
    ...p.rows.map((r) => `| ${r.component} | ${n(r.usPerPurchase)} | ${n(r.share * 100)}% |`),
    `| **total** | **${n(p.mainThreadUsPerPurchase)}** | 100% |`,
  ];
}
