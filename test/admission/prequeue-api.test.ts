import { seedTestEvent } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';
import { queueClient, queuedEntry, seat } from './support';

/**
 * The pre-queue through HTTP and the pump's clock: before prequeueOpensAt a join is 409
 * QUEUE_NOT_OPEN; between it and the sales opening joins wait (prequeue: true, opensAt) and
 * nobody is admitted; within a second of the opening the pump admits activeBuyers of them.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const cleanups: (() => Promise<void>)[] = [];
const later = uid('PreL');
const soon = uid('PreS');
let opensAt: number;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], { ADMISSION_PUMP_INTERVAL_MS: '100' });
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  const inAnHour = new Date(Date.now() + 3600_000).toISOString();
  cleanups.push(
    await seedTestEvent(
      redis,
      prefix,
      queuedEntry({ eventId: later, salesOpensAt: new Date(Date.now() + 7200_000).toISOString() }, { prequeueOpensAt: inAnHour }),
    ),
  );
  // Far enough ahead for the joins below to happen before it.
  opensAt = Date.now() + 5000;
  cleanups.push(
    await seedTestEvent(
      redis,
      prefix,
      queuedEntry(
        { eventId: soon, salesOpensAt: new Date(opensAt).toISOString() },
        { activeBuyers: 3, prequeueOpensAt: new Date(Date.now() - 60_000).toISOString() },
      ),
    ),
  );
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

test('before prequeueOpensAt: 409 QUEUE_NOT_OPEN with the time it opens', async () => {
  const r = await queueClient(platform.url, later).join('early-bird');
  expect(r).toMatchObject({ status: 409, body: { code: 'QUEUE_NOT_OPEN', opensAt: expect.any(String) } });
});

test('in the pre-queue: WAITING with prequeue and opensAt, nobody admitted, no holds; at the opening 3 are admitted within a second', async () => {
  const q = queueClient(platform.url, soon);
  const places = new Map<string, string>();
  for (let i = 0; i < 6; i++) {
    const r = await q.join(`pre-${i}`);
    expect(r).toMatchObject({ status: 202, body: { status: 'WAITING', prequeue: true, opensAt: new Date(opensAt).toISOString() } });
    expect(r.body.estimatedWaitSeconds).toBeGreaterThanOrEqual(Math.floor((opensAt - Date.now()) / 1000) - 1);
    places.set(`pre-${i}`, r.body.queueId);
  }
  expect(await q.hold('pre-0', seat('A', 1))).toMatchObject({ status: 403, body: { code: 'ADMISSION_REQUIRED' } });
  const states = async () => Promise.all([...places].map(async ([user, id]) => (await q.status(user, id)).body.status as string));
  expect((await states()).filter((s) => s === 'ADMITTED')).toEqual([]);
  await waitFor(async () => (await states()).filter((s) => s === 'ADMITTED').length === 3, 'three admissions at the opening', 10_000, 20);
  expect(Date.now() - opensAt).toBeLessThan(1000);
  const final = await states();
  expect(final.filter((s) => s === 'WAITING').length).toBe(3);
});
