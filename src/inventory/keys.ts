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
  };
}

export const idempotencyKey = (prefix: string, scope: string, key: string) => `${prefix}idem:{${scope}}:${key}`;

/** Claimed by the one retry that runs afresh after the key's purchase sold nothing (see IdempotencyStore). */
export const idempotencyRetryKey = (prefix: string, scope: string, purchaseId: string) => `${prefix}idem-retry:{${scope}}:${purchaseId}`;
