import type { EventLog } from './event-log';

/** Per partition: the end of the log, the first record kept, and the group's committed offset (-1: none yet). */
export interface PartitionProgress {
  partition: number;
  end: number;
  low: number;
  committed: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The group's progress on a topic; an absent topic has no partitions (nothing to consume). */
export async function groupProgress(eventLog: EventLog, groupId: string, topic: string): Promise<PartitionProgress[]> {
  const ends = await eventLog.endOffsets(topic);
  if (ends.length === 0) return [];
  const committed = await eventLog.committedOffsets(groupId, topic);
  return ends.map((e) => ({ partition: e.partition, end: e.high, low: e.low, committed: committed.get(e.partition) ?? -1 }));
}

/** Messages a partition's group still has to commit. */
export const behind = (p: PartitionProgress) => Math.max(0, p.end - Math.max(p.committed, p.low));

/** Messages not yet committed by the group, summed over partitions. */
export async function consumerLag(eventLog: EventLog, groupId: string, topic: string): Promise<number> {
  return (await groupProgress(eventLog, groupId, topic)).reduce((s, p) => s + behind(p), 0);
}

/**
 * Waits until the group has committed everything the topic held when the wait began
 * (optionally only some partitions). Returns the messages still behind (0 = caught up).
 */
export async function waitUntilCaughtUp(
  eventLog: EventLog,
  groupId: string,
  topic: string,
  opts: { timeoutMs: number; partitions?: number[]; onProgress?: (behind: number) => void },
): Promise<number> {
  const target = new Map((await groupProgress(eventLog, groupId, topic)).map((p) => [p.partition, p.end]));
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const now = await groupProgress(eventLog, groupId, topic);
    const relevant = now.filter((p) => !opts.partitions || opts.partitions.includes(p.partition));
    const left = relevant.reduce((s, p) => s + Math.max(0, (target.get(p.partition) ?? 0) - Math.max(p.committed, p.low)), 0);
    opts.onProgress?.(left);
    if (left === 0 || Date.now() >= deadline) return left;
    await sleep(200);
  }
}

/** Messages the group still has to commit on the partition that records with this key go to (no topic: 0). */
export async function lagOfKey(eventLog: EventLog, groupId: string, topic: string, key: string): Promise<number> {
  const progress = await groupProgress(eventLog, groupId, topic);
  if (progress.length === 0) return 0; // no topic yet: nothing was ever written to it
  const p = eventLog.partitionOf(key, progress.length);
  return behind(progress.find((x) => x.partition === p) ?? { partition: p, end: 0, low: 0, committed: -1 });
}

/**
 * Like waitUntilCaughtUp, for the one partition that records with this key go to: returns the
 * messages still behind after at most `timeoutMs` (0 = caught up; at once when it already is).
 */
export async function waitUntilKeyCaughtUp(
  eventLog: EventLog,
  groupId: string,
  topic: string,
  key: string,
  timeoutMs: number,
): Promise<number> {
  const progress = await groupProgress(eventLog, groupId, topic);
  if (progress.length === 0) return 0;
  const partition = eventLog.partitionOf(key, progress.length);
  const now = progress.find((x) => x.partition === partition);
  if (!now || behind(now) === 0) return 0;
  return waitUntilCaughtUp(eventLog, groupId, topic, { timeoutMs, partitions: [partition] });
}
