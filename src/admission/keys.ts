/**
 * Redis keys of the waiting room (docs/admission.md). Every key of one event's queue carries the
 * hash tag `{q:<eventId>}`, so the queue scripts (src/commands/queue-*.lua), which take all eight,
 * run unchanged on Redis Cluster. Event ids match ^[A-Za-z0-9_-]{1,64}$: no brace can move the tag.
 */
export interface QueueKeys {
  buyers: string;
  entries: string;
  wait: string;
  active: string;
  holds: string;
  stats: string;
  recent: string;
  order: string;
}

export function queueKeys(prefix: string, eventId: string): QueueKeys {
  const base = `${prefix}queue:{q:${eventId}}:`;
  return {
    buyers: `${base}buyers`,
    entries: `${base}entries`,
    wait: `${base}wait`,
    active: `${base}active`,
    holds: `${base}holds`,
    stats: `${base}stats`,
    recent: `${base}recent`,
    order: `${base}order`,
  };
}

/** The eight keys in the order the scripts take them (queue-lib.lua's header). */
export const queueKeyList = (k: QueueKeys): string[] => [k.buyers, k.entries, k.wait, k.active, k.holds, k.stats, k.recent, k.order];

/**
 * The events whose waiting room has had a join: what the pump pumps. Its own hash tag (a set of
 * event ids, written beside each join, read by every api's pump).
 */
export const queueIndexKey = (prefix: string) => `${prefix}queue:{index}:events`;

/**
 * One token bucket: a route's limit for one buyer or one client address. A key of its own (the
 * script takes one key), so buckets spread over a cluster; the id is URI-encoded so a brace in a
 * buyer id cannot move the tag.
 */
export const rateBucketKey = (prefix: string, route: string, scope: 'buyer' | 'client', who: string) =>
  `${prefix}rl:{${scope}:${route}:${encodeURIComponent(who)}}`;

/** The platform-made secret of admission tokens when ADMISSION_TOKEN_SECRET is empty (shared by every replica). */
export const admissionSecretKey = (prefix: string) => `${prefix}admission:secret`;
