import type { LogRecord } from '../stream/event-log';

/**
 * A reset fence (docs/performance.md, "Reset"): where the log of one event ended when a load
 * test reset it. Per partition, the event's records before `partitions[p]` belong to the sale
 * that was reset, and both consumers skip them (as duplicates), so a backlog still in Kafka can
 * never re-create the old sale after the reset. Records at or after the fence are new sales and
 * are stored as usual, in log order (the first record in the log still wins a seat).
 *
 * The fence is an offset, not a stamp in the records: the api's hot path and the record schema
 * stay as they are, and the fence needs no clock agreement.
 */
export interface ResetFence {
  eventId: string;
  /**
   * 1 for the first reset of the event, then +1 per reset (shown in logs and progress). It names
   * the DynamoDB tables the event's sales are in now (src/writer/tables.ts; 0 without a fence).
   */
  generation: number;
  /** partition → the first offset after the reset. Partitions the event never used are absent. */
  partitions: Record<number, number>;
  resetAt: string;
}

/** The event id a record's key names (`<eventId>:<zoneId>`, purchase/record.ts partitionKey). */
export function eventOfKey(key: string | null): string | undefined {
  if (!key) return undefined;
  const at = key.indexOf(':');
  return at > 0 ? key.slice(0, at) : undefined;
}

/** True when the record belongs to a sale an event reset cleared. */
export function isFenced(fence: ResetFence | undefined, partition: number, offset: number): boolean {
  const first = fence?.partitions[partition];
  return first !== undefined && offset < first;
}

/** True when the fences of `after` fence a record that `before` did not. */
export function fenceMoved(before: ResetFence | undefined, after: ResetFence | undefined): boolean {
  return (after?.generation ?? 0) !== (before?.generation ?? 0);
}

/** Splits a chunk into the records to handle and the number skipped by their event's fence. */
export function dropFenced(chunk: readonly LogRecord[], fences: ReadonlyMap<string, ResetFence>): { kept: LogRecord[]; skipped: number } {
  if (fences.size === 0) return { kept: [...chunk], skipped: 0 };
  const kept = chunk.filter((r) => {
    const eventId = eventOfKey(r.key);
    return !(eventId && isFenced(fences.get(eventId), r.partition, r.offset));
  });
  return { kept, skipped: chunk.length - kept.length };
}

/** The distinct event ids a chunk's keys name. */
export function eventsOf(chunk: readonly LogRecord[]): string[] {
  const ids = new Set<string>();
  for (const r of chunk) {
    const id = eventOfKey(r.key);
    if (id) ids.add(id);
  }
  return [...ids];
}
