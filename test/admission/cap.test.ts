import { queueKeys } from '../../src/admission/keys';
import type { StoredEntry } from '../../src/admission/queue';
import { seedTestEvent } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';
import { queueClient, queuedEntry } from './support';

/**
 * The admission cap under 1,000 concurrent buyers through HTTP (one api, the real services):
 * everyone joins at once, polls their place, and buys one seat with their token once admitted.
 * A sampler reads the queue in Redis all along: never more than activeBuyers live sessions, and in
 * the end everyone bought once and was admitted exactly once.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;
const eventId = uid('Cap');
const ACTIVE = 100;
const BUYERS = 1000;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], { ADMISSION_PUMP_INTERVAL_MS: '100' });
  const rows = Array.from({ length: 20 }, (_, i) => `R${i + 1}`);
  const entry = queuedEntry({ eventId, zones: [{ zoneId: '1', rows, seatCounts: rows.map(() => 60) }] }, { activeBuyers: ACTIVE });
  cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
});

afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

test(`${BUYERS} buyers at once, activeBuyers ${ACTIVE}: never more than ${ACTIVE} admitted at a time, everyone admitted once and buys`, async () => {
  const q = queueClient(platform.url, eventId);
  const k = queueKeys(platform.cfg.REDIS_KEY_PREFIX, eventId);
  const redis = platform.ctx.redis;
  let sampling = true;
  let samples = 0;
  let maxActive = 0;
  let maxAdmittedEntries = 0;
  const sampler = (async () => {
    while (sampling) {
      const [active, entries] = await Promise.all([redis.zcard(k.active), redis.hvals(k.entries)]);
      const admitted = entries.filter((e) => (JSON.parse(e) as StoredEntry).s === 'a').length;
      maxActive = Math.max(maxActive, active);
      maxAdmittedEntries = Math.max(maxAdmittedEntries, admitted);
      samples++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const bought: string[] = [];
  const buyer = async (i: number) => {
    const user = `cap-${i}`;
    const joined = await q.join(user);
    if (joined.status !== 202) throw new Error(`${user} join: ${joined.status} ${JSON.stringify(joined.body)}`);
    const admitted = await waitFor(
      async () => {
        const r = await q.status(user, joined.body.queueId);
        if (r.body.status === 'ADMITTED') return r.body as { admissionToken: string };
        // Waiting buyers poll about every 0.5 s, as the page does (every 1 s) but quicker.
        await new Promise((res) => setTimeout(res, 300 + Math.random() * 400));
        return undefined;
      },
      `${user} to be admitted`,
      120_000,
      0,
    );
    // A buyer takes a moment to choose (think time, not synchronisation): without it a fast
    // machine buys faster than the pump admits, and the cap is never under pressure.
    await new Promise((res) => setTimeout(res, 300 + Math.random() * 500));
    const seat = [{ row: `R${Math.floor(i / 50) + 1}`, column: (i % 50) + 1 }];
    const r = await q.buy(user, seat, admitted.admissionToken);
    if (r.status !== 201) throw new Error(`${user} purchase: ${r.status} ${JSON.stringify(r.body)}`);
    bought.push(user);
  };
  try {
    await Promise.all(Array.from({ length: BUYERS }, (_, i) => buyer(i)));
  } finally {
    sampling = false;
    await sampler;
  }

  expect(bought.length).toBe(BUYERS);
  expect(samples).toBeGreaterThan(10);
  expect(maxActive).toBeLessThanOrEqual(ACTIVE);
  expect(maxAdmittedEntries).toBeLessThanOrEqual(ACTIVE);
  // The cap was reached (the test would prove nothing with a trickle).
  expect(maxActive).toBe(ACTIVE);
  const order = await redis.lrange(k.order, 0, -1);
  expect(order.length).toBe(BUYERS);
  expect(new Set(order).size).toBe(BUYERS);
  const buyers = (await redis.hvals(k.entries)).map((e) => (JSON.parse(e) as StoredEntry).b);
  expect(new Set(buyers).size).toBe(BUYERS);
}, 180_000);
