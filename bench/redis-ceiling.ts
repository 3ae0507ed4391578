import { scriptSource } from '../src/commands/scripts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { ZoneDef } from '../src/catalog/model';
import { Inventory } from '../src/inventory/inventory';
import { zoneKeys } from '../src/inventory/keys';
import { ZoneLayout } from '../src/inventory/layout';
import type { ScriptedRedis } from '../src/commands/scripts';

const run = promisify(execFile);

export interface RedisCeiling {
  /** redis-benchmark: EVALSHA of reserve.lua, each call a new purchase key for a seat already taken. */
  redisScript: { tool: string; path: string; requests: number; clients: number; throughput: number; p50: number; p99: number };
  /** The same script on its success path (distinct free seats), driven from Node with 50 calls in flight. */
  redisScriptSuccess: { tool: string; path: string; requests: number; inFlight: number; throughput: number };
}

const SEATS = 65_535;

/** reserve.lua as the platform registers it (hold-lib.lua first: it holds the seat check). */
const reserveLua = (): string => scriptSource('reserve.lua');

/** A scratch zone of its own (one row of 65,535 seats) and a purchase body, for raw script calls. */
export async function scratchZone(redis: ScriptedRedis, prefix: string, eventId: string) {
  const inventory = new Inventory(redis, prefix);
  const zone: ZoneDef = { zoneId: 'z', name: 'scratch', rows: ['A'], seatCounts: [SEATS], priceCents: 0 };
  const layout = ZoneLayout.of(zone);
  const k = zoneKeys(prefix, eventId, 'z');
  const body = JSON.stringify({
    schemaVersion: 1,
    type: 'TicketPurchased',
    purchaseId: 'x'.repeat(40),
    eventId,
    venueId: 'V',
    zoneId: 'z',
    userId: 'bench-user',
    tickets: [{ ticketId: 'x'.repeat(42), row: 'A', column: 1, priceCents: 20000 }],
    currency: 'USD',
    createdOn: new Date().toISOString(),
  });
  await inventory.initZone(eventId, zone);
  return {
    k,
    layout,
    body,
    /** Deletes the zone and the pending purchases the success path leaves behind. */
    async remove() {
      // In chunks: Inventory.deleteZone unlinks them in one call, too many arguments for one stack.
      for (;;) {
        const ids = await redis.zrange(k.pending, '0', '999');
        if (ids.length === 0) break;
        await redis.unlink(...ids.map((id) => k.purchase(id)));
        await redis.zrem(k.pending, ...ids);
      }
      await inventory.deleteZone(eventId, 'z');
    },
  };
}

type Scratch = Awaited<ReturnType<typeof scratchZone>>;

/**
 * redis-benchmark -c 50 EVALSHA of a loaded reserve script on the conflict path (seat 0, taken
 * by the caller first), each call with a new purchase key, against one node (host:port).
 */
export async function benchmarkConflictPath(
  z: Scratch,
  sha: string,
  node: { host: string; port: number },
  requests: number,
): Promise<{ rps: number; p50: number; p99: number }> {
  const { k, layout, body } = z;
  const { stdout } = await run(
    'redis-benchmark',
    [
      '-h',
      node.host,
      '-p',
      String(node.port),
      '-n',
      String(requests),
      '-c',
      '50',
      '-r',
      '1000000000',
      '--csv',
      'EVALSHA',
      sha,
      '5',
      k.bits,
      k.counts,
      k.meta,
      k.pending,
      `${k.purchase('')}__rand_int__`,
      layout.hash,
      'bench__rand_int__',
      String(Date.now()),
      body,
      '0',
      '0',
    ],
    { maxBuffer: 1 << 20 },
  );
  // The test name (first column) holds the whole command, commas included: read the figures from the end.
  const [headLine = '', dataLine = ''] = stdout.trim().split('\n');
  const unquote = (c: string) => c.replace(/"/g, '');
  const header = headLine.split(',').map(unquote).slice(1);
  const values = dataLine.split(',').map(unquote).slice(-header.length);
  const col = (name: string) => Number(values[header.indexOf(name)]);
  if (!Number.isFinite(col('rps'))) throw new Error(`redis-benchmark printed no figures:\n${stdout}`);
  return { rps: col('rps'), p50: col('p50_latency_ms'), p99: col('p99_latency_ms') };
}

/** Takes seat 0 under purchase id `first`, so every later call of the script takes the conflict path. */
export async function takeFirstSeat(redis: ScriptedRedis, z: Scratch, sha: string): Promise<void> {
  const { k, layout, body } = z;
  await redis.evalsha(sha, 5, k.bits, k.counts, k.meta, k.pending, k.purchase('first'), layout.hash, 'first', Date.now(), body, 0, 0);
}

/**
 * The raw Redis ceiling of the purchase script, in a scratch zone of its own that is deleted
 * afterwards.
 *
 * redis-benchmark replaces __rand_int__ with zero-padded numbers, which SETBIT refuses as an
 * offset, so it cannot pick distinct seats: it measures the conflict path (all reads of the
 * script, no writes), with a unique purchase key per call. The success path (reads + writes)
 * is measured from Node instead.
 */
export async function redisCeiling(
  redis: ScriptedRedis,
  prefix: string,
  redisUrl: string,
  runId: string,
  requests: number,
): Promise<RedisCeiling> {
  const z = await scratchZone(redis, prefix, `BenchScratch${runId}`);
  const { k, layout, body } = z;
  try {
    const sha = String(await redis.script('LOAD', reserveLua()));
    await takeFirstSeat(redis, z, sha);
    const url = new URL(redisUrl);
    const conflict = await benchmarkConflictPath(z, sha, { host: url.hostname, port: Number(url.port || '6379') }, requests);
    const taken = await redis.bitcount(k.bits);
    if (taken !== 1) throw new Error(`redis-benchmark sold ${taken - 1} seats; the conflict-path ceiling is invalid`);

    // Success path: distinct free seats, 50 calls in flight through ioredis.
    const n = Math.min(requests, SEATS - 1);
    let next = 1;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let seat = next++; seat <= n; seat = next++) {
          const id = `s${seat}`;
          const r = (await redis.evalsha(
            sha,
            5,
            k.bits,
            k.counts,
            k.meta,
            k.pending,
            k.purchase(id),
            layout.hash,
            id,
            Date.now(),
            body,
            seat,
            0,
          )) as number[];
          if (r[0] !== 0) throw new Error(`reserve.lua refused free seat ${seat}: ${JSON.stringify(r)}`);
        }
      }),
    );
    const ms = performance.now() - start;
    return {
      redisScript: {
        tool: 'redis-benchmark -c 50 EVALSHA',
        path: 'conflict (seat taken; unique purchase key per call)',
        requests,
        clients: 50,
        throughput: Math.round(conflict.rps),
        p50: conflict.p50,
        p99: conflict.p99,
      },
      redisScriptSuccess: {
        tool: 'ioredis, 50 in flight',
        path: 'success (distinct free seats: reads + writes)',
        requests: n,
        inFlight: 50,
        throughput: Math.round((n * 1000) / ms),
      },
    };
  } finally {
    await z.remove();
  }
}
