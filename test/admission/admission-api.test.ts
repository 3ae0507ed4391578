import { AdmissionTokens } from '../../src/admission/tokens';
import { queueKeyList, queueKeys } from '../../src/admission/keys';
import { seedTestEvent } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform } from '../support/platform';
import { queueClient, queuedEntry, seat } from './support';

/**
 * Issue 17's "Done when" against one api on the real services: 20 buyers join a queue with
 * activeBuyers 5, exactly 5 are admitted; holds and purchases need a live Admission-Token
 * (missing, forged, another buyer's or event's: 403 ADMISSION_REQUIRED); a purchase, a release,
 * a hold expiry and a session timeout each admit the next buyer within a second.
 */
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const cleanups: (() => Promise<void>)[] = [];
const main = uid('Adm');
const other = uid('AdmB');
const short = uid('AdmS');
let q: ReturnType<typeof queueClient>;

beforeAll(async () => {
  platform = await startTestPlatform(['api'], { ADMISSION_PUMP_INTERVAL_MS: '100' });
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  cleanups.push(await seedTestEvent(redis, prefix, queuedEntry({ eventId: main })));
  cleanups.push(await seedTestEvent(redis, prefix, queuedEntry({ eventId: other })));
  cleanups.push(await seedTestEvent(redis, prefix, queuedEntry({ eventId: short }, { activeBuyers: 1, sessionSeconds: 5 })));
  q = queueClient(platform.url, main);
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
  await platform.stop();
});

const buyers = Array.from({ length: 20 }, (_, i) => `buyer-${String(i + 1).padStart(2, '0')}`);
const places = new Map<string, string>();

/** Within `ms` of `from`: the next buyer's admission came "at once" (the pump, or the same step). */
async function admittedWithin(client: ReturnType<typeof queueClient>, user: string, ms = 1000) {
  const from = Date.now();
  const r = await client.admitted(user, places.get(user)!, ms + 2000);
  expect(Date.now() - from).toBeLessThan(ms);
  return r;
}

test('20 buyers join: 202 {queueId, position, estimatedWaitSeconds}; exactly 5 admitted; joining again keeps the place', async () => {
  for (const b of buyers) {
    const r = await q.join(b);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ queueId: expect.any(String), position: expect.any(Number), estimatedWaitSeconds: expect.any(Number) });
    places.set(b, r.body.queueId);
  }
  const first = await q.join(buyers[0]!);
  expect(first.body).toMatchObject({ status: 'ADMITTED', queueId: places.get(buyers[0]!), position: 0 });
  const again = await q.join(buyers[10]!);
  expect(again.body).toMatchObject({ status: 'WAITING', queueId: places.get(buyers[10]!), position: 6 });
  expect(again.body.estimatedWaitSeconds).toBeGreaterThan(0);

  const states = await Promise.all(buyers.map((b) => q.status(b, places.get(b)!)));
  expect(states.filter((s) => s.body.status === 'ADMITTED').map((_, i) => buyers[i])).toEqual(buyers.slice(0, 5));
  expect(states.slice(5).map((s) => s.body)).toEqual(
    buyers.slice(5).map((_, i) => ({
      status: 'WAITING',
      queueId: places.get(buyers[i + 5]!),
      position: i + 1,
      estimatedWaitSeconds: expect.any(Number),
      prequeue: false,
    })),
  );
  expect(states[0]!.body).toEqual({
    status: 'ADMITTED',
    queueId: places.get(buyers[0]!),
    admissionToken: expect.any(String),
    expiresAt: expect.any(String),
  });
  const left = Date.parse(states[0]!.body.expiresAt) - Date.now();
  expect(left).toBeGreaterThan(590_000);
  expect(left).toBeLessThanOrEqual(600_000);
});

test('a place is read only by its buyer; an unknown place is 404 QUEUE_NOT_FOUND', async () => {
  expect(await q.status('someone-else', places.get(buyers[0]!)!)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  expect(await q.status(buyers[0]!, '1-nope')).toMatchObject({ status: 404, body: { code: 'QUEUE_NOT_FOUND' } });
});

test('holds and purchases without a live token for this buyer and event: 403 ADMISSION_REQUIRED problem+json', async () => {
  const ann = buyers[0]!;
  const token = (await q.status(ann, places.get(ann)!)).body.admissionToken as string;
  const refused = [
    await q.buy(ann, seat('A', 1)),
    await q.hold(ann, seat('A', 1)),
    await q.buy(buyers[6]!, seat('A', 1)),
    // Another buyer replays ann's token.
    await q.buy(buyers[6]!, seat('A', 1), token),
    await q.hold(buyers[6]!, seat('A', 1), token),
    // A token signed with another key (forged).
    await q.buy(ann, seat('A', 1), await forged(ann)),
    // The same token on another queued event.
    await queueClient(platform.url, other).buy(ann, seat('A', 1), token),
    // Garbage.
    await q.buy(ann, seat('A', 1), 'not-a-jwt'),
  ];
  for (const r of refused) {
    expect(r).toMatchObject({ status: 403, contentType: expect.stringContaining('application/problem+json') });
    expect(r.body).toMatchObject({ code: 'ADMISSION_REQUIRED', status: 403, detail: expect.any(String) });
  }
  expect(refused.map((r) => r.body.detail as string).some((d) => d.includes('another buyer'))).toBe(true);
  expect(refused.map((r) => r.body.detail as string).some((d) => d.includes('not signed by this platform'))).toBe(true);
  expect(refused.map((r) => r.body.detail as string).some((d) => d.includes('another event'))).toBe(true);

  async function forged(sub: string) {
    const claims = (await q.status(ann, places.get(ann)!)).body;
    const payload = JSON.parse(Buffer.from(String(claims.admissionToken).split('.')[1]!, 'base64url').toString());
    return AdmissionTokens.withSecret('an-attacker-secret-of-at-least-32-bytes!!').sign({
      buyer: sub,
      eventId: main,
      queueId: payload.qid,
      jti: payload.jti,
      expiresAt: Date.now() + 60_000,
    });
  }
});

test('with the token: 201, the admission ends (the token is refused from then on) and the sixth buyer is admitted within a second', async () => {
  const ann = buyers[0]!;
  const token = (await q.status(ann, places.get(ann)!)).body.admissionToken as string;
  const bought = await q.buy(ann, seat('A', 1), token);
  expect(bought.status).toBe(201);
  await admittedWithin(q, buyers[5]!);
  expect((await q.status(ann, places.get(ann)!)).body).toMatchObject({ status: 'ENDED', reason: 'purchased' });
  expect(await q.buy(ann, seat('A', 2), token)).toMatchObject({ status: 403, body: { code: 'ADMISSION_REQUIRED' } });
});

test('a hold then its payment with the token: 201; the next buyer is admitted within a second', async () => {
  const bob = buyers[1]!;
  const token = (await q.status(bob, places.get(bob)!)).body.admissionToken as string;
  const h = await q.hold(bob, seat('B', 1), token);
  expect(h.status).toBe(201);
  // A hold of a queued event lasts at most until the admission ends.
  expect(Date.parse(h.body.expiresAt)).toBeLessThanOrEqual(Date.parse((await q.status(bob, places.get(bob)!)).body.expiresAt) + 1000);
  expect(await q.pay(bob, h.body.holdId)).toMatchObject({ status: 403, body: { code: 'ADMISSION_REQUIRED' } });
  expect((await q.pay(bob, h.body.holdId, token)).status).toBe(201);
  await admittedWithin(q, buyers[6]!);
});

test('releasing the only hold ends the admission; the next buyer is admitted within a second', async () => {
  const cy = buyers[2]!;
  const token = (await q.status(cy, places.get(cy)!)).body.admissionToken as string;
  const h1 = await q.hold(cy, seat('C', 1), token);
  const h2 = await q.hold(cy, seat('C', 2), token);
  expect([h1.status, h2.status]).toEqual([201, 201]);
  expect((await q.release(cy, h1.body.holdId)).status).toBe(200);
  // Still holding C2: still admitted.
  expect((await q.status(cy, places.get(cy)!)).body.status).toBe('ADMITTED');
  expect((await q.release(cy, h2.body.holdId)).status).toBe(200);
  await admittedWithin(q, buyers[7]!);
  expect((await q.status(cy, places.get(cy)!)).body).toMatchObject({ status: 'ENDED', reason: 'holds-ended' });
});

test('a hold that expires ends the admission; the next buyer is admitted within a second of the expiry', async () => {
  const di = buyers[3]!;
  const token = (await q.status(di, places.get(di)!)).body.admissionToken as string;
  const h = await q.hold(di, seat('D', 1), token, { expiresInSeconds: 5 });
  expect(h.status).toBe(201);
  const expiresAt = Date.parse(h.body.expiresAt);
  const r = await q.admitted(buyers[8]!, places.get(buyers[8]!)!, 10_000);
  expect(r.body.status).toBe('ADMITTED');
  expect(Date.now() - expiresAt).toBeLessThan(1000);
  expect((await q.status(di, places.get(di)!)).body).toMatchObject({ status: 'ENDED', reason: 'holds-ended' });
});

test('a session that times out ends; the next buyer is admitted within a second; the stale token is refused', async () => {
  const s = queueClient(platform.url, short);
  const first = await s.join('t-1');
  const second = await s.join('t-2');
  places.set('t-1', first.body.queueId);
  places.set('t-2', second.body.queueId);
  const admitted = await s.admitted('t-1', first.body.queueId);
  expect((await s.status('t-2', second.body.queueId)).body).toMatchObject({ status: 'WAITING', position: 1 });
  const endsAt = Date.parse(admitted.body.expiresAt);
  await s.admitted('t-2', second.body.queueId, 10_000);
  expect(Date.now() - endsAt).toBeLessThan(1000);
  expect(await s.buy('t-1', seat('A', 1), admitted.body.admissionToken)).toMatchObject({
    status: 403,
    body: { code: 'ADMISSION_REQUIRED' },
  });
  expect((await s.status('t-1', first.body.queueId)).body).toMatchObject({ status: 'ENDED', reason: 'timeout' });
});

test('Idempotency-Key: a refusal for want of admission does not spend the key; the admitted retry buys, and a repeat replays the 201', async () => {
  const ed = buyers[4]!;
  const token = (await q.status(ed, places.get(ed)!)).body.admissionToken as string;
  const key = { 'idempotency-key': uid('k') };
  const body = { zoneId: '1', seats: seat('E', 1), userId: ed };
  const path = `/api/v1/events/${main}/purchases`;
  expect(await http(platform.url, 'POST', path, body, { ...key, 'x-user-id': ed })).toMatchObject({
    status: 403,
    body: { code: 'ADMISSION_REQUIRED' },
  });
  const bought = await http(platform.url, 'POST', path, body, { ...key, 'x-user-id': ed, 'admission-token': token });
  expect(bought.status).toBe(201);
  // The admission has ended; the same key still replays the purchase it made.
  const again = await http(platform.url, 'POST', path, body, { ...key, 'x-user-id': ed, 'admission-token': token });
  expect(again).toMatchObject({ status: 201, body: { purchaseId: bought.body.purchaseId } });
  await admittedWithin(q, buyers[9]!);
});

test('the metrics count joins, admissions and ended sessions', async () => {
  const text = (await http(platform.url, 'GET', '/metrics')).body as string;
  expect(text).toMatch(new RegExp(`ticketing_queue_admitted_total\\{event_id="${main}"\\} (\\d+)`));
  const admitted = Number(new RegExp(`ticketing_queue_admitted_total\\{event_id="${main}"\\} (\\d+)`).exec(text)![1]);
  expect(admitted).toBe(10);
  expect(text).toContain(`ticketing_queue_joins_total{event_id="${main}",result="joined"} 20`);
  expect(text).toMatch(new RegExp(`ticketing_queue_sessions_ended_total\\{event_id="${main}",reason="purchased"\\} 3`));
  expect(text).toContain(`ticketing_queue_wait_seconds_count{event_id="${main}"} 10`);
});

test('the queue keeps its state under its own key prefix and hash tag', async () => {
  const k = queueKeys(platform.cfg.REDIS_KEY_PREFIX, main);
  expect(Number(await platform.ctx.redis.zcard(k.active))).toBeLessThanOrEqual(5);
  expect(await platform.ctx.redis.llen(k.order)).toBe(10);
  // Every key of the queue expires (ADMISSION_QUEUE_TTL_SECONDS after its last change).
  for (const key of queueKeyList(k)) {
    const ttl = await platform.ctx.redis.pttl(key);
    expect([key, ttl === -2 || ttl > 3600_000]).toEqual([key, true]);
  }
});

test('extending a hold on a queued event needs the live token too, and never outlives the admission session', async () => {
  const eventId = uid('AdmX');
  cleanups.push(
    await seedTestEvent(
      platform.ctx.redis,
      platform.cfg.REDIS_KEY_PREFIX,
      queuedEntry({ eventId }, { activeBuyers: 1, sessionSeconds: 60 }),
    ),
  );
  const x = queueClient(platform.url, eventId);
  const joined = await x.join('ext-1');
  const admitted = await x.admitted('ext-1', joined.body.queueId as string);
  const token = admitted.body.admissionToken as string;
  const sessionEnds = Date.parse(admitted.body.expiresAt as string);
  const held = await x.hold('ext-1', seat('A', 1), token, { expiresInSeconds: 10 });
  expect(held.status).toBe(201);
  const holdId = held.body.holdId as string;

  const without = await x.extend('ext-1', holdId, 10);
  expect({ status: without.status, code: without.body?.code }).toEqual({ status: 403, code: 'ADMISSION_REQUIRED' });
  const more = await x.extend('ext-1', holdId, 10, token);
  expect(more.status).toBe(200);
  expect(Date.parse(more.body.expiresAt as string)).toBe(Date.parse(held.body.expiresAt as string) + 10_000);
  // Asked for an hour: it reaches the session's end, not further; then nothing is left to add.
  const capped = await x.extend('ext-1', holdId, 3600, token);
  expect(capped.status).toBe(200);
  expect(Date.parse(capped.body.expiresAt as string)).toBeLessThanOrEqual(sessionEnds);
  const none = await x.extend('ext-1', holdId, 10, token);
  expect({ status: none.status, code: none.body?.code }).toEqual({ status: 409, code: 'HOLD_LIMIT_REACHED' });
});
