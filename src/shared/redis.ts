import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redisTarget, type Config } from '../config/config';

/**
 * One Redis server or a Redis Cluster, behind the same command surface. Every multi-key command
 * and script of the platform keeps its keys on one hash tag (src/inventory/keys.ts and the other
 * key modules), so it runs unchanged on a cluster; what differs (scanning, loading scripts on
 * every master, the node that owns a slot) lives here.
 */
export type RedisClient = Redis | Cluster;

export const isCluster = (redis: RedisClient): redis is Cluster => redis instanceof Cluster;

export interface RedisClientOptions {
  connectionName?: string;
  maxRetriesPerRequest?: number | null;
  lazyConnect?: boolean;
}

/** The client REDIS_URL / REDIS_CLUSTER_NODES name: ioredis `Redis`, or ioredis `Cluster` for a cluster. */
export function createRedisClient(cfg: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, options: RedisClientOptions = {}): RedisClient {
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 2 : options.maxRetriesPerRequest,
    // No per-command timeout: it arms a timer for every command on the hot path. The purchase
    // path has its own deadline (PURCHASE_TIMEOUT_MS); a dropped connection fails fast.
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
  };
  const target = redisTarget(cfg);
  if (target.kind === 'single') return new Redis(target.url, { ...redisOptions, enableAutoPipelining: true });
  return new Cluster(target.nodes, {
    // Auto-pipelining groups commands per node, so the hot path keeps one round trip per node.
    enableAutoPipelining: true,
    // Reads go to the masters: a replica may lag, and the scripts' answers must be the truth.
    scaleReads: 'master',
    redisOptions,
    // A failover takes a few seconds (cluster-node-timeout); commands wait for the new topology
    // rather than failing at once, within the purchase path's own deadline.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 50,
    slotsRefreshTimeout: 2000,
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
  });
}

/** The servers that hold data: the one server, or every cluster master. */
export function masters(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * Every key matching `pattern`, batch by batch. On a cluster SCAN covers one node only, so each
 * master is scanned in turn (a key lives on exactly one master). Cleanup and admin paths only.
 */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 1000): AsyncGenerator<string[]> {
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', String(count));
      cursor = next;
      if (found.length > 0) yield found;
    } while (cursor !== '0');
  }
}

/**
 * Deletes keys that may live in different slots: one UNLINK per key, which auto-pipelining
 * batches per node. (A multi-key UNLINK across slots is refused by a cluster with CROSSSLOT.)
 */
export async function unlinkEach(redis: RedisClient, keys: string[]): Promise<void> {
  await Promise.all(keys.map((k) => redis.unlink(k)));
}

/**
 * Deletes many keys in few commands: on one node, UNLINKs of up to `per` keys; in a cluster, one
 * UNLINK per hash tag (keys sharing a `{tag}` share a slot; a key without one goes alone). The
 * reset's 156,000 keys of the seed event were 156,000 UNLINKs with unlinkEach.
 */
export async function unlinkMany(redis: RedisClient, keys: string[], per = 1000): Promise<void> {
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const tag = isCluster(redis) ? (hashTagOf(k) ?? k) : '';
    const g = groups.get(tag);
    if (g) g.push(k);
    else groups.set(tag, [k]);
  }
  const calls: Promise<number>[] = [];
  for (const g of groups.values()) for (let i = 0; i < g.length; i += per) calls.push(redis.unlink(...g.slice(i, i + per)));
  await Promise.all(calls);
}

/** The part of a key Redis Cluster hashes: the first non-empty `{…}`, as the cluster spec says. */
function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** A new connection (or cluster client) to the same Redis, e.g. for a subscriber. */
export const duplicateClient = (redis: RedisClient): RedisClient => (isCluster(redis) ? redis.duplicate() : redis.duplicate());

/** Every key matching `pattern` at once (small key sets: tests, admin reports). */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of scanKeys(redis, pattern)) out.push(...batch);
  return out;
}

/**
 * Whether an error says Redis (or a cluster node) is failing over or out of reach rather than
 * that the request was wrong: redirections ioredis gave up on during a failover (MOVED, ASK,
 * "Too many Cluster redirections"), CLUSTERDOWN, TRYAGAIN, LOADING, READONLY on a demoted
 * master, closed connections and exhausted retries. HTTP answers these with 503, not 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | undefined;
  if (!e || typeof e.message !== 'string') return false;
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError') return true;
  if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT') return true;
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN)\b|Too many Cluster redirections|Connection is closed|Failed to refresh slots cache|None of startup nodes is available/.test(
    e.message,
  );
}
