/**
 * Redis key names of the catalog. They share the hash tag `{catalog}`, so the controller
 * writes an entry, the zones it closes and their statuses in one MULTI, also on Redis Cluster.
 */
export const catalogKeys = (prefix: string) => ({
  events: `${prefix}{catalog}:events`,
  venues: `${prefix}{catalog}:venues`,
  /** Zones no longer in the catalog whose inventory is kept (sales, pending purchases): `<eventId>/<zoneId>` → JSON. */
  closedZones: `${prefix}{catalog}:closed-zones`,
  /** What the controller last reported per event (file source): eventId → JSON status. */
  status: `${prefix}{catalog}:status`,
});
