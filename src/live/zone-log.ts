import type { ScriptedRedis } from '../commands/scripts';
import { zoneKeys } from '../inventory/keys';

/**
 * A zone's change log in Redis (docs/live-seat-map.md): a capped stream of coalesced change
 * events whose entry ids are their seqs, the picture (bitmaps) as of the last one, and the lease
 * naming the one process that writes them. Every key carries the zone's hash tag, so each call
 * is one slot on Redis Cluster.
 */

/** The seat states a change event reports, by seat index (row-major bit offset). */
export interface SeatChanges {
  /** Now sold (taken and not held). */
  taken: number[];
  /** Now free. */
  freed: number[];
  /** Now held. */
  held: number[];
}

export interface ChangeEvent extends SeatChanges {
  seq: number;
  /** When the writer appended it (ms): the lag metric's start. */
  at: number;
}

/** The zone as of `seq`: the zone bitmap (bit = held or sold) and the held bitmap. */
export interface Picture {
  seq: number;
  taken: Buffer;
  held: Buffer;
  at: number;
}

export interface ZoneLogOptions {
  /** Entries the stream keeps: a viewer further behind than this gets a fresh snapshot. */
  maxLength: number;
  /** How long the log outlives its last write (ms). */
  ttlMs: number;
  leaseMs: number;
}

export const liveKeys = (prefix: string, eventId: string, zoneId: string) => {
  const base = zoneKeys(prefix, eventId, zoneId).meta.replace(/meta$/, 'live:');
  return { lease: `${base}lease`, seq: `${base}seq`, log: `${base}log`, picture: `${base}picture` };
};

export enum LeaseAnswer {
  HELD_BY_OTHER = 0,
  RENEWED = 1,
  TAKEN = 2,
}

export class ZoneLog {
  readonly keys: ReturnType<typeof liveKeys>;

  constructor(
    private readonly redis: ScriptedRedis,
    prefix: string,
    readonly eventId: string,
    readonly zoneId: string,
    private readonly opts: ZoneLogOptions,
  ) {
    this.keys = liveKeys(prefix, eventId, zoneId);
  }

  async takeLease(token: string): Promise<LeaseAnswer> {
    return await this.redis.tpLiveLease(this.keys.lease, token, this.opts.leaseMs, 'take');
  }

  async dropLease(token: string): Promise<void> {
    await this.redis.tpLiveLease(this.keys.lease, token, this.opts.leaseMs, 'drop');
  }

  /**
   * Appends a change with the picture after it; `changes` undefined = write the first picture
   * (if none exists). Returns the seq, or undefined when the lease is not ours any more.
   */
  async append(token: string, taken: Buffer, held: Buffer, now: number, changes?: SeatChanges): Promise<number | undefined> {
    const body = changes
      ? `"taken":${JSON.stringify(changes.taken)},"freed":${JSON.stringify(changes.freed)},"held":${JSON.stringify(changes.held)}`
      : '';
    const k = this.keys;
    const [code, seq] = await this.redis.tpLiveAppend(
      k.lease,
      k.seq,
      k.log,
      k.picture,
      token,
      this.opts.maxLength,
      this.opts.ttlMs,
      taken,
      held,
      now,
      body,
    );
    return code === 0 ? undefined : seq;
  }

  async picture(): Promise<Picture | undefined> {
    const h = await this.redis.hgetallBuffer(this.keys.picture);
    if (!h.seq) return undefined;
    return {
      seq: Number(h.seq.toString()),
      taken: h.taken ?? Buffer.alloc(0),
      held: h.held ?? Buffer.alloc(0),
      at: Number(h.at?.toString() ?? 0),
    };
  }

  /** The last seq handed out (0 when the log has none). */
  async lastSeq(): Promise<number> {
    return Number((await this.redis.get(this.keys.seq)) ?? 0);
  }

  /** Change events after `afterSeq`, oldest first, at most `count`. */
  async after(afterSeq: number, count: number): Promise<ChangeEvent[]> {
    const reply = await this.redis.xread('COUNT', count, 'STREAMS', this.keys.log, `${afterSeq}-0`);
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as ChangeEvent);
  }

  /** The zone bitmap and its held seats as one read (MULTI on the zone's slot). */
  async readZone(heldKey: string, bitsKey: string): Promise<{ taken: Buffer; heldOffsets: number[] }> {
    const res = await this.redis.multi().getBuffer(bitsKey).hkeys(heldKey).exec();
    if (!res) throw new Error('zone read was discarded');
    for (const [err] of res) if (err) throw err;
    return { taken: (res[0]![1] as Buffer | null) ?? Buffer.alloc(0), heldOffsets: (res[1]![1] as string[]).map(Number) };
  }
}
