import { dropFenced, eventOfKey, eventsOf, fenceMoved, isFenced, type ResetFence } from '../../src/reset/fence';
import type { LogRecord } from '../../src/stream/event-log';

const rec = (key: string | null, partition: number, offset: number): LogRecord => ({
  topic: 't',
  partition,
  offset,
  key,
  value: null,
  headers: {},
});
const fence = (eventId: string, generation: number, partitions: Record<number, number>): ResetFence => ({
  eventId,
  generation,
  partitions,
  resetAt: '2026-01-01T00:00:00.000Z',
});

test('a record is fenced only when its event was reset after it, on its own partition', () => {
  const f = fence('E1', 1, { 0: 10, 2: 5 });
  expect([isFenced(f, 0, 9), isFenced(f, 0, 10), isFenced(f, 2, 4), isFenced(f, 1, 0), isFenced(undefined, 0, 0)]).toEqual([
    true,
    false,
    true,
    false,
    false,
  ]);
});

test('dropFenced keeps other events, later records and keyless records, in log order', () => {
  const chunk = [rec('E1:1', 0, 8), rec('E2:1', 0, 9), rec('E1:2', 0, 10), rec(null, 0, 11), rec('E1:1', 0, 12)];
  const { kept, skipped } = dropFenced(chunk, new Map([['E1', fence('E1', 3, { 0: 11 })]]));
  expect(kept.map((r) => r.offset)).toEqual([9, 11, 12]);
  expect(skipped).toBe(2);
  expect(eventsOf(chunk).sort()).toEqual(['E1', 'E2']);
  expect([eventOfKey('Ev_1:z'), eventOfKey(':z'), eventOfKey(null)]).toEqual(['Ev_1', undefined, undefined]);
});

test('a fence moved when its generation changed', () => {
  expect(fenceMoved(undefined, fence('E1', 1, {}))).toBe(true);
  expect(fenceMoved(fence('E1', 1, {}), fence('E1', 1, {}))).toBe(false);
  expect(fenceMoved(fence('E1', 1, {}), fence('E1', 2, {}))).toBe(true);
  expect(fenceMoved(undefined, undefined)).toBe(false);
});
