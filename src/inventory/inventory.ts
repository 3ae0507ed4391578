import type { ZoneDef } from '../catalog/model';
import { zoneKeys, type ZoneKeys } from './keys';
import { ZoneLayout } from './layout';
import { InitZoneCode, ReserveCode, type ScriptedRedis } from '../commands/scripts';
import { scanKeys } from '../shared/redis';

export interface SeatPosition {
  offset: number;
  rowIdx: number;
}

export type ReserveResult =
  /** `held`: when no seat is left, how many are held (they may come back). */
  | { code: ReserveCode.OK; available: number; held?: number }
  /** `heldIndexes`: those of takenIndexes a live hold has (free again after its release or expiry). */
  | { code: ReserveCode.SEATS_TAKEN; takenIndexes: number[]; heldIndexes?: number[] }
  | { code: Exclude<ReserveCode, ReserveCode.OK | ReserveCode.SEATS_TAKEN>; detail?: number };

export interface PurchaseRecord {
  /**
   * `voided` only on records an older version released; purchases are no longer voided.
   * `fenced`: a fence (fence.lua) on an id that never reserved; its body is ''.
   */
  status: 'reserved' | 'confirmed' | 'voided' | 'fenced';
  body: string;
  reservedAt: number;
  confirmedAt?: number;
  voidedAt?: number;
  /** Set by cancel.lua (`cancelling`) and release-cancelled.lua (`cancelled`: the seats are on sale again). */
  cancel?: 'cancelling' | 'cancelled';
}

export interface ZoneState {
  capacity: number;
  available: number;
  rowAvailable: number[];
  /** The raw bitmap, row-major, most significant bit first (Redis bit order). */
  bits: Buffer;
}

const flat = (seats: SeatPosition[]) => seats.flatMap((s) => [s.offset, s.rowIdx]);

/**
 * The seat inventory in Redis: every change goes through one of the Lua scripts, so the
 * bitmap and the counters always move together.
 */
export class Inventory {
  constructor(
    readonly redis: ScriptedRedis,
    readonly prefix: string,
    /** How long a confirmed purchase record stays in Redis (the stores keep tickets). */
    readonly recordTtlSeconds = 7 * 24 * 3600,
  ) {}

  keys(eventId: string, zoneId: string): ZoneKeys {
    return zoneKeys(this.prefix, eventId, zoneId);
  }

  async reserve(
    eventId: string,
    zoneId: string,
    layout: ZoneLayout,
    purchaseId: string,
    seats: SeatPosition[],
    body: string,
  ): Promise<ReserveResult> {
    const k = this.keys(eventId, zoneId);
    const reply = await this.redis.tpReserve(
      k.bits,
      k.counts,
      k.meta,
      k.pending,
      k.purchase(purchaseId),
      k.held,
      k.heldUntil,
      layout.hash,
      purchaseId,
      Date.now(),
      body,
      ...flat(seats),
    );
    const [code, ...rest] = reply as [ReserveCode, ...number[]];
    if (code === ReserveCode.OK) return rest[1] ? { code, available: rest[0] ?? 0, held: rest[1] } : { code, available: rest[0] ?? 0 };
    if (code === ReserveCode.SEATS_TAKEN) {
      const heldIndexes = rest.filter((i) => i < 0).map((i) => -i);
      return heldIndexes.length > 0 ? { code, takenIndexes: rest.map(Math.abs), heldIndexes } : { code, takenIndexes: rest };
    }
    return { code, detail: rest[0] };
  }

  confirm(eventId: string, zoneId: string, purchaseId: string): Promise<number> {
    const k = this.keys(eventId, zoneId);
    return this.redis.tpConfirm(k.pending, k.purchase(purchaseId), purchaseId, Date.now(), this.recordTtlSeconds);
  }

  claimStale(eventId: string, zoneId: string, olderThanMs: number, limit: number): Promise<string[]> {
    const now = Date.now();
    return this.redis.tpClaim(this.keys(eventId, zoneId).pending, now - olderThanMs, now, limit);
  }

  pendingCount(eventId: string, zoneId: string): Promise<number> {
    return this.redis.zcard(this.keys(eventId, zoneId).pending);
  }

  async getPurchase(eventId: string, zoneId: string, purchaseId: string): Promise<PurchaseRecord | undefined> {
    const h = await this.redis.hgetall(this.keys(eventId, zoneId).purchase(purchaseId));
    if (!h.status || (!h.body && h.status !== 'fenced')) return undefined;
    return {
      status: h.status as PurchaseRecord['status'],
      body: h.body ?? '',
      reservedAt: Number(h.reservedAt),
      ...(h.confirmedAt ? { confirmedAt: Number(h.confirmedAt) } : {}),
      ...(h.voidedAt ? { voidedAt: Number(h.voidedAt) } : {}),
      ...(h.cancel === 'cancelling' || h.cancel === 'cancelled' ? { cancel: h.cancel } : {}),
    };
  }

  /** Creates the zone inventory when absent; never resets a zone that exists (see init-zone.lua). */
  async initZone(eventId: string, zone: ZoneDef): Promise<{ code: InitZoneCode; sold: number }> {
    const k = this.keys(eventId, zone.zoneId);
    const layout = ZoneLayout.of(zone);
    const [code, sold] = (await this.redis.tpInitZone(
      k.bits,
      k.counts,
      k.meta,
      k.held,
      k.heldUntil,
      layout.hash,
      layout.capacity,
      ...zone.seatCounts,
    )) as [InitZoneCode, number];
    return { code, sold };
  }

  /** Rebuilds a lost zone from the sold seats the write model holds; refuses a zone that exists. */
  async restoreZone(eventId: string, zone: ZoneDef, sold: SeatPosition[]): Promise<{ restored: boolean; sold: number }> {
    const k = this.keys(eventId, zone.zoneId);
    const layout = ZoneLayout.of(zone);
    // Bitmap and counters are computed here so the call has one argument per row, not per seat.
    const bits = Buffer.alloc(Math.ceil(layout.capacity / 8));
    const rowFree = [...zone.seatCounts];
    for (const { offset, rowIdx } of sold) {
      const mask = 0x80 >> (offset & 7);
      if ((bits[offset >> 3]! & mask) !== 0) continue;
      bits[offset >> 3]! |= mask;
      rowFree[rowIdx]! -= 1;
    }
    const free = rowFree.reduce((a, b) => a + b, 0);
    const [code, count] = (await this.redis.tpRestoreZone(
      k.bits,
      k.counts,
      k.meta,
      k.held,
      k.heldUntil,
      layout.hash,
      layout.capacity,
      bits,
      free,
      ...rowFree,
    )) as [number, number];
    if (code === 2)
      throw new Error(`restore of ${eventId}/${zone.zoneId} refused: bitmap and counters disagree (a seat outside the layout?)`);
    return { restored: code === 0, sold: count };
  }

  /**
   * Marks seats taken that the write model holds as sold but Redis shows free (lost writes);
   * only ever takes seats, in chunks so a call's argument list stays small. Returns how many.
   */
  async markSold(eventId: string, zone: ZoneDef, seats: SeatPosition[]): Promise<number> {
    const k = this.keys(eventId, zone.zoneId);
    const layout = ZoneLayout.of(zone);
    let marked = 0;
    for (let i = 0; i < seats.length; i += 1000) {
      const [code, n] = await this.redis.tpMarkSold(k.bits, k.counts, k.meta, k.held, layout.hash, ...flat(seats.slice(i, i + 1000)));
      if (code !== 0)
        throw new Error(
          `cannot mark seats of ${eventId}/${zone.zoneId}: ${code === 4 ? 'no inventory (rebuild it)' : 'the layout changed'}`,
        );
      marked += n ?? 0;
    }
    return marked;
  }

  /**
   * Fences a zone that leaves the catalog (close-zone.lua): reserve.lua refuses it from now on,
   * while purchases reserved before still settle. Returns false when the zone has no inventory.
   */
  async closeZone(eventId: string, zoneId: string): Promise<boolean> {
    return (await this.redis.tpCloseZone(this.keys(eventId, zoneId).meta, Date.now())) === 1;
  }

  async zoneExists(eventId: string, zoneId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys(eventId, zoneId).meta)) === 1;
  }

  /** One consistent read of a zone (MULTI), or undefined when the zone has no inventory. */
  async zoneState(eventId: string, zoneId: string): Promise<ZoneState | undefined> {
    const k = this.keys(eventId, zoneId);
    const res = await this.redis.multi().hget(k.meta, 'capacity').hget(k.meta, 'rows').getBuffer(k.bits).getBuffer(k.counts).exec();
    if (!res) return undefined;
    const [cap, rows, bits, counts] = res.map(([err, v]) => {
      if (err) throw err;
      return v;
    }) as [string | null, string | null, Buffer | null, Buffer | null];
    if (cap === null || rows === null || !counts) return undefined;
    const capacity = Number(cap);
    const rowAvailable = Array.from({ length: Number(rows) }, (_, r) => counts.readUInt16BE(4 + 2 * r));
    return { capacity, available: counts.readUInt32BE(0), rowAvailable, bits: bits ?? Buffer.alloc(0) };
  }

  /** Deletes a zone's inventory and purchase records (load-test reset; admin only). */
  async deleteZone(eventId: string, zoneId: string): Promise<void> {
    const k = this.keys(eventId, zoneId);
    // Purchase and hold records: found by pattern, deleted in bounded chunks (a zone may hold
    // many). They share the zone's hash tag, so each chunk is one slot.
    for (const pattern of [k.purchase('*'), k.hold('*')]) {
      for await (const found of scanKeys(this.redis, pattern)) await this.redis.unlink(...found);
    }
    await this.redis.unlink(k.bits, k.counts, k.meta, k.pending, k.held, k.heldUntil, k.cancelling);
  }
}

/** Whether a seat (bit offset) is taken in a bitmap read from Redis. */
export function isTaken(bits: Buffer, offset: number): boolean {
  const byte = bits[offset >> 3] ?? 0;
  return (byte & (0x80 >> (offset & 7))) !== 0;
}
