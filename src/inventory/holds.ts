import { randomToken } from '../shared/random';
import type { SeatPosition } from './inventory';
import { holdIndexKeys, zoneKeys, type ZoneKeys } from './keys';
import type { ZoneLayout } from './layout';
import { FenceCode, HoldCode, type ScriptedRedis } from '../commands/scripts';
import { scanKeys } from '../shared/redis';

/**
 * Seat holds in Redis (docs/purchase-state-machine.md, "Holds"): every change is one Lua call on
 * the zone's slot, so bits, counters, hold records and the expiry index move together. This
 * layer speaks bit offsets and codes; src/checkout/holds.ts speaks the API.
 */

export type HoldStatus = 'held' | 'expired' | 'released' | 'purchased' | 'fenced';

export interface HoldRecord {
  holdId: string;
  /** As stored. A `held` hold whose expiresAt has passed is EXPIRED for everyone (see effectiveStatus). */
  status: HoldStatus;
  seats: SeatPosition[];
  /** '' for an anonymous buyer. */
  buyer: string;
  createdAt: number;
  expiresAt: number;
  /** createdAt + HOLD_MAX_SECONDS: extend never goes beyond it. */
  maxUntil: number;
  /** Opaque JSON the creator stored (price, currency). */
  info: string;
  endedAt?: number;
  purchaseId?: string;
}

/** What the caller stores with a new hold. */
export interface NewHold {
  holdId: string;
  buyer?: string;
  expiresAt: number;
  maxUntil: number;
  info: string;
}

export type HoldResult =
  | { code: HoldCode.OK; available: number; expiresAt: number; seats: SeatPosition[] }
  | { code: HoldCode.SEATS_TAKEN; takenIndexes: number[] }
  | { code: HoldCode.NOT_ENOUGH_SEATS; left: number }
  | { code: Exclude<HoldCode, HoldCode.OK | HoldCode.SEATS_TAKEN | HoldCode.NOT_ENOUGH_SEATS>; detail?: number };

export type ExtendResult =
  | { code: HoldCode.OK; expiresAt: number }
  | { code: HoldCode.HOLD_LIMIT_REACHED; maxUntil: number }
  | { code: HoldCode.HOLD_NOT_FOUND | HoldCode.HOLD_NOT_ACTIVE | HoldCode.HOLD_EXPIRED };

export type ReleaseResult =
  { code: HoldCode.OK; freed: number } | { code: HoldCode.HOLD_NOT_FOUND | HoldCode.HOLD_NOT_ACTIVE | HoldCode.HOLD_EXPIRED };

export type ConvertResult =
  | { code: HoldCode.OK | HoldCode.LATE_RETAKEN; available: number }
  | { code: HoldCode.SEATS_TAKEN; takenIndexes: number[] }
  | { code: Exclude<HoldCode, HoldCode.OK | HoldCode.LATE_RETAKEN | HoldCode.SEATS_TAKEN>; detail?: number };

export type FenceMode = 'hold' | 'purchase' | 'convert';

const HOLD_ID = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})\.h[A-Za-z0-9_-]{16}$/;

/** Hold ids route themselves like purchase ids: `<eventId>.<zoneId>.h<16 random>`. */
export function newHoldId(eventId: string, zoneId: string): string {
  return `${eventId}.${zoneId}.h${randomToken(12)}`;
}

export function parseHoldId(holdId: string): { eventId: string; zoneId: string } | undefined {
  const m = HOLD_ID.exec(holdId);
  return m ? { eventId: m[1]!, zoneId: m[2]! } : undefined;
}

/** HELD until expiresAt; from then on EXPIRED for everyone, swept or not. */
export function effectiveStatus(hold: Pick<HoldRecord, 'status' | 'expiresAt'>, now: number): HoldStatus {
  return hold.status === 'held' && hold.expiresAt <= now ? 'expired' : hold.status;
}

/** Whether seats are all in one row at consecutive offsets (the layout is row-major). */
export function nextToEachOther(seats: readonly SeatPosition[]): boolean {
  const sorted = [...seats].sort((a, b) => a.offset - b.offset);
  return sorted.every((s, i) => i === 0 || (s.rowIdx === sorted[0]!.rowIdx && s.offset === sorted[i - 1]!.offset + 1));
}

const flat = (seats: readonly SeatPosition[]) => seats.flatMap((s) => [s.offset, s.rowIdx]);
const indexMember = (eventId: string, zoneId: string) => `${eventId}.${zoneId}`;

export class Holds {
  constructor(
    readonly redis: ScriptedRedis,
    readonly prefix: string,
    /** Injected so tests can move time without sleeping; every script gets `now` from it. */
    readonly clock: () => number = Date.now,
  ) {}

  keys(eventId: string, zoneId: string): ZoneKeys {
    return zoneKeys(this.prefix, eventId, zoneId);
  }

  private zoneArgs(k: ZoneKeys, holdId: string) {
    return [k.bits, k.counts, k.meta, k.held, k.heldUntil, k.hold(holdId)] as const;
  }

  /** hold.lua: these seats, all or nothing. The result's seats are the ones asked for. */
  async hold(eventId: string, zoneId: string, layout: ZoneLayout, h: NewHold, seats: SeatPosition[]): Promise<HoldResult> {
    const k = this.keys(eventId, zoneId);
    const reply = await this.redis.tpHold(
      ...this.zoneArgs(k, h.holdId),
      layout.hash,
      h.holdId,
      this.clock(),
      h.expiresAt,
      h.maxUntil,
      h.buyer ?? '',
      h.info,
      ...flat(seats),
    );
    const [code, ...rest] = reply as [HoldCode, ...number[]];
    if (code === HoldCode.OK) return { code, available: rest[0] ?? 0, expiresAt: rest[1] ?? h.expiresAt, seats };
    if (code === HoldCode.SEATS_TAKEN) return { code, takenIndexes: rest };
    return { code, detail: rest[0] } as HoldResult;
  }

  /** best.lua: the best `count` seats available, picked and held in one call. */
  async best(eventId: string, zoneId: string, layout: ZoneLayout, h: NewHold, count: number): Promise<HoldResult> {
    const k = this.keys(eventId, zoneId);
    const reply = await this.redis.tpBest(
      ...this.zoneArgs(k, h.holdId),
      layout.hash,
      h.holdId,
      this.clock(),
      h.expiresAt,
      h.maxUntil,
      h.buyer ?? '',
      h.info,
      count,
      ...layout.seatCounts,
    );
    const [code, ...rest] = reply as [HoldCode, ...number[]];
    if (code === HoldCode.OK) {
      const seats = rest.slice(2).map((offset) => ({ offset, rowIdx: rowOf(layout, offset) }));
      return { code, available: rest[0] ?? 0, expiresAt: rest[1] ?? h.expiresAt, seats };
    }
    if (code === HoldCode.NOT_ENOUGH_SEATS) return { code, left: rest[0] ?? 0 };
    return { code, detail: rest[0] } as HoldResult;
  }

  /** extend.lua: expiresAt += addMs, never beyond maxUntil. */
  async extend(eventId: string, zoneId: string, holdId: string, addMs: number): Promise<ExtendResult> {
    const k = this.keys(eventId, zoneId);
    const [code, value] = (await this.redis.tpExtend(k.heldUntil, k.hold(holdId), holdId, this.clock(), addMs)) as [HoldCode, number?];
    if (code === HoldCode.OK) return { code, expiresAt: value! };
    if (code === HoldCode.HOLD_LIMIT_REACHED) return { code, maxUntil: value! };
    return { code } as ExtendResult;
  }

  /** release.lua: HELD -> RELEASED now. */
  async release(eventId: string, zoneId: string, holdId: string): Promise<ReleaseResult> {
    const k = this.keys(eventId, zoneId);
    const [code, freed] = (await this.redis.tpRelease(k.bits, k.counts, k.held, k.heldUntil, k.hold(holdId), holdId, this.clock())) as [
      HoldCode,
      number?,
    ];
    return code === HoldCode.OK ? { code, freed: freed ?? 0 } : ({ code } as ReleaseResult);
  }

  /** expire.lua: releases up to `batch` holds whose expiry passed; `next` is the zone's next expiry. */
  async expire(eventId: string, zoneId: string, batch = 200): Promise<{ expired: string[]; next: number | undefined }> {
    const k = this.keys(eventId, zoneId);
    const [, next, ...ids] = await this.redis.tpExpire(k.bits, k.counts, k.held, k.heldUntil, this.clock(), batch);
    return { expired: ids.map(String), next: Number(next) < 0 ? undefined : Number(next) };
  }

  /**
   * convert.lua: a paid hold becomes a RESERVED purchase (the same record reserve.lua writes), or
   * a late payment takes its seats again if they are all free. `seats` and `body` are the hold's
   * seats and the purchase's TicketPurchased record.
   */
  async convert(
    eventId: string,
    zoneId: string,
    layout: ZoneLayout,
    holdId: string,
    purchaseId: string,
    seats: SeatPosition[],
    body: string,
  ): Promise<ConvertResult> {
    const k = this.keys(eventId, zoneId);
    const reply = await this.redis.tpConvert(
      k.bits,
      k.counts,
      k.meta,
      k.held,
      k.heldUntil,
      k.hold(holdId),
      k.pending,
      k.purchase(purchaseId),
      layout.hash,
      holdId,
      purchaseId,
      this.clock(),
      body,
      ...flat(seats),
    );
    const [code, ...rest] = reply as [HoldCode, ...number[]];
    if (code === HoldCode.OK || code === HoldCode.LATE_RETAKEN) return { code, available: rest[0] ?? 0 };
    if (code === HoldCode.SEATS_TAKEN) return { code, takenIndexes: rest };
    return { code, detail: rest[0] };
  }

  /** fence.lua: what became of a hold / purchase; tombstones an id that never happened. */
  async fence(
    eventId: string,
    zoneId: string,
    mode: FenceMode,
    ids: { holdId?: string; purchaseId?: string },
    tombstoneTtlSeconds: number,
  ): Promise<{ code: FenceCode; expiresAt: number }> {
    const k = this.keys(eventId, zoneId);
    // Both keys are always passed (same slot); the mode says which one counts.
    const holdKey = ids.holdId ? k.hold(ids.holdId) : k.meta;
    const purchaseKey = ids.purchaseId ? k.purchase(ids.purchaseId) : k.meta;
    if ((mode !== 'purchase' && !ids.holdId) || (mode !== 'hold' && !ids.purchaseId))
      throw new Error(`fence ${mode} needs ${mode === 'hold' ? 'a hold id' : 'a purchase id'}`);
    const [code, expiresAt] = (await this.redis.tpFence(holdKey, purchaseKey, mode, this.clock(), tombstoneTtlSeconds)) as [
      FenceCode,
      number,
    ];
    return { code, expiresAt };
  }

  async get(holdId: string): Promise<HoldRecord | undefined> {
    const where = parseHoldId(holdId);
    if (!where) return undefined;
    const h = await this.redis.hgetall(this.keys(where.eventId, where.zoneId).hold(holdId));
    if (!h.status) return undefined;
    const nums = (h.seats ?? '').split(',').filter(Boolean).map(Number);
    const seats: SeatPosition[] = [];
    for (let i = 0; i + 1 < nums.length; i += 2) seats.push({ offset: nums[i]!, rowIdx: nums[i + 1]! });
    return {
      holdId,
      status: h.status as HoldStatus,
      seats,
      buyer: h.buyer ?? '',
      createdAt: Number(h.createdAt ?? 0),
      expiresAt: Number(h.expiresAt ?? 0),
      maxUntil: Number(h.maxUntil ?? 0),
      info: h.info ?? '{}',
      ...(h.endedAt ? { endedAt: Number(h.endedAt) } : {}),
      ...(h.purchaseId ? { purchaseId: h.purchaseId } : {}),
    };
  }

  /** Held seats of a zone (offset -> holdId), to tell held from sold on the seat map. */
  async heldSeats(eventId: string, zoneId: string): Promise<Map<number, string>> {
    const all = await this.redis.hgetall(this.keys(eventId, zoneId).held);
    return new Map(Object.entries(all).map(([offset, holdId]) => [Number(offset), holdId]));
  }

  /**
   * The held seats as a bitmap in the zone bitmap's layout (bit = 1: held, most significant bit
   * first), for the seat map and a change stream: a seat taken in the zone bitmap but not here is sold.
   */
  async heldBits(eventId: string, zoneId: string, capacity: number): Promise<Buffer> {
    const bits = Buffer.alloc(Math.ceil(capacity / 8));
    for (const offset of (await this.heldSeats(eventId, zoneId)).keys()) {
      if (offset >= 0 && offset < capacity) bits[offset >> 3]! |= 0x80 >> (offset & 7);
    }
    return bits;
  }

  /**
   * Tells the sweeper the zone has a hold expiring at `expiresAt` (after hold.lua / best.lua):
   * ZADD LT keeps the earliest, and the version bump keeps a sweeper that read the zone before
   * this hold from dropping it from the index (settle-zone.lua).
   */
  async indexZone(eventId: string, zoneId: string, expiresAt: number): Promise<void> {
    const ix = holdIndexKeys(this.prefix);
    const member = indexMember(eventId, zoneId);
    await this.redis.multi().zadd(ix.due, 'LT', expiresAt, member).hincrby(ix.version, member, 1).exec();
  }

  /** Deletes a zone's hold records and index entries (load-test reset, with Inventory.deleteZone). */
  async deleteZoneHolds(eventId: string, zoneId: string): Promise<void> {
    const k = this.keys(eventId, zoneId);
    // One zone's keys share its hash tag, so each batch is one slot (one UNLINK on a cluster too).
    for await (const found of scanKeys(this.redis, k.hold('*'))) await this.redis.unlink(...found);
    await this.redis.unlink(k.held, k.heldUntil);
    const ix = holdIndexKeys(this.prefix);
    await this.redis.multi().zrem(ix.due, indexMember(eventId, zoneId)).hdel(ix.version, indexMember(eventId, zoneId)).exec();
  }
}

/** The row index of a bit offset (the layout is row-major). */
function rowOf(layout: ZoneLayout, offset: number): number {
  const seat = layout.seatAt(offset);
  return layout.locate(seat.row, seat.column)?.rowIdx ?? -1;
}
