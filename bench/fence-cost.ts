/**
 * The failover fence's price inside reserve.lua: the same script with and without its
 * `zone_trusted` check (one `INFO replication` per call, hold-lib.lua), driven by redis-benchmark
 * on the conflict path against the one node that owns a scratch zone. The variant without the
 * check exists only here, for the measurement; the platform never loads it.
 */
import { Redis } from 'ioredis';
import { scriptSource, withScripts } from '../src/commands/scripts';
import { isCluster, type RedisClient } from '../src/shared/redis';
import { benchmarkConflictPath, scratchZone, takeFirstSeat } from './redis-ceiling';
import { zoneKeys } from '../src/inventory/keys';

const FENCE_CHECK = 'if not zone_trusted(meta[5]) then return {8} end';

export interface FenceVariant {
  variant: 'with fence (INFO replication)' | 'without fence check';
  /** Each round's redis-benchmark rate (calls/s) and EVALSHA usec per call (INFO commandstats). */
  rounds: { rps: number; usecPerCall: number }[];
  medianRps: number;
  medianUsecPerCall: number;
}

export interface FenceCost {
  node: string;
  requestsPerRound: number;
  variants: FenceVariant[];
  /** Extra Redis time per call that the check costs (median with − median without). */
  fenceUsecPerCall: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function evalshaStats(node: Redis): Promise<{ calls: number; usec: number }> {
  const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await node.info('commandstats'));
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0) };
}

/** The master that serves a key now (the one server when not a cluster). */
async function nodeFor(redis: RedisClient, key: string, redisUrl: string): Promise<{ host: string; port: number }> {
  if (!isCluster(redis)) {
    const url = new URL(redisUrl);
    return { host: url.hostname, port: Number(url.port || '6379') };
  }
  const slot = Number(await redis.cluster('KEYSLOT', key));
  const id = redis.slots[slot]?.[0];
  if (!id) throw new Error(`no master serves slot ${slot}; is the cluster healthy? (TOPOLOGY=cluster npm run services:status)`);
  const at = id.lastIndexOf(':');
  return { host: id.slice(0, at), port: Number(id.slice(at + 1)) };
}

/** Alternates the two variants `rounds` times each (A B A B …) so drift on a shared machine hits both. */
export async function measureFenceCost(
  redis: RedisClient,
  prefix: string,
  redisUrl: string,
  runId: string,
  requests: number,
  rounds = 3,
): Promise<FenceCost> {
  const eventId = `BenchFence${runId}`;
  const target = await nodeFor(redis, zoneKeys(prefix, eventId, 'z').meta, redisUrl);
  // A direct connection to that node: every key of the scratch zone carries its hash tag.
  const conn = new Redis({ host: target.host, port: target.port, maxRetriesPerRequest: 2 });
  const node = withScripts(conn);
  const withFence = scriptSource('reserve.lua');
  if (!withFence.includes(FENCE_CHECK)) throw new Error(`reserve.lua no longer has "${FENCE_CHECK}": update bench/fence-cost.ts`);
  const sources = {
    'with fence (INFO replication)': withFence,
    'without fence check': withFence.replace(FENCE_CHECK, '-- bench/fence-cost.ts: the fence check is left out'),
  } as const;
  const z = await scratchZone(node, prefix, eventId);
  try {
    const shas = Object.fromEntries(
      await Promise.all(Object.entries(sources).map(async ([name, src]) => [name, String(await node.script('LOAD', src))] as const)),
    ) as Record<keyof typeof sources, string>;
    await takeFirstSeat(node, z, shas['with fence (INFO replication)']);
    const results = new Map<keyof typeof sources, FenceVariant['rounds']>();
    for (let r = 0; r < rounds; r++) {
      for (const name of Object.keys(sources) as (keyof typeof sources)[]) {
        const before = await evalshaStats(conn);
        const run = await benchmarkConflictPath(z, shas[name], target, requests);
        const after = await evalshaStats(conn);
        const calls = after.calls - before.calls;
        results.set(name, [
          ...(results.get(name) ?? []),
          { rps: Math.round(run.rps), usecPerCall: calls > 0 ? Math.round(((after.usec - before.usec) / calls) * 100) / 100 : 0 },
        ]);
      }
    }
    const taken = await node.bitcount(z.k.bits);
    if (taken !== 1) throw new Error(`the fence benchmark sold ${taken - 1} seats; its figures are invalid`);
    const variants = [...results].map(([variant, rs]) => ({
      variant,
      rounds: rs,
      medianRps: Math.round(median(rs.map((x) => x.rps))),
      medianUsecPerCall: Math.round(median(rs.map((x) => x.usecPerCall)) * 100) / 100,
    }));
    return {
      node: `${target.host}:${target.port}`,
      requestsPerRound: requests,
      variants,
      fenceUsecPerCall: Math.round((variants[0]!.medianUsecPerCall - variants[1]!.medianUsecPerCall) * 100) / 100,
    };
  } finally {
    await z.remove().catch(() => undefined);
    await node.quit().catch(() => undefined);
  }
}
