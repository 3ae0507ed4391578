/**
 * node dist/bench/kafka-clients.js [--brokers 127.0.0.1:9092] [--rounds 5] [--scale 1] [--confluent-linger-ms 0]
 *
 * The Kafka client behind the event-log seam, measured on the purchase engine's producer path:
 * kafkajs (today's, through src/stream/kafkajs-adapter.ts) against `@platformatic/kafka` and
 * `@confluentinc/kafka-javascript` (librdkafka), each idempotent with acks=all, sending
 * TicketPurchased records keyed by event:zone. A client that is not installed is skipped with
 * the command that installs it (neither of the two is a dependency of the project).
 *
 * Shapes, each a fixed number of records:
 * - sender ×1000: 1,000 purchases at a time, each awaiting its own record through the platform's
 *   BatchingSender (2 producers, linger 1 ms, batches up to 1,000): the api under load.
 * - sender ×1: one purchase at a time through the same sender: the api at rest (latency floor).
 * - batch 100: batches of 100 records on one producer, one request in flight.
 * - direct ×1000: 1,000 single-record sends at a time straight on one producer (the client's own
 *   queueing and batching, no BatchingSender).
 * Figures: CPU µs per record of the whole process (process.cpuUsage, a native client's threads
 * included) and of the main thread alone (the event loop the api shares), records/s, and
 * p50/p99 of the time from send to acknowledgement (per record; per batch for "batch 100").
 * Rounds go client after client, shape after shape; a cell is the median of its rounds.
 * After a client's rounds its topic's offsets are checked against what it acknowledged, per
 * partition, as murmur2 of the key puts it: a client that lost records or partitioned
 * differently from kafkajs fails the check.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { createLogger } from '../src/observability/logger';
import { sampleSale } from './sample-sale';
import { partitionKey } from '../src/purchase/record';
import type { EventLog, LogProducer, NewRecord } from '../src/stream/event-log';
import { KafkajsEventLog } from '../src/stream/kafkajs-adapter';
import { quietHarmlessClientWarnings } from '../src/stream/kafka';
import { BatchingSender } from '../src/stream/sender';
import { confluentClient, harnessOnly, kafkajsClient, platformaticClient, type Absent, type BenchClient } from './kafka-clients/clients';
import { measure, median, type Measured } from './kafka-clients/measure';

const PARTITIONS = 6;
const ZONES = 8;

interface Shape {
  name: string;
  operations: number;
  concurrency: number;
  perOp: number;
  via: 'sender' | 'producer';
}

function shapes(scale: number): Shape[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  return [
    { name: 'sender ×1000', operations: n(20_000), concurrency: 1000, perOp: 1, via: 'sender' },
    { name: 'sender ×1', operations: n(1_000), concurrency: 1, perOp: 1, via: 'sender' },
    { name: 'batch 100', operations: n(200), concurrency: 1, perOp: 100, via: 'producer' },
    { name: 'direct ×1000', operations: n(20_000), concurrency: 1000, perOp: 1, via: 'producer' },
  ];
}

/** A purchase record as the engine sends it: JSON body, key event:zone, the purchase id header. */
function purchaseRecords(eventId: string, count: number): NewRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const zoneId = `z${1 + (i % ZONES)}`;
    const seats = [1, 2].map((n) => ({ row: `R${i % 40}`, column: 2 * (i % 50) + n }));
    const record = sampleSale(eventId, zoneId, seats, `user-${i % 997}`);
    const purchaseId = record.purchaseId;
    return { key: partitionKey(eventId, zoneId), value: JSON.stringify(record), headers: { 'x-purchase-id': purchaseId } };
  });
}

interface Outcome {
  client: BenchClient;
  topic: string;
  cells: Map<string, Measured[]>;
  /** Records acknowledged per key, for the offsets check. */
  ackedPerKey: Map<string, number>;
  error?: string;
}

async function runShape(
  outcome: Outcome,
  shape: Shape,
  pool: readonly NewRecord[],
  log: ReturnType<typeof createLogger>,
): Promise<Measured> {
  const pick = (i: number) => pool[i % pool.length]!;
  const count = (r: NewRecord) => outcome.ackedPerKey.set(r.key!, (outcome.ackedPerKey.get(r.key!) ?? 0) + 1);
  if (shape.via === 'sender') {
    const sender = new BatchingSender(
      // The sender asks its log for producers only.
      { openProducer: () => outcome.client.openProducer() } as Pick<EventLog, 'openProducer'> as EventLog,
      { topic: outcome.topic, lingerMs: 1, maxBatch: 1000, maxBatchBytes: 900_000, producers: 2, stallMs: 30_000 },
      log,
    );
    await sender.start();
    try {
      return await measure(shape.operations, shape.concurrency, 1, async (i) => {
        const r = pick(i);
        await sender.send(r);
        count(r);
      });
    } finally {
      await sender.close();
    }
  }
  const producer: LogProducer = await outcome.client.openProducer();
  try {
    return await measure(shape.operations, shape.concurrency, shape.perOp, async (i) => {
      const batch = Array.from({ length: shape.perOp }, (_, j) => pick(i * shape.perOp + j));
      await producer.send(outcome.topic, batch);
      for (const r of batch) count(r);
    });
  } finally {
    await producer.close();
  }
}

/** Records per partition as the acknowledgements and murmur2 say, against the topic's offsets. */
async function checkOffsets(admin: KafkajsEventLog, o: Outcome): Promise<string> {
  const expected = new Array<number>(PARTITIONS).fill(0);
  for (const [key, n] of o.ackedPerKey) expected[admin.partitionOf(key, PARTITIONS)]! += n;
  const actual = new Array<number>(PARTITIONS).fill(0);
  for (const p of await admin.endOffsets(o.topic)) actual[p.partition] = p.high - p.low;
  const same = expected.every((n, i) => actual[i] === n);
  return same
    ? `ok (${actual.reduce((a, b) => a + b, 0)} records, murmur2 partitions)`
    : `MISMATCH: acknowledged per partition ${expected.join('/')}, in the log ${actual.join('/')}`;
}

const label = (c: BenchClient) => [c.name, c.version].filter(Boolean).join(' ');
const fmt = (v: number | undefined, digits = 0) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function machine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu', [], { encoding: 'utf8' }))?.[1]?.trim() ?? model;
  } catch {
    // lscpu absent: keep the os module's name
  }
  return `${os.availableParallelism()} × ${model}, Node ${process.versions.node}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
      rounds: { type: 'string', default: '5' },
      scale: { type: 'string', default: '1' },
      'confluent-linger-ms': { type: 'string', default: '0' },
    },
  });
  quietHarmlessClientWarnings();
  const brokers = values.brokers.split(',');
  const rounds = Number(values.rounds);
  const log = createLogger('error', 'kafka-clients-bench');
  const admin = new KafkajsEventLog({ brokers, clientId: 'kafka-clients-bench-admin' }, log);
  const prefix = `kcbench-${process.pid}-${Date.now().toString(36)}`;
  const list = shapes(Number(values.scale));
  const pool = purchaseRecords(`${prefix}-E`, 4096);

  const harness = harnessOnly();
  const found: (BenchClient | Absent)[] = [
    harness,
    kafkajsClient(brokers, log),
    platformaticClient(brokers, log),
    await confluentClient(brokers, Number(values['confluent-linger-ms'])),
  ];
  const absent = found.filter((c): c is Absent => 'why' in c);
  for (const a of absent) process.stderr.write(`skipping ${a.name}: ${a.why}\n`);
  const outcomes: Outcome[] = found
    .filter((c): c is BenchClient => !('why' in c))
    .map((client) => ({
      client,
      topic: `${prefix}.${client.name.replace(/[^A-Za-z0-9]+/g, '-')}`,
      cells: new Map(),
      ackedPerKey: new Map(),
    }));

  const startedAt = new Date().toISOString();
  const machineLine = machine();
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadAtStart = load();
  try {
    await admin.ensureTopics(
      outcomes
        .filter((o) => o.client !== harness)
        .map((o) => ({ name: o.topic, partitions: PARTITIONS, replicationFactor: 1, configs: { 'min.insync.replicas': '1' } })),
    );
    // Warm-up: connections, metadata, the JIT; not measured.
    for (const o of outcomes) {
      process.stderr.write(`warming up ${o.client.name}\n`);
      await runShape(o, { ...list[0]!, operations: 3000 }, pool, log).catch((err: Error) => (o.error = err.message));
    }
    for (let round = 1; round <= rounds; round++)
      for (const shape of list)
        for (const o of outcomes) {
          if (o.error) continue;
          process.stderr.write(`round ${round}/${rounds}: ${o.client.name}, ${shape.name} (${shape.operations * shape.perOp} records)… `);
          try {
            const m = await runShape(o, shape, pool, log);
            o.cells.set(shape.name, [...(o.cells.get(shape.name) ?? []), m]);
            process.stderr.write(`${fmt(m.throughput)}/s, ${fmt(m.cpuUsPerMessage, 1)} µs/record\n`);
          } catch (err) {
            o.error = `${shape.name}: ${(err as Error).message}`;
            process.stderr.write(`failed: ${o.error}\n`);
          }
        }

    const lines = [
      `Kafka clients, producer path (idempotent, acks=all, ${PARTITIONS} partitions, replication 1 on one local broker; TicketPurchased records of ~${Math.round(Buffer.byteLength(String(pool[0]!.value)))} bytes, ${ZONES} zone keys).`,
      `Machine: ${machineLine}; load average ${loadAtStart} at start, ${load()} at the end (the broker and other work share the cores). Started ${startedAt}; median of ${rounds} rounds per cell, one run.`,
      '',
      '| client | shape | records | CPU µs/record (process) | CPU µs/record (main thread) | records/s | p50 ms | p99 ms |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const shape of list)
      for (const o of outcomes) {
        const runs = o.cells.get(shape.name);
        if (!runs || runs.length === 0) {
          lines.push(`| ${label(o.client)} | ${shape.name} | – | failed: ${o.error ?? 'not run'} | | | | |`);
          continue;
        }
        const m = median(runs);
        lines.push(
          `| ${label(o.client)} | ${shape.name} | ${m.messages} | ${fmt(m.cpuUsPerMessage, 1)} | ${fmt(m.loopUsPerMessage, 1)} | ${fmt(m.throughput)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} |`,
        );
      }
    lines.push(
      '',
      "sender ×1000: 1,000 purchases at a time through the platform's BatchingSender (2 producers, linger 1 ms, batches ≤ 1,000); sender ×1: one at a time through it;",
      'batch 100: batches of 100 on one producer, one in flight (latency per batch); direct ×1000: 1,000 single-record sends at a time on one producer, no BatchingSender.',
      "CPU (process): user + system of every thread (librdkafka's included); (main thread): the event loop's thread alone, 10 ms ticks. The harness row is the bench's and the sender's own share of each figure.",
    );
    lines.push('', 'Offsets check (records in the log per partition = records acknowledged, partitioned as murmur2 of the key):');
    for (const o of outcomes) if (o.client !== harness) lines.push(`- ${o.client.name}: ${await checkOffsets(admin, o)}`);
    for (const a of absent) lines.push(`- ${a.name}: skipped, ${a.why}`);
    process.stdout.write(lines.join('\n') + '\n');
    if (outcomes.some((o) => o.error)) process.exitCode = 1;
  } finally {
    await admin
      .deleteTopics(outcomes.filter((o) => o.client !== harness).map((o) => o.topic))
      .catch((err: Error) => process.stderr.write(`could not delete the bench topics ${prefix}.*: ${err.message}; delete them by hand\n`));
    await Promise.all(outcomes.map((o) => o.client.close()));
    await admin.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kafka-clients bench failed: ${(err as Error).stack ?? String(err)}\nIs Kafka up? (npm run services:status)\n`);
  process.exit(1);
});
