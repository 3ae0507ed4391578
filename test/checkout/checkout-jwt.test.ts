import { signHs256Token } from '../../src/auth/tokens';
import { call } from '../auth/support';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';
import { checkoutClient, WEBHOOK_SECRET } from './support';

/**
 * jwt mode (AUTH_MODE=jwt): every checkout route needs a bearer token, the buyer is its `sub`,
 * and a hold or purchase is readable and changeable only by its buyer or with the admin token.
 */
const HS256 = 'checkout-jwt-test-hs256-secret-of-32-bytes';
const ADMIN = 'checkout-jwt-test-admin-token';
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('Jwt');
let cleanup: () => Promise<void>;
let c: ReturnType<typeof checkoutClient>;
let alice: string;
let bob: string;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], {
    AUTH_MODE: 'jwt',
    AUTH_HS256_SECRET: HS256,
    ADMIN_TOKEN: ADMIN,
    PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, perUserLimit: 4, zones: [{ zoneId: 'z', rows: ['A', 'B'], seatCounts: [10, 10] }] }),
  );
  c = checkoutClient(platform.url, eventId);
  alice = await signHs256Token(HS256, { sub: 'alice', expiresInSeconds: 600 });
  bob = await signHs256Token(HS256, { sub: 'bob', expiresInSeconds: 600 });
});

afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

test('no token, a bad token, or an expired one: 401 UNAUTHENTICATED with a Bearer challenge, nothing held', async () => {
  const none = await call(platform.url, 'POST', `/api/v1/events/${eventId}/holds`, {
    body: { zoneId: 'z', seats: [{ row: 'A', column: 1 }] },
  });
  expect(none).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' }, wwwAuthenticate: 'Bearer realm="ticketing"' });
  const forged = await c.hold(
    { zoneId: 'z', seats: [{ row: 'A', column: 1 }] },
    { token: await signHs256Token('another-secret-that-is-32-bytes-long!!', { sub: 'alice', expiresInSeconds: 600 }) },
  );
  expect(forged).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  const expired = await signHs256Token(HS256, { sub: 'alice', expiresInSeconds: -60 });
  expect(await c.hold({ zoneId: 'z', seats: [{ row: 'A', column: 1 }] }, { token: expired })).toMatchObject({
    status: 401,
    body: { code: 'UNAUTHENTICATED' },
  });
  expect(await c.me('holds')).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  // The seat was never held: alice gets it.
  const h = await c.hold({ zoneId: 'z', seats: [{ row: 'A', column: 1 }] }, { token: alice });
  expect(h).toMatchObject({ status: 201, body: { buyer: 'alice' } });
  expect(await c.getHold(h.body.holdId)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
});

test("someone else's hold and purchase: 403 FORBIDDEN; the buyer and the admin token may", async () => {
  const h = await c.hold(
    {
      zoneId: 'z',
      seats: [
        { row: 'B', column: 1 },
        { row: 'B', column: 2 },
      ],
    },
    { token: alice },
  );
  expect(h.status).toBe(201);
  const holdId: string = h.body.holdId;
  for (const r of [
    await c.getHold(holdId, { token: bob }),
    await c.extend(holdId, 10, { token: bob }),
    await c.release(holdId, { token: bob }),
    await c.pay(holdId, 'tok_visa', { token: bob }),
  ]) {
    expect(r).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  }
  // A token for alice that names bob in the body is refused too.
  expect(await c.hold({ zoneId: 'z', seats: [{ row: 'B', column: 5 }], userId: 'bob' }, { token: alice })).toMatchObject({
    status: 403,
    body: { code: 'FORBIDDEN' },
  });
  expect((await c.getHold(holdId, { token: ADMIN })).body).toMatchObject({ holdId, status: 'HELD' });

  const paid = await c.pay(holdId, 'tok_visa', { token: alice });
  expect(paid).toMatchObject({ status: 201, body: { userId: 'alice', status: 'CONFIRMED' } });
  const { purchaseId } = paid.body;
  expect(await c.purchase(purchaseId, { token: bob })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  expect(await c.purchase(purchaseId)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  expect((await c.purchase(purchaseId, { token: alice })).body).toMatchObject({ purchaseId, status: 'CONFIRMED' });
  expect((await c.purchase(purchaseId, { token: ADMIN })).body).toMatchObject({ purchaseId, status: 'CONFIRMED' });

  // /me is the token's buyer's alone.
  expect((await c.me('holds', { token: alice })).body.holds.map((x: { holdId: string }) => x.holdId)).toContain(holdId);
  expect((await c.me('holds', { token: bob })).body.holds).toEqual([]);
});
