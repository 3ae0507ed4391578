/**
 * Redis key names. Every key of one zone carries the hash tag `{eventId:zoneId}` so the
 * scripts, which touch only one zone, run unchanged on Redis Cluster.
 */
export interface ZoneKeys {
  bits: string;
  counts: string;
  meta: string;
  pending: string;
  /** Sorted set of the zone's purchases being cancelled (cancel.lua → release-cancelled.lua). */
  cancelling: string;
  purchase(purchaseId: string): string;
  /** Hash: seat offset -> holdId, for held seats only (sparse; the bitmap says "taken"). */
  held: string;
  /** Sorted set: holdId -> expiresAt (ms) of the zone's HELD holds. */
  heldUntil: string;
  /** A hold's record. hold-lib.lua builds the same name as `held .. ':' .. holdId`. */
  hold(holdId: string): string;
}

export function zoneKeys(prefix: string, eventId: string, zoneId: string): ZoneKeys {
  const base = `${prefix}inv:{${eventId}:${zoneId}}:`;
  return {
    bits: `${base}bits`,
    counts: `${base}counts`,
    meta: `${base}meta`,
    pending: `${base}pending`,
    cancelling: `${base}cancelling`,
    purchase: (purchaseId) => `${base}p:${purchaseId}`,
    held: `${base}held`,
    heldUntil: `${base}held-until`,
    hold: (holdId) => `${base}held:${holdId}`,
  };
}

/**
 * The hold sweeper's index of zones with live holds (members `eventId.zoneId`). Its own hash
 * tag: it is written apart from the zones' scripts (docs/purchase-state-machine.md, "The hold
 * sweeper").
 */
export const holdIndexKeys = (prefix: string) => ({
  due: `${prefix}holds:{index}:due`,
  version: `${prefix}holds:{index}:version`,
});

/**
 * A buyer's allowance for one event (per-buyer limit). One key, so its hash tag only spreads
 * buyers over a cluster: the (event, buyer) pair, not the event alone, keeps a big on-sale from
 * putting every buyer of the event on one shard. The buyer id is URI-encoded so a `{` or `}` in it
 * cannot move the tag.
 */
export const allowanceKey = (prefix: string, eventId: string, buyer: string) =>
  `${prefix}buyer:{${eventId}:${encodeURIComponent(buyer)}}:allowance`;

/** SCAN pattern of every buyer's allowance for one event. */
export const allowanceKeyPattern = (prefix: string, eventId: string) => `${prefix}buyer:{${eventId}:*}:allowance`;

export const idempotencyKey = (prefix: string, scope: string, key: string) => `${prefix}idem:{${scope}}:${key}`;

/** Claimed by the one retry that runs afresh after the key's purchase sold nothing (see IdempotencyStore). */
export const idempotencyRetryKey = (prefix: string, scope: string, purchaseId: string) => `${prefix}idem-retry:{${scope}}:${purchaseId}`;
