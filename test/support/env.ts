import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/config';
import { createLogger, type Logger } from '../../src/observability/logger';

/** A unique id for this test's events, topics and keys, so tests never collide. */
export function uid(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Configuration for an in-process platform in a test: the local services, a topic prefix and a
 * Redis key prefix of the test's own. Both matter: an api's recovery sweep re-sends every
 * pending purchase under its key prefix to its own topic, so two tests sharing a key prefix
 * would steal each other's records.
 */
export function testConfig(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  // A test that names its own broker or Redis (a private one it may kill) leaves the topology's
  // cluster settings for that service behind: a single private broker cannot hold RF 3.
  const topology = topologyEnv();
  if (overrides.KAFKA_BROKERS) {
    delete topology.KAFKA_REPLICATION_FACTOR;
    delete topology.KAFKA_MIN_INSYNC_REPLICAS;
  }
  if (overrides.REDIS_URL || overrides.REDIS_CLUSTER_NODES !== undefined) delete topology.REDIS_CLUSTER_NODES;
  return loadConfig({
    ...topology,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KAFKA_TOPIC_PREFIX: uid('test.'),
    REDIS_KEY_PREFIX: `tp:${uid('t')}:`,
    KAFKA_PARTITIONS: '3',
    SEEDS_DIR: 'seeds',
    SHUTDOWN_GRACE_MS: '2000',
    // Tests drive many buyers from one address: rate limits are off unless a test turns them on (test/admission).
    RATE_LIMIT_ROUTES: '',
    ...overrides,
  });
}

/**
 * Where the services are, as the topology set them (`TOPOLOGY=cluster npm test` exports the
 * cluster's nodes and brokers, scripts/topology): the one part of the environment tests inherit.
 */
const TOPOLOGY_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'KAFKA_BROKERS',
  'KAFKA_REPLICATION_FACTOR',
  'KAFKA_MIN_INSYNC_REPLICAS',
] as const;
export function topologyEnv(): Partial<Record<(typeof TOPOLOGY_VARIABLES)[number], string>> {
  return Object.fromEntries(TOPOLOGY_VARIABLES.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
}

/** Whether the tests run on the cluster topology (Redis Cluster, 3 brokers). */
export const onClusterTopology = () => Boolean(process.env.REDIS_CLUSTER_NODES);

export function testLogger(role = 'test'): Logger {
  return createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', role);
}

/**
 * Polls `probe` until it returns a truthy value or the deadline passes (never a bare sleep).
 * `what` may be a function: it is called when the deadline passes, to describe the state then.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what: string | (() => string),
  timeoutMs = 15000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
