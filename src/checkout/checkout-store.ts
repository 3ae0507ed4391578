import type { ScriptedRedis } from '../commands/scripts';
import type { RefundOutcome } from '../payment/payments';
import type { SeatRequest } from '../purchase/engine';

/**
 * The checkout's own records in Redis (docs/checkout.md, "Paying a hold"): one per purchase of a
 * hold, written before the charge, so the seats, the buyer and the payment of a purchase are
 * known even when the hold is gone (a late payment after a Redis loss of the hold, a webhook
 * hours later), and so `GET /api/v1/purchases/{id}` can tell PAYMENT_PENDING and REFUNDED, which
 * have no purchase record. Plus two indexes: the open checkouts (a payment taken whose sale is not
 * settled yet: the recovery pass finishes them) and each buyer's holds and purchases (`/me`).
 */

/**
 * charging -> declined | pending | paid; pending -> paid | failed; paid -> converted | refunded.
 * `declined` and `failed` may start charging again (another card for the same hold).
 */
export type CheckoutState = 'charging' | 'declined' | 'pending' | 'failed' | 'paid' | 'converted' | 'refunded';

export interface CheckoutRecord {
  purchaseId: string;
  holdId: string;
  eventId: string;
  zoneId: string;
  /** '' for an anonymous buyer (declared mode, nobody named). */
  buyer: string;
  seats: SeatRequest[];
  amountCents: number;
  currency: string;
  state: CheckoutState;
  provider?: string;
  paymentId?: string;
  /** Why it was refunded (ConvertOutcome's reason) and what the refund did. */
  reason?: string;
  detail?: string;
  refund?: RefundOutcome;
  /**
   * The replication id of the zone's Redis node when the checkout began. If the node's history
   * changed since (a restart, a failover), a refund first asks the stores whether the sale exists.
   */
  zoneReplid?: string;
  createdAt: number;
  updatedAt: number;
}

export type NewCheckout = Omit<CheckoutRecord, 'state' | 'createdAt' | 'updatedAt' | 'reason' | 'detail' | 'refund'>;
type Update = Partial<Pick<CheckoutRecord, 'provider' | 'paymentId' | 'reason' | 'detail' | 'refund'>>;

/** How many holds and purchases a buyer's `/me` index keeps (the newest). */
export const BUYER_INDEX_SIZE = 200;

export function checkoutKeys(prefix: string, purchaseId: string) {
  // One hash tag per purchase: the record and its lock move together on Redis Cluster.
  const base = `${prefix}checkout:{${purchaseId}}:`;
  return { record: `${base}record`, lock: `${base}lock` };
}

/** Sorted set `purchaseId -> when the recovery pass looks at it next` (ms). Its own slot. */
export const openCheckoutsKey = (prefix: string) => `${prefix}checkout:{open}`;

/** A buyer's `/me` indexes, on the buyer's own hash tag (URI-encoded, as the allowance key). */
export function buyerIndexKeys(prefix: string, buyer: string) {
  const base = `${prefix}me:{${encodeURIComponent(buyer)}}:`;
  return { holds: `${base}holds`, purchases: `${base}purchases` };
}

export class CheckoutStore {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
    /** How long records and indexes live (PURCHASE_RECORD_TTL_SECONDS, as the payment records). */
    private readonly ttlSeconds: number,
    readonly clock: () => number = Date.now,
  ) {}

  /**
   * Before a charge: the record in state `charging`, then the open index (due `dueAt`), then the
   * buyer's index. A crash in between leaves at worst a record nobody indexed: nothing was charged
   * yet, and the buyer's retry writes it again.
   */
  async begin(c: NewCheckout, dueAt: number): Promise<CheckoutRecord> {
    const now = this.clock();
    const previous = await this.get(c.purchaseId);
    const record: CheckoutRecord = { ...c, state: 'charging', createdAt: previous?.createdAt ?? now, updatedAt: now };
    const k = checkoutKeys(this.prefix, c.purchaseId).record;
    await this.redis
      .multi()
      // A new card after a decline starts afresh: the old reason and payment do not carry over.
      .hdel(k, 'reason', 'detail', 'refund', 'paymentId', 'provider', 'zoneReplid')
      .hset(k, serialise(record))
      .expire(k, this.ttlSeconds)
      .exec();
    await this.redis.zadd(openCheckoutsKey(this.prefix), dueAt, c.purchaseId);
    if (c.buyer) await this.index(buyerIndexKeys(this.prefix, c.buyer).purchases, c.purchaseId, record.createdAt);
    return record;
  }

  async get(purchaseId: string): Promise<CheckoutRecord | undefined> {
    const h = await this.redis.hgetall(checkoutKeys(this.prefix, purchaseId).record);
    if (!h.state || !h.holdId) return undefined;
    return {
      purchaseId,
      holdId: h.holdId,
      eventId: h.eventId ?? '',
      zoneId: h.zoneId ?? '',
      buyer: h.buyer ?? '',
      seats: JSON.parse(h.seats ?? '[]') as SeatRequest[],
      amountCents: Number(h.amountCents ?? 0),
      currency: h.currency ?? '',
      state: h.state as CheckoutState,
      ...(h.provider ? { provider: h.provider } : {}),
      ...(h.paymentId ? { paymentId: h.paymentId } : {}),
      ...(h.reason ? { reason: h.reason } : {}),
      ...(h.detail ? { detail: h.detail } : {}),
      ...(h.refund ? { refund: JSON.parse(h.refund) as RefundOutcome } : {}),
      ...(h.zoneReplid ? { zoneReplid: h.zoneReplid } : {}),
      createdAt: Number(h.createdAt ?? 0),
      updatedAt: Number(h.updatedAt ?? 0),
    };
  }

  /** Moves the record to `state` with the given fields (the caller knows the transition is allowed). */
  async update(purchaseId: string, state: CheckoutState, fields: Update = {}): Promise<void> {
    const k = checkoutKeys(this.prefix, purchaseId).record;
    const values: Record<string, string> = { state, updatedAt: String(this.clock()) };
    for (const [name, v] of Object.entries(fields)) if (v !== undefined) values[name] = typeof v === 'string' ? v : JSON.stringify(v);
    await this.redis.multi().hset(k, values).expire(k, this.ttlSeconds).exec();
  }

  /** The sale of this purchase is settled (or never will be by us): the recovery pass leaves it. */
  async close(purchaseId: string): Promise<void> {
    await this.redis.zrem(openCheckoutsKey(this.prefix), purchaseId);
  }

  /** Opens the checkout again (a webhook's payment succeeded): the recovery pass looks at it from `dueAt`. */
  async reopen(purchaseId: string, dueAt: number): Promise<void> {
    await this.redis.zadd(openCheckoutsKey(this.prefix), dueAt, purchaseId);
  }

  /** Claims up to `limit` open checkouts due now; each is due again after `claimMs` (claim.lua). */
  claimDue(claimMs: number, limit: number): Promise<string[]> {
    const now = this.clock();
    return this.redis.tpClaim(openCheckoutsKey(this.prefix), now, now + claimMs, limit);
  }

  /**
   * Serialises the payment of one hold: two requests paying it at once would otherwise charge two
   * cards. The lock ends by itself after `ms` if its holder died.
   */
  async lock(purchaseId: string, ms: number): Promise<boolean> {
    return (await this.redis.set(checkoutKeys(this.prefix, purchaseId).lock, '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(purchaseId: string): Promise<void> {
    await this.redis.del(checkoutKeys(this.prefix, purchaseId).lock);
  }

  /** After a hold is created: the buyer's `/me/holds` index. */
  indexHold(buyer: string, holdId: string, at: number): Promise<void> {
    return this.index(buyerIndexKeys(this.prefix, buyer).holds, holdId, at);
  }

  /** The buyer's newest hold ids, newest first. */
  holdsOf(buyer: string, limit = BUYER_INDEX_SIZE): Promise<string[]> {
    return this.redis.zrevrange(buyerIndexKeys(this.prefix, buyer).holds, 0, limit - 1);
  }

  /** A hold whose record is gone (a day after it ended) leaves the index. */
  async forgetHold(buyer: string, holdId: string): Promise<void> {
    await this.redis.zrem(buyerIndexKeys(this.prefix, buyer).holds, holdId);
  }

  /** The buyer's newest purchases of holds, newest first. */
  purchasesOf(buyer: string, limit = BUYER_INDEX_SIZE): Promise<string[]> {
    return this.redis.zrevrange(buyerIndexKeys(this.prefix, buyer).purchases, 0, limit - 1);
  }

  private async index(key: string, member: string, at: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(key, at, member)
      .zremrangebyrank(key, 0, -BUYER_INDEX_SIZE - 1)
      .expire(key, this.ttlSeconds)
      .exec();
  }
}

function serialise(r: CheckoutRecord): Record<string, string> {
  const out: Record<string, string> = {
    purchaseId: r.purchaseId,
    holdId: r.holdId,
    eventId: r.eventId,
    zoneId: r.zoneId,
    buyer: r.buyer,
    seats: JSON.stringify(r.seats),
    amountCents: String(r.amountCents),
    currency: r.currency,
    state: r.state,
    createdAt: String(r.createdAt),
    updatedAt: String(r.updatedAt),
  };
  if (r.provider) out.provider = r.provider;
  if (r.paymentId) out.paymentId = r.paymentId;
  if (r.zoneReplid) out.zoneReplid = r.zoneReplid;
  return out;
}
