import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform } from '../support/platform';
import { checkoutClient } from './support';

/**
 * The per-buyer limit on the direct multi-seat route (issue 13, item 5): a declared buyer's
 * purchases count with their holds across zones; the prototype's anonymous routes keep the
 * per-request limit, so the seed load test runs unchanged.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('Lim');
let cleanup: () => Promise<void>;
let c: ReturnType<typeof checkoutClient>;

beforeAll(async () => {
  platform = await startTestPlatform(['api']);
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    testEntry({ eventId, perUserLimit: 4, zones: [{ zoneId: 'a' }, { zoneId: 'b' }] }),
  );
  c = checkoutClient(platform.url, eventId);
});
afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

// Skipped until PurchaseEngine takes the BuyerAllowance (the engine's owner applies the change in
// docs/checkout.md, "The per-buyer limit on the direct multi-seat route"); it fails without it.
test.skip('direct purchases and holds of one buyer count together across zones: 409 BUYER_LIMIT_REACHED with the number left', async () => {
  const max = uid('max');
  expect(
    (
      await c.buy({
        zoneId: 'a',
        seats: [
          { row: 'A', column: 1 },
          { row: 'A', column: 2 },
        ],
        userId: max,
      })
    ).status,
  ).toBe(201);
  expect((await c.hold({ zoneId: 'b', seats: [{ row: 'A', column: 1 }], userId: max })).status).toBe(201);
  expect(
    await c.buy({
      zoneId: 'b',
      seats: [
        { row: 'B', column: 1 },
        { row: 'B', column: 2 },
      ],
      userId: max,
    }),
  ).toMatchObject({ status: 409, body: { code: 'BUYER_LIMIT_REACHED', left: 1 } });
  expect((await c.buy({ zoneId: 'b', seats: [{ row: 'B', column: 1 }], userId: max })).status).toBe(201);
  expect(await c.hold({ zoneId: 'a', seats: [{ row: 'C', column: 1 }], userId: max })).toMatchObject({
    status: 409,
    body: { code: 'BUYER_LIMIT_REACHED', left: 0 },
  });
  // The refused purchase sold nothing: another buyer gets those seats.
  expect((await c.buy({ zoneId: 'b', seats: [{ row: 'B', column: 2 }], userId: uid('other') })).status).toBe(201);
});

test('the anonymous seed routes keep the per-request limit only', async () => {
  for (let column = 1; column <= 6; column++) {
    expect((await http(platform.url, 'POST', '/api/v1/tickets', { eventId, zoneId: 'a', row: 'Z', column })).status).toBe(201);
  }
});
