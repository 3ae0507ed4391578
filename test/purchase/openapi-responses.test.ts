import Ajv2020 from 'ajv/dist/2020';
import { openApiDocument } from '../../src/http/openapi';
import { seatStreamSnapshotSchema } from '../../src/http/schemas';
import { ReadModel } from '../../src/projector/read-model';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { startTestPlatform } from '../support/platform';

/**
 * Real answers of every documented route, checked against the response schemas /openapi.json
 * declares for their status and media type (generated from src/http/schemas.ts and the outcome
 * table). Response objects are strict, so a field the API sends but the document lacks fails.
 */

let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const cleanups: (() => Promise<void>)[] = [];
const eventId = uid('Oas');
const venueId = `V${eventId}`;
const ADMIN_TOKEN = uid('admin');

beforeAll(async () => {
  // The projector serves the read-model routes; the reset waits for the writer and the projector.
  // Joins are rate limited (burst 2 per buyer) so a 429 answer is checked too.
  platform = await startTestPlatform(['api', 'projector', 'writer'], { ADMIN_TOKEN, RATE_LIMIT_ROUTES: 'queue=1/2/1000/1000' });
  cleanups.push(async () => void (await new ReadModel(platform.ctx.mysql).deleteEvent(eventId)));
  const entry = testEntry({
    eventId,
    perUserLimit: 4,
    zones: [
      { zoneId: 'a', category: 'stalls' },
      { zoneId: 'tiny', rows: ['A'], seatCounts: [1] },
    ],
  });
  // The venue map's shapes (both kinds) and stage, so the catalog answers carry them too.
  entry.venue.stage = { x: 500, y: 80, width: 300, height: 60, label: 'Stage' };
  entry.venue.zones[0]!.map = { shape: 'rect', x: 500, y: 250, width: 300, height: 120, rotation: 5 };
  entry.venue.zones[1]!.map = { shape: 'arc', x: 500, y: 80, innerRadius: 300, outerRadius: 400, startAngle: 135, endAngle: 225 };
  cleanups.push(await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry));
  const queued = testEntry({ eventId: queuedId, zones: [{ zoneId: 'a' }] });
  queued.event.admission = { mode: 'queue', activeBuyers: 1, sessionSeconds: 600 };
  cleanups.push(await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, queued));
});
const queuedId = uid('OasQ');

afterAll(async () => {
  for (const c of cleanups) await c();
  await platform.stop();
});

// ---------------------------------------------------------------- the document as ajv schemas

const BASE = 'https://ticketing.dev/openapi.json';
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
ajv.addFormat('date-time', (v: string) => rfc3339.test(v) && !Number.isNaN(Date.parse(v)));
ajv.addKeyword({ keyword: 'components' }); // where the document's schemas live, so #/components/... refs resolve
ajv.addSchema({ $id: BASE, components: openApiDocument.components });

type Media = { schema: Record<string, unknown> };
type Operation = { responses: Record<string, { content?: Record<string, Media> }> };
const operation = (method: string, template: string) =>
  (openApiDocument.paths[template] as Record<string, Operation> | undefined)?.[method];
/** A schema of the document, its local references pointed at the document. */
const anchored = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema), (k, v: unknown) => (k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${BASE}${v}` : v));

const checked = new Set<string>();

interface Call {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Calls a documented route and checks the answer against the schema for its status and type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, already checked against its schema
async function call(method: 'get' | 'post' | 'delete', template: string, c: Call = {}): Promise<{ status: number; body: any }> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(c.params?.[name] ?? `missing-${name}`));
  const res = await fetch(`${platform.url}${path}${c.query ? `?${c.query}` : ''}`, {
    method: method.toUpperCase(),
    headers: { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
    ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
  });
  const text = await res.text();
  const op = operation(method, template);
  expect([method, template, op !== undefined]).toEqual([method, template, true]);
  const response = op!.responses[String(res.status)] ?? op!.responses.default;
  const where = `${method.toUpperCase()} ${template} → ${res.status}`;
  expect([where, response !== undefined]).toEqual([where, true]);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const media = response!.content?.[type];
  expect([where, type, media !== undefined]).toEqual([where, type, true]);
  const body: unknown = type.endsWith('json') ? JSON.parse(text) : text;
  const validate = ajv.compile(anchored(media!.schema) as object);
  if (!validate(body)) throw new Error(`${where} does not match /openapi.json: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 800)}`);
  checked.add(`${method} ${template}`);
  return { status: res.status, body };
}

/**
 * The change stream never ends, so `call` cannot read it: its 200 is checked here from the first
 * event (the documented media type, the snapshot body's schema), its problems through `call`.
 */
async function checkSeatStream() {
  const template = '/api/v1/events/{eventId}/zones/{zoneId}/seats/stream';
  const ctrl = new AbortController();
  const res = await fetch(`${platform.url}${template.replace('{eventId}', eventId).replace('{zoneId}', 'a')}`, { signal: ctrl.signal });
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  expect([res.status, operation('get', template)?.responses['200']?.content?.[type] !== undefined]).toEqual([200, true]);
  const reader = res.body!.getReader();
  let text = '';
  while (!/event: snapshot\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
  const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n\n/.exec(text)![1]!);
  expect(seatStreamSnapshotSchema.safeParse(snapshot).error).toBeUndefined();
  checked.add(`get ${template}`);
  expect((await call('get', template, { params: { eventId, zoneId: 'nope' } })).body.code).toBe('ZONE_NOT_FOUND');
}

// ---------------------------------------------------------------- the routes

test('purchases: 201 answers, refusals and unknown input match their documented schemas', async () => {
  const single = await call('post', '/ticket', { query: `venueId=${venueId}&eventId=${eventId}&zoneId=a&row=A&column=1` });
  expect(single.status).toBe(201);
  expect((await call('post', '/ticket', { query: `eventId=${eventId}&zoneId=a&row=A&column=1` })).body.code).toBe('SEATS_TAKEN');
  expect((await call('post', '/ticket', { query: `eventId=${eventId}&row=A&column=1` })).body.code).toBe('VALIDATION_FAILED');

  const byBody = await call('post', '/api/v1/tickets', { body: { eventId, zoneId: 'a', row: 'A', column: '2', userId: 'oas-user' } });
  expect(byBody.status).toBe(201);
  expect((await call('post', '/api/v1/tickets', { body: { eventId: 'NoSuchEvent', zoneId: 'a', row: 'A', column: 3 } })).body.code).toBe(
    'EVENT_NOT_FOUND',
  );

  const purchases = '/api/v1/events/{eventId}/purchases';
  const bought = await call('post', purchases, {
    params: { eventId },
    body: {
      userId: 'oas-user',
      zoneId: 'a',
      seats: [
        { row: 'B', column: 1 },
        { row: 'B', column: 2 },
      ],
    },
    headers: { 'idempotency-key': uid('k') },
  });
  expect(bought.status).toBe(201);
  expect(
    (
      await call('post', purchases, {
        params: { eventId },
        body: { userId: 'u', zoneId: 'a', seats: [1, 2, 3, 4, 5].map((c) => ({ row: 'C', column: c })) },
      })
    ).body,
  ).toMatchObject({ code: 'TOO_MANY_SEATS', limit: 4 });
  expect(
    (await call('post', purchases, { params: { eventId }, body: { userId: 'u', zoneId: 'a', seats: [{ row: 'A', column: 31 }] } })).body
      .code,
  ).toBe('SEAT_OUTSIDE_LAYOUT');
  expect(
    (await call('post', purchases, { params: { eventId }, body: { userId: 'u', zoneId: 'tiny', seats: [{ row: 'A', column: 1 }] } }))
      .status,
  ).toBe(201);
  expect(
    (await call('post', purchases, { params: { eventId }, body: { userId: 'u', zoneId: 'tiny', seats: [{ row: 'A', column: 1 }] } })).body
      .code,
  ).toBe('ZONE_SOLD_OUT');
  const key = uid('k');
  await call('post', purchases, {
    params: { eventId },
    body: { userId: 'u', zoneId: 'a', seats: [{ row: 'D', column: 1 }] },
    headers: { 'idempotency-key': key },
  });
  expect(
    (
      await call('post', purchases, {
        params: { eventId },
        body: { userId: 'u', zoneId: 'a', seats: [{ row: 'D', column: 2 }] },
        headers: { 'idempotency-key': key },
      })
    ).body.code,
  ).toBe('IDEMPOTENCY_KEY_REUSED');

  expect((await call('get', '/api/v1/purchases/{purchaseId}', { params: { purchaseId: bought.body.purchaseId } })).status).toBe(200);
  expect((await call('get', '/api/v1/purchases/{purchaseId}', { params: { purchaseId: `${eventId}.a.AAAAAAAAAAAAAAAA` } })).body.code).toBe(
    'PURCHASE_NOT_FOUND',
  );
  expect((await call('get', '/api/v1/tickets/{ticketId}', { params: { ticketId: single.body.ticketId } })).status).toBe(200);
  expect((await call('get', '/api/v1/tickets/{ticketId}', { params: { ticketId: 'nope' } })).body.code).toBe('TICKET_NOT_FOUND');
});

test('catalog, live inventory and read-model answers match their documented schemas', async () => {
  expect((await call('get', '/api/v1/events')).status).toBe(200);
  expect(
    (await call('get', '/api/v1/events', { query: 'status=OnSale' })).body.events.map((e: { eventId: string }) => e.eventId),
  ).toContain(eventId);
  expect((await call('get', '/api/v1/events/{eventId}', { params: { eventId } })).status).toBe(200);
  expect((await call('get', '/api/v1/events/{eventId}', { params: { eventId: 'bad id!' } })).body.code).toBe('VALIDATION_FAILED');
  expect((await call('get', '/api/v1/venues/{venueId}', { params: { venueId } })).status).toBe(200);
  expect((await call('get', '/api/v1/venues/{venueId}', { params: { venueId: 'NoSuchVenue' } })).body.code).toBe('VENUE_NOT_FOUND');
  expect((await call('get', '/api/v1/events/{eventId}/zones/{zoneId}/seats', { params: { eventId, zoneId: 'a' } })).status).toBe(200);
  expect((await call('get', '/api/v1/events/{eventId}/zones/{zoneId}/seats', { params: { eventId, zoneId: 'nope' } })).body.code).toBe(
    'ZONE_NOT_FOUND',
  );
  await checkSeatStream();
  const count = await call('get', '/api/v1/tickets/count/{eventId}', { params: { eventId } });
  expect(count.body.total).toBeGreaterThan(0);

  // The read model follows the sale by the projector's lag: wait until it holds every ticket sold.
  await waitFor(
    async () =>
      (await call('get', '/api/v1/tickets/money/{venueId}/{eventId}', { params: { venueId, eventId } })).body.soldCount ===
      count.body.total,
    'the read model to hold every ticket sold',
  );
  expect((await call('get', '/api/v1/tickets/money/{venueId}/{eventId}', { params: { venueId: 'Elsewhere', eventId } })).body.code).toBe(
    'VENUE_NOT_FOUND',
  );
  const firstPage = await call('get', '/api/v1/users/{userId}/tickets', { params: { userId: 'oas-user' }, query: 'limit=1' });
  expect(firstPage.body.nextCursor).toEqual(expect.any(String));
  expect(
    (await call('get', '/api/v1/users/{userId}/tickets', { params: { userId: 'oas-user' }, query: `cursor=${firstPage.body.nextCursor}` }))
      .status,
  ).toBe(200);
  expect((await call('get', '/api/v1/users/{userId}/tickets', { params: { userId: 'oas-user' }, query: 'cursor=garbage' })).body.code).toBe(
    'INVALID_CURSOR',
  );
  expect((await call('get', '/api/v1/events/{eventId}/tickets', { params: { eventId }, query: 'zoneId=a&limit=2' })).status).toBe(200);
  expect((await call('get', '/api/v1/events/{eventId}/tickets', { params: { eventId } })).status).toBe(200);
  expect((await call('get', '/api/v1/events/{eventId}/sales', { params: { eventId } })).status).toBe(200);
});

test("checkout: holds, paying them and the buyer's own lists match their documented schemas", async () => {
  const as = { 'x-user-id': 'oas-buyer' };
  const holds = '/api/v1/events/{eventId}/holds';
  const hold = '/api/v1/holds/{holdId}';
  const held = await call('post', holds, {
    params: { eventId },
    body: { zoneId: 'a', seats: [{ row: 'E', column: 1 }] },
    headers: { ...as, 'idempotency-key': uid('k') },
  });
  expect(held.status).toBe(201);
  const holdId: string = held.body.holdId;
  expect(
    (await call('post', holds, { params: { eventId }, body: { zoneId: 'a', seats: [{ row: 'E', column: 1 }] }, headers: as })).body.code,
  ).toBe('SEATS_TAKEN');
  expect((await call('get', hold, { params: { holdId }, headers: as })).body.status).toBe('HELD');
  expect((await call('get', hold, { params: { holdId: `${eventId}.a.hAAAAAAAAAAAAAAAA` }, headers: as })).body.code).toBe('HOLD_NOT_FOUND');
  expect((await call('post', '/api/v1/holds/{holdId}/extend', { params: { holdId }, body: { seconds: 5 }, headers: as })).status).toBe(200);
  const paid = await call('post', '/api/v1/holds/{holdId}/purchase', {
    params: { holdId },
    body: { payment: { provider: 'test', token: 'tok_visa' } },
    headers: as,
  });
  expect(paid.status).toBe(201);
  expect((await call('get', '/api/v1/purchases/{purchaseId}', { params: { purchaseId: paid.body.purchaseId } })).status).toBe(200);

  const pendingHold = await call('post', holds, { params: { eventId }, body: { zoneId: 'a', best: { count: 1 } }, headers: as });
  const pending = await call('post', '/api/v1/holds/{holdId}/purchase', {
    params: { holdId: pendingHold.body.holdId },
    body: { payment: { provider: 'test', token: 'tok_pending' } },
    headers: as,
  });
  expect(pending.body.status).toBe('PAYMENT_PENDING');
  expect((await call('get', '/api/v1/purchases/{purchaseId}', { params: { purchaseId: pending.body.purchaseId } })).body.status).toBe(
    'PAYMENT_PENDING',
  );

  const released = await call('post', holds, { params: { eventId }, body: { zoneId: 'a', seats: [{ row: 'E', column: 9 }] }, headers: as });
  expect((await call('delete', hold, { params: { holdId: released.body.holdId }, headers: as })).body.status).toBe('RELEASED');
  // Releasing again answers the released hold (a retry of the DELETE).
  expect((await call('delete', hold, { params: { holdId: released.body.holdId }, headers: as })).body.status).toBe('RELEASED');

  expect((await call('get', '/api/v1/me/holds', { headers: as })).body.holds.map((h: { holdId: string }) => h.holdId)).toContain(holdId);
  expect((await call('get', '/api/v1/me/holds', { query: 'status=nope', headers: as })).body.code).toBe('VALIDATION_FAILED');
  expect(
    (await call('get', '/api/v1/me/purchases', { headers: as })).body.purchases.map((p: { purchaseId: string }) => p.purchaseId),
  ).toContain(paid.body.purchaseId);
});

test('the waiting room: joins, places, admissions, the gate and the rate limit match their documented schemas', async () => {
  const join = '/api/v1/events/{eventId}/queue';
  const place = '/api/v1/events/{eventId}/queue/{queueId}';
  const first = await call('post', join, { params: { eventId: queuedId }, headers: { 'x-user-id': 'oas-q1' } });
  expect(first).toMatchObject({ status: 202, body: { status: 'ADMITTED', position: 0 } });
  const second = await call('post', join, { params: { eventId: queuedId }, headers: { 'x-user-id': 'oas-q2' } });
  expect(second).toMatchObject({ status: 202, body: { status: 'WAITING', position: 1 } });
  expect((await call('post', join, { params: { eventId: queuedId }, headers: { 'x-user-id': 'oas-q2' } })).status).toBe(202);
  const limited = await call('post', join, { params: { eventId: queuedId }, headers: { 'x-user-id': 'oas-q2' } });
  expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
  expect((await call('post', join, { params: { eventId }, headers: { 'x-user-id': 'oas-q3' } })).body.code).toBe('QUEUE_NOT_USED');
  expect((await call('post', join, { params: { eventId: queuedId } })).body.code).toBe('VALIDATION_FAILED');

  const admitted = await call('get', place, {
    params: { eventId: queuedId, queueId: first.body.queueId },
    headers: { 'x-user-id': 'oas-q1' },
  });
  expect(admitted.body.status).toBe('ADMITTED');
  expect(
    (await call('get', place, { params: { eventId: queuedId, queueId: second.body.queueId }, headers: { 'x-user-id': 'oas-q2' } })).body
      .status,
  ).toBe('WAITING');
  expect((await call('get', place, { params: { eventId: queuedId, queueId: 'nope' }, headers: { 'x-user-id': 'oas-q2' } })).body.code).toBe(
    'QUEUE_NOT_FOUND',
  );
  const purchases = '/api/v1/events/{eventId}/purchases';
  const buy = { zoneId: 'a', seats: [{ row: 'A', column: 1 }], userId: 'oas-q1' };
  expect((await call('post', purchases, { params: { eventId: queuedId }, body: buy })).body.code).toBe('ADMISSION_REQUIRED');
  const bought = await call('post', purchases, {
    params: { eventId: queuedId },
    body: buy,
    headers: { 'admission-token': admitted.body.admissionToken },
  });
  expect(bought.status).toBe(201);
  const ended = await call('get', place, {
    params: { eventId: queuedId, queueId: first.body.queueId },
    headers: { 'x-user-id': 'oas-q1' },
  });
  expect(ended.body).toMatchObject({ status: 'ENDED', reason: 'purchased' });
});

test('operations routes answer as documented', async () => {
  expect((await call('get', '/healthz')).status).toBe(200);
  expect([200, 503]).toContain((await call('get', '/readyz')).status);
  expect((await call('get', '/metrics')).status).toBe(200);
  expect((await call('get', '/openapi.json')).body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  expect((await call('get', '/api/v1/auth/config')).body).toEqual({ mode: 'declared', devTokens: false });
  expect((await call('post', '/bench/noop')).status).toBe(201);
  expect(
    (
      await call('post', '/api/v1/purchases/{purchaseId}/cancel', {
        params: { purchaseId: `${eventId}.a.AAAAAAAAAAAAAAAA` },
        body: { userId: 'oas-user' },
      })
    ).body.code,
  ).toBe('PURCHASE_NOT_FOUND');
  const unsigned = await call('post', '/api/v1/payments/webhook', {
    body: { id: 'evt_1', type: 'payment.succeeded', paymentId: 'pay_1' },
    headers: { 'payment-signature': 't=1,v1=00' },
  });
  expect(unsigned.body.code).toBe('WEBHOOK_SIGNATURE_INVALID');
  expect((await call('post', '/admin/events/{eventId}/reset', { params: { eventId } })).body.code).toBe('UNAUTHORIZED');
  expect(
    (await call('post', '/admin/events/{eventId}/reset', { params: { eventId }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
      .body,
  ).toEqual({ eventId, zones: 2 });
});

test('every documented route was called above (a new route gets its answers checked here)', () => {
  const documented = Object.entries(openApiDocument.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`));
  expect([...checked].sort()).toEqual(documented.sort());
});
