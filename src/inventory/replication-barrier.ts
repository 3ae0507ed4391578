import { Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../shared/redis';
import { zoneKeys } from './keys';

/**
 * `WAIT <replicas> <timeout>` after a reservation, before its record goes to Kafka: it narrows
 * the window in which an asynchronous failover can lose a reservation the log already holds
 * (docs/purchase-state-machine.md, "Failover fence"; REDIS_WAIT_REPLICAS). The fence makes a
 * loss safe; this makes it rare. It is a group commit per Redis node:
 *
 * - WAIT blocks the connection it is sent on, so it never goes on the shared connection that the
 *   purchase path pipelines on. Each node gets a barrier connection of its own.
 * - WAIT counts the replicas that acknowledged the client's own last write. The barrier
 *   connection therefore first writes one small key on the zone's hash tag (INCR), after the
 *   reservations it covers were answered, so its offset is past theirs.
 * - One WAIT at a time per node: callers arriving meanwhile share the next one.
 *
 * It never refuses a purchase: a timeout (a replica down) or an error only counts as fewer
 * replicas, and the purchase goes on (the fence stays the safety net).
 */
export class ReplicationBarrier {
  private readonly nodes = new Map<string, NodeBarrier>();
  /** Slot of each zone's barrier key (CLUSTER KEYSLOT, asked once per zone). */
  private readonly slots = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves with the replicas that hold every write made to the zone's node before the call. */
  async after(eventId: string, zoneId: string): Promise<number> {
    const key = `${zoneKeys(this.prefix, eventId, zoneId).meta}:wait`;
    const node = await this.nodeOf(key).catch(() => undefined);
    if (!node) return Promise.resolve(0);
    let b = this.nodes.get(node.id);
    if (!b) {
      b = new NodeBarrier(node.connect(), this.replicas, this.timeoutMs);
      this.nodes.set(node.id, b);
    }
    return b.next(key);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.nodes.values()].map((b) => b.close()));
    this.nodes.clear();
  }

  /** The node that serves a key now, and how to open a connection to it. */
  private async nodeOf(key: string): Promise<{ id: string; connect: () => Redis } | undefined> {
    const redis = this.redis;
    if (!isCluster(redis)) return { id: 'main', connect: () => redis.duplicate() };
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = Number(await redis.cluster('KEYSLOT', key));
      this.slots.set(key, slot);
    }
    // The master serving the slot now (ioredis follows the topology: MOVED, refreshes).
    const id = redis.slots[slot]?.[0];
    if (!id) return undefined;
    const at = id.lastIndexOf(':');
    const base = redis.options.redisOptions ?? {};
    return {
      id,
      connect: () =>
        new Redis({
          ...base,
          host: id.slice(0, at),
          port: Number(id.slice(at + 1)),
          maxRetriesPerRequest: 1,
          // A node that vanished must not hold the barrier (and the purchases behind it) for long.
          connectTimeout: 1000,
          commandTimeout: this.timeoutMs + 1000,
        }),
    };
  }
}

class NodeBarrier {
  private running: Promise<number> | undefined;
  private queued: { promise: Promise<number>; key: string } | undefined;

  constructor(
    private readonly conn: Redis,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {
    conn.on('error', () => undefined); // reconnects by itself; a failed WAIT counts as 0 replicas
  }

  next(key: string): Promise<number> {
    // A WAIT under way may have started before the caller's reservation was answered: the caller
    // needs the one after it. Everyone arriving while it runs shares that next one.
    if (!this.running) return (this.running = this.round(key));
    this.queued ??= {
      key,
      promise: this.running.then(
        () => this.startQueued(),
        () => this.startQueued(),
      ),
    };
    return this.queued.promise;
  }

  private startQueued(): Promise<number> {
    const q = this.queued!;
    this.queued = undefined;
    return (this.running = this.round(q.key));
  }

  private async round(key: string): Promise<number> {
    try {
      await this.conn.incr(key);
      return Number(await this.conn.call('WAIT', this.replicas, this.timeoutMs));
    } catch {
      return 0;
    } finally {
      if (!this.queued) this.running = undefined;
    }
  }

  async close(): Promise<void> {
    await this.conn.quit().catch(() => undefined);
  }
}
