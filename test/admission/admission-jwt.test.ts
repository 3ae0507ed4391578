import { signHs256Token } from '../../src/auth/tokens';
import { seedTestEvent } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform } from '../support/platform';
import { queuedEntry } from './support';

/**
 * jwt mode (AUTH_MODE=jwt) and the waiting room: the buyer who joins, reads the place and holds is
 * the bearer token's `sub`; an admission token works only with its own buyer's bearer token, and
 * an ADMISSION_TOKEN_SECRET, when set, signs the admission tokens.
 */
const HS256 = 'admission-jwt-test-hs256-secret-of-32-bytes';
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const eventId = uid('AdmJ');
let cleanup: () => Promise<void>;
let alice: string;
let bob: string;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], {
    AUTH_MODE: 'jwt',
    AUTH_HS256_SECRET: HS256,
    ADMISSION_TOKEN_SECRET: 'admission-jwt-test-admission-secret-32-bytes',
  });
  cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, queuedEntry({ eventId }, { activeBuyers: 1 }));
  alice = await signHs256Token(HS256, { sub: 'alice', expiresInSeconds: 600 });
  bob = await signHs256Token(HS256, { sub: 'bob', expiresInSeconds: 600 });
});

afterAll(async () => {
  await cleanup();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
const queue = `/api/v1/events/${eventId}/queue`;

test('the buyer is the bearer token: 401 without one; a place is read by its buyer only; the admission works with its own bearer only', async () => {
  expect(await http(platform.url, 'POST', queue)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
  const a = await http(platform.url, 'POST', queue, undefined, bearer(alice));
  expect(a).toMatchObject({ status: 202, body: { status: 'ADMITTED' } });
  const b = await http(platform.url, 'POST', queue, undefined, bearer(bob));
  expect(b).toMatchObject({ status: 202, body: { status: 'WAITING', position: 1 } });
  // A declared buyer that is not the token's: refused as on every buyer route.
  expect(await http(platform.url, 'POST', queue, undefined, bearer(bob, { 'x-user-id': 'alice' }))).toMatchObject({
    status: 403,
    body: { code: 'FORBIDDEN' },
  });
  expect(await http(platform.url, 'GET', `${queue}/${a.body.queueId}`, undefined, bearer(bob))).toMatchObject({
    status: 403,
    body: { code: 'FORBIDDEN' },
  });
  const payload = JSON.parse(Buffer.from(String(a.body.admissionToken).split('.')[1]!, 'base64url').toString());
  expect(payload).toMatchObject({ sub: 'alice', aud: `admission:${eventId}`, iss: 'ticketing-admission', qid: a.body.queueId });

  const holds = `/api/v1/events/${eventId}/holds`;
  const body = { zoneId: '1', seats: [{ row: 'A', column: 1 }] };
  // Bob replays alice's admission with his own bearer token: refused.
  expect(await http(platform.url, 'POST', holds, body, bearer(bob, { 'admission-token': a.body.admissionToken }))).toMatchObject({
    status: 403,
    body: { code: 'ADMISSION_REQUIRED' },
  });
  const held = await http(platform.url, 'POST', holds, body, bearer(alice, { 'admission-token': a.body.admissionToken }));
  expect(held).toMatchObject({ status: 201, body: { buyer: 'alice' } });
  // Releasing her only hold ends alice's admission: bob is admitted in the same step.
  expect((await http(platform.url, 'DELETE', `/api/v1/holds/${held.body.holdId}`, undefined, bearer(alice))).status).toBe(200);
  expect((await http(platform.url, 'GET', `${queue}/${b.body.queueId}`, undefined, bearer(bob))).body.status).toBe('ADMITTED');
});
