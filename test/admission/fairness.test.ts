import { AdmissionQueue } from '../../src/admission/queue';
import type { QueueSettings } from '../../src/admission/settings';
import { uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/**
 * Fairness of the waiting room's scripts on the real Redis (docs/admission.md, "Fairness"), with
 * the queue's clock in the test's hands: after the opening, admission order is join order (joins
 * racing each other included); everyone who joined in the pre-queue gets a uniformly random place
 * at the opening, ahead of everyone who joined after it.
 */
const redis = testRedis();
const prefix = `tp:${uid('fair')}:`;
let now = Date.parse('2030-01-01T00:00:00Z');
const queue = new AdmissionQueue(redis, prefix, 3600_000, () => now);

afterAll(async () => {
  await dropKeyPrefix(redis, prefix);
  await redis.quit();
});

const settings = (eventId: string, activeBuyers: number, opensAt = 0): QueueSettings => ({
  eventId,
  activeBuyers,
  sessionMs: 600_000,
  opensAt,
  joinsFrom: 0,
});

/** Admits everyone: ends every active session and pumps, until nobody waits. Returns the admission order (queueIds). */
async function drain(s: QueueSettings): Promise<string[]> {
  for (let round = 0; round < 10_000; round++) {
    const r = await queue.pump(s);
    if (r.waiting === 0) break;
    const active = await redis.zrange(queue.keys(s.eventId).active, '0', '-1');
    for (const qid of active) await queue.end(s, qid, '', 'purchased');
  }
  return queue.admissionOrder(s.eventId);
}

/** Spearman's rank correlation of two rankings of the same n items (no ties). */
function spearman(a: number[], b: number[]): number {
  const n = a.length;
  const d2 = a.reduce((sum, x, i) => sum + (x - b[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

test('after the opening: 300 racing joins are admitted exactly in join order, 7 at a time, each once', async () => {
  const s = settings(uid('Fifo'), 7);
  const joins = await Promise.all(Array.from({ length: 300 }, (_, i) => queue.join(s, `b${i}`)));
  const bySeq = new Map<string, number>();
  for (const j of joins) bySeq.set(j.visit.queueId, Number(j.visit.queueId.split('-')[0]));
  const order = await drain(s);
  expect(order.length).toBe(300);
  expect(new Set(order).size).toBe(300);
  const seqs = order.map((q) => bySeq.get(q)!);
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  expect(seqs[0]).toBe(1);
});

test('joining again keeps the same place while waiting and while admitted', async () => {
  const s = settings(uid('Same'), 1);
  const first = await queue.join(s, 'ann');
  const bob = await queue.join(s, 'bob');
  expect(first.visit.state).toBe('ADMITTED');
  expect(bob.visit).toMatchObject({ state: 'WAITING', position: 1 });
  expect((await queue.join(s, 'ann')).visit).toMatchObject({ queueId: first.visit.queueId, state: 'ADMITTED' });
  expect((await queue.join(s, 'bob')).visit).toMatchObject({ queueId: bob.visit.queueId, state: 'WAITING', position: 1 });
  expect((await queue.join(s, 'bob')).joined).toBe(false);
});

test('the pre-queue: 200 joins before the opening get a random order at it (Spearman |rho| < 0.5 against join order), then FIFO', async () => {
  const opening = now + 60_000;
  const s = settings(uid('Pre'), 1000, opening);
  const preIds: string[] = [];
  for (let i = 0; i < 200; i++) {
    now += 10; // one join every 10 ms, well before the opening
    const j = await queue.join(s, `pre${i}`);
    expect(j.visit).toMatchObject({ state: 'WAITING', prequeue: true });
    preIds.push(j.visit.queueId);
  }
  // Nobody is admitted before the opening, whatever the room.
  expect((await queue.pump(s)).admitted).toEqual([]);
  now = opening;
  const late = await Promise.all(Array.from({ length: 20 }, (_, i) => queue.join(s, `late${i}`)));
  const order = await drain(s);
  expect(order.length).toBe(220);
  expect(new Set(order).size).toBe(220);
  // Every pre-queue join before every join after the opening, and those in their join order.
  expect(new Set(order.slice(0, 200))).toEqual(new Set(preIds));
  const lateSeqs = order.slice(200).map((q) => Number(q.split('-')[0]));
  expect(lateSeqs).toEqual([...lateSeqs].sort((x, y) => x - y));
  expect(new Set(order.slice(200))).toEqual(new Set(late.map((l) => l.visit.queueId)));
  // A random permutation of 200 has rho ~ N(0, 1/sqrt(199) = 0.071): |rho| >= 0.5 is a 7-sigma event
  // (p < 1e-11), so this cannot flake, while join order (rho = 1) or its reverse (-1) fail it.
  const joinRank = new Map(preIds.map((q, i) => [q, i]));
  const rho = spearman(
    order.slice(0, 200).map((q) => joinRank.get(q)!),
    order.slice(0, 200).map((_, i) => i),
  );
  expect(Math.abs(rho)).toBeLessThan(0.5);
  // And it is a permutation, not join order with a few swaps: most places moved.
  const moved = order.slice(0, 200).filter((q, i) => joinRank.get(q) !== i).length;
  expect(moved).toBeGreaterThan(150);
});

test('at most activeBuyers sessions, ever: the cap holds through joins, ends and timeouts', async () => {
  const s = { ...settings(uid('Cap'), 4), sessionMs: 1000 };
  for (let i = 0; i < 40; i++) await queue.join(s, `c${i}`);
  for (let step = 0; step < 60; step++) {
    now += 250;
    const r = await queue.pump(s);
    expect(r.active).toBeLessThanOrEqual(4);
    expect(await redis.zcard(queue.keys(s.eventId).active)).toBeLessThanOrEqual(4);
  }
  const order = await queue.admissionOrder(s.eventId);
  expect(order.length).toBe(40);
  expect(new Set(order).size).toBe(40);
});
