import { randomToken } from '../shared/random';
import { allowanceKey, allowanceKeyPattern } from './keys';
import type { FenceMode, Holds } from './holds';
import { AllowanceCode, FenceCode, type ScriptedRedis } from '../commands/scripts';
import { scanKeys, unlinkEach } from '../shared/redis';

/**
 * The per-buyer limit across requests and zones (docs/purchase-state-machine.md, "Per-buyer
 * limit"). A buyer's allowance for an event is one hash in its own slot; a hold or purchase takes
 * three steps around the zone's script: acquire (provisional entry), the zone step, settle
 * (firm, or dropped when the zone refused). A crash in between leaves a provisional entry that
 * keeps counting until it is resolved through fence.lua once its lease has ended, so the limit
 * is never exceeded and the allowance comes back on its own.
 */

export type AllowanceKind = 'hold' | 'purchase' | 'convert';

export interface AllowanceClaim {
  eventId: string;
  buyer: string;
  /** The hold id (hold, convert) or the purchase id (direct purchase). */
  entryId: string;
  seats: number;
  /** The event's perUserLimit. */
  limit: number;
  kind: AllowanceKind;
  zoneId: string;
  holdId?: string;
  purchaseId?: string;
}

/** The buyer may go on: settle the entry with this ticket after the zone step. */
export interface AllowanceTicket {
  claim: AllowanceClaim;
  token: string;
  /** Seats still allowed after this claim. */
  left: number;
}

export type AcquireResult =
  | { ok: true; ticket: AllowanceTicket }
  | { ok: false; code: AllowanceCode.BUYER_LIMIT_REACHED; left: number }
  | { ok: false; code: AllowanceCode.BUSY };

/** What the zone step did, for step 3. */
export type ZoneOutcome = { firm: 'hold'; expiresAt: number } | { firm: 'purchase'; purchaseId: string } | { firm: 'none' };

export interface AllowanceEntry {
  id: string;
  seats: number;
  state: 'provisional' | 'hold' | 'bought';
  /** Lease end (provisional) or hold expiry + grace (hold); 0 for bought. */
  until: number;
  kind: AllowanceKind;
  zoneId: string;
  holdId?: string;
  purchaseId?: string;
}

interface RawEntry {
  n: number;
  s: 'p' | 'h' | 'b';
  u: number;
  k: AllowanceKind;
  z: string;
  h?: string;
  p?: string;
  t?: string;
}

export interface AllowanceOptions {
  /** How long a provisional entry is left alone before it may be resolved (30 s). */
  leaseMs?: number;
  /** A hold's entry outlives the hold by this much, so clock skew between slots errs on counting (2 s). */
  graceMs?: number;
  /** How long fence.lua keeps a tombstone (a day: longer than any request can be stuck in a queue). */
  tombstoneTtlSeconds?: number;
}

/** Buyers without an id skip the allowance and keep the per-request limit. */
export const ANONYMOUS_BUYER = 'anonymous';
export const isDeclaredBuyer = (buyer: string | undefined): buyer is string => !!buyer && buyer !== ANONYMOUS_BUYER;

export class BuyerAllowance {
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly tombstoneTtlSeconds: number;

  constructor(
    readonly redis: ScriptedRedis,
    readonly prefix: string,
    private readonly holds: Holds,
    opts: AllowanceOptions = {},
    readonly clock: () => number = holds.clock,
  ) {
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.graceMs = opts.graceMs ?? 2_000;
    this.tombstoneTtlSeconds = opts.tombstoneTtlSeconds ?? 86_400;
  }

  key(eventId: string, buyer: string): string {
    return allowanceKey(this.prefix, eventId, buyer);
  }

  /**
   * Step 1. Over the limit with provisional entries whose lease ended, it resolves them
   * (fence.lua in their zones) and tries once more.
   */
  async acquire(claim: AllowanceClaim): Promise<AcquireResult> {
    const token = randomToken(9);
    for (let attempt = 0; ; attempt++) {
      const now = this.clock();
      const reply = await this.redis.tpAllowanceAcquire(
        this.key(claim.eventId, claim.buyer),
        claim.entryId,
        claim.seats,
        claim.limit,
        now,
        now + this.leaseMs,
        token,
        claim.kind,
        claim.zoneId,
        claim.holdId ?? '',
        claim.purchaseId ?? '',
      );
      const [code, left, ...lapsed] = reply as [AllowanceCode, number?, ...string[]];
      if (code === AllowanceCode.OK) return { ok: true, ticket: { claim, token, left: Number(left) } };
      if (code === AllowanceCode.BUSY) return { ok: false, code };
      if (lapsed.length === 0 || attempt > 0) return { ok: false, code: AllowanceCode.BUYER_LIMIT_REACHED, left: Number(left) };
      await Promise.all(lapsed.map((id) => this.resolve(claim.eventId, claim.buyer, String(id))));
    }
  }

  /** Step 3: make the entry firm, or drop it when the zone refused. False: already settled elsewhere. */
  async settle(ticket: AllowanceTicket, outcome: ZoneOutcome): Promise<boolean> {
    const { claim, token } = ticket;
    const key = this.key(claim.eventId, claim.buyer);
    const now = this.clock();
    const code =
      outcome.firm === 'hold'
        ? await this.redis.tpAllowanceSettle(key, claim.entryId, 'hold', token, now, outcome.expiresAt + this.graceMs, '')
        : outcome.firm === 'purchase'
          ? await this.redis.tpAllowanceSettle(key, claim.entryId, 'purchase', token, now, 0, outcome.purchaseId)
          : await this.redis.tpAllowanceSettle(key, claim.entryId, 'drop', token, now, 0, '');
    return code === AllowanceCode.OK;
  }

  /**
   * The three steps around a zone step. `zoneStep` throwing (outcome unknown) skips step 3: the
   * provisional entry keeps counting until it is resolved.
   */
  async around<T>(
    claim: AllowanceClaim,
    zoneStep: () => Promise<T>,
    outcomeOf: (result: T) => ZoneOutcome,
  ): Promise<{ ok: true; value: T; left: number } | Exclude<AcquireResult, { ok: true }>> {
    const acquired = await this.acquire(claim);
    if (!acquired.ok) return acquired;
    const value = await zoneStep();
    await this.settle(acquired.ticket, outcomeOf(value));
    return { ok: true, value, left: acquired.ticket.left };
  }

  /** After a release, an expiry or a cancellation: the entry of that hold / purchase stops counting. */
  async release(eventId: string, buyer: string, entryId: string): Promise<void> {
    await this.redis.tpAllowanceSettle(this.key(eventId, buyer), entryId, 'release', '', this.clock(), 0, '');
  }

  /**
   * After a cancellation is CANCELLED (release-cancelled.lua freed its seats): the purchase's
   * entry stops counting, whether it is firm or still provisional (its zone step happened: the
   * purchase was confirmed). Idempotent: a repeat, or an entry already gone, changes nothing.
   */
  async cancel(eventId: string, buyer: string, purchaseId: string): Promise<void> {
    await this.redis.tpAllowanceSettle(this.key(eventId, buyer), purchaseId, 'cancel', '', this.clock(), 0, purchaseId);
  }

  /** Before extend.lua: the hold's entry counts at least until the new expiry (+ grace). */
  async extend(eventId: string, buyer: string, holdId: string, expiresAt: number): Promise<void> {
    await this.redis.tpAllowanceSettle(this.key(eventId, buyer), holdId, 'extend', '', this.clock(), expiresAt + this.graceMs, '');
  }

  /**
   * Resolves one provisional entry whose lease ended: fence.lua says what became of its hold or
   * purchase (tombstoning it if it never happened), then the entry is made firm or dropped (also
   * when its purchase was cancelled since: its seats count for nobody).
   * Returns the entry's new state, or undefined when it was not a lapsed provisional entry.
   */
  async resolve(eventId: string, buyer: string, entryId: string): Promise<AllowanceEntry['state'] | 'dropped' | undefined> {
    const key = this.key(eventId, buyer);
    const raw = await this.redis.hget(key, entryId);
    if (!raw) return undefined;
    const e = JSON.parse(raw) as RawEntry;
    if (e.s !== 'p' || e.u > this.clock()) return undefined;
    const mode: FenceMode = e.k;
    const fenced = await this.holds.fence(
      eventId,
      e.z,
      mode,
      { ...(e.h ? { holdId: e.h } : {}), ...(e.p ? { purchaseId: e.p } : {}) },
      this.tombstoneTtlSeconds,
    );
    const ticket: AllowanceTicket = {
      claim: { eventId, buyer, entryId, seats: e.n, limit: 0, kind: e.k, zoneId: e.z },
      token: e.t ?? '',
      left: 0,
    };
    if (fenced.code === FenceCode.HELD) {
      await this.settle(ticket, { firm: 'hold', expiresAt: fenced.expiresAt });
      return 'hold';
    }
    if (fenced.code === FenceCode.PURCHASED) {
      await this.settle(ticket, { firm: 'purchase', purchaseId: e.p || entryId });
      return 'bought';
    }
    await this.settle(ticket, { firm: 'none' });
    return 'dropped';
  }

  /** The buyer's entries for the event (a hold entry whose `until` passed no longer counts). */
  async entries(eventId: string, buyer: string): Promise<AllowanceEntry[]> {
    const all = await this.redis.hgetall(this.key(eventId, buyer));
    return Object.entries(all).map(([id, raw]) => {
      const e = JSON.parse(raw) as RawEntry;
      return {
        id,
        seats: e.n,
        state: e.s === 'p' ? 'provisional' : e.s === 'h' ? 'hold' : 'bought',
        until: e.u,
        kind: e.k,
        zoneId: e.z,
        ...(e.h ? { holdId: e.h } : {}),
        ...(e.p ? { purchaseId: e.p } : {}),
      };
    });
  }

  /** Seats the buyer's entries count now (what allowance-acquire.lua counts). */
  async used(eventId: string, buyer: string): Promise<number> {
    const now = this.clock();
    return (await this.entries(eventId, buyer)).filter((e) => e.state !== 'hold' || e.until > now).reduce((sum, e) => sum + e.seats, 0);
  }
}

/**
 * Deletes every buyer's allowance for an event (the admin reset, the load lab's clean-up): they
 * count sales that the reset deleted. One SCAN over the pattern, as the zone reset deletes its
 * purchase records; event ids have no glob characters (ID_PATTERN).
 */
export async function deleteEventAllowances(redis: ScriptedRedis, prefix: string, eventId: string): Promise<number> {
  // Each buyer's allowance has its own hash tag: on a cluster the keys span slots and masters.
  let deleted = 0;
  for await (const found of scanKeys(redis, allowanceKeyPattern(prefix, eventId))) {
    await unlinkEach(redis, found);
    deleted += found.length;
  }
  return deleted;
}
