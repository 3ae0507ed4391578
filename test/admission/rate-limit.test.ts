import { loadConfig } from '../../src/config/config';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';

/**
 * Rate limits (docs/admission.md, "Rate limits") on the real Redis: a token bucket per buyer and
 * per client address, shared by two api replicas (one key prefix), answering 429 RATE_LIMITED
 * with Retry-After as problem+json; the seed routes stay unlimited by default.
 */
const prefix = `tp:${uid('rl')}:`;
const eventId = uid('Rl');
let a: Awaited<ReturnType<typeof startTestPlatform>>;
let b: Awaited<ReturnType<typeof startTestPlatform>>;
let open: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  // Holds: 3 per buyer (burst), refilled at 0.2/s. Queue joins: 10 per client address, refilled at
  // 0.1/s. Slow refills, so a loaded machine running the requests slowly cannot change the counts.
  const limits = { REDIS_KEY_PREFIX: prefix, RATE_LIMIT_ROUTES: 'holds=0.2/3/1000/1000,queue=1000/1000/0.1/10' };
  a = await startTestPlatform(['api'], limits);
  b = await startTestPlatform(['api'], limits);
  // The default settings (what loadConfig gives with nothing set).
  open = await startTestPlatform(['api'], { REDIS_KEY_PREFIX: prefix, RATE_LIMIT_ROUTES: loadConfig({}).RATE_LIMIT_ROUTES });
  const entry = testEntry({ eventId, zones: [{ zoneId: '1', rows: ['A', 'B', 'C', 'D'], seatCounts: [100, 100, 100, 100] }] });
  entry.event.admission = { mode: 'queue', activeBuyers: 1000, sessionSeconds: 600 };
  const rows = ['A', 'B', 'C', 'D', 'E', 'F'];
  const plain = testEntry({ eventId: `${eventId}o`, zones: [{ zoneId: '1', rows, seatCounts: rows.map(() => 100) }] });
  const c1 = await seedTestEvent(a.ctx.redis, prefix, entry);
  const c2 = await seedTestEvent(a.ctx.redis, prefix, plain);
  cleanup = async () => {
    await c1();
    await c2();
  };
});

afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(a.ctx.redis, prefix);
  await Promise.all([a.stop(), b.stop(), open.stop()]);
});

async function post(base: string, path: string, body: unknown, user?: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-user-id': user } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    type: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

test('a buyer over the burst gets 429 RATE_LIMITED with Retry-After, as problem+json; another buyer is not limited', async () => {
  const hold = (user: string, column: number) =>
    post(a.url, `/api/v1/events/${eventId}o/holds`, { zoneId: '1', seats: [{ row: 'A', column }] }, user);
  const answers = [];
  for (let i = 1; i <= 5; i++) answers.push(await hold('flooder', i));
  expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 429, 429]);
  const limited = answers[3]!;
  expect(limited.type).toContain('application/problem+json');
  expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
  // Until one token is back at 0.2/s: 5 s at most, whole seconds, the header and the body agreeing.
  expect(limited.retryAfter).toBe(String(limited.body.retryAfterSeconds));
  expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(limited.retryAfter)).toBeLessThanOrEqual(5);
  expect((await hold('calm', 10)).status).toBe(201);
});

test('the client-address bucket is shared by two api replicas: 10 joins across both pass, then 429 on either', async () => {
  const join = (base: string, i: number) => post(base, `/api/v1/events/${eventId}/queue`, undefined, `joiner-${i}`);
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => join(i % 2 ? a.url : b.url, i)));
  const passed = answers.filter((r) => r.status === 202).length;
  // Exactly the burst of 10 (a token refills every 10 s), whichever replica each request reached.
  expect(passed).toBe(10);
  const refused = answers.filter((r) => r.status === 429);
  expect(refused.length).toBe(16 - passed);
  for (const r of refused) {
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(r.body.code).toBe('RATE_LIMITED');
  }
});

test('with the default settings the seed routes are not limited: 450 purchases at once from one address (over its burst of 400), no 429', async () => {
  const answers = await Promise.all(
    Array.from({ length: 450 }, (_, i) =>
      post(open.url, '/api/v1/tickets', {
        eventId: `${eventId}o`,
        zoneId: '1',
        venueId: `V${eventId}o`,
        row: ['B', 'C', 'D', 'E', 'F'][i % 5],
        column: Math.floor(i / 5) + 1,
        userId: `seed-user-${i}`,
      }),
    ),
  );
  expect(answers.filter((r) => r.status === 429)).toEqual([]);
  expect(answers.filter((r) => r.status === 201).length).toBe(450);
});
