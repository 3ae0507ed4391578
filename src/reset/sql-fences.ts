import type { SqlStatements } from '../shared/sql';
import type { ResetFence } from './fence';

/**
 * The read model's copy of the reset fences (migration 4). Every projector transaction reads
 * them under a shared lock on the one `reset_lock` row, and a reset takes that row exclusively
 * for its fence and its deletes: a projector transaction is either wholly before the reset
 * (its rows are deleted by it) or wholly after (it sees the fence and skips the old records).
 */
export async function readSqlFences(tx: SqlStatements, eventIds: string[]): Promise<Map<string, ResetFence>> {
  await tx.select('SELECT id FROM reset_lock WHERE id = 1 LOCK IN SHARE MODE');
  if (eventIds.length === 0) return new Map();
  const rows = await tx.select<{ event_id: string; fence: string }>(
    `SELECT event_id, fence FROM event_resets WHERE event_id IN (${eventIds.map(() => '?').join(',')})`,
    eventIds,
  );
  return new Map(rows.map((r) => [r.event_id, JSON.parse(r.fence) as ResetFence]));
}

/** Inside the reset's transaction: blocks projector transactions, then records the fence. */
export async function writeSqlFence(tx: SqlStatements, fence: ResetFence): Promise<void> {
  await tx.select('SELECT id FROM reset_lock WHERE id = 1 FOR UPDATE');
  await tx.run(
    'INSERT INTO event_resets (event_id, generation, fence) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE generation = VALUES(generation), fence = VALUES(fence)',
    [fence.eventId, fence.generation, JSON.stringify(fence)],
  );
}
