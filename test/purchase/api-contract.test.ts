import { testEntry, seedTestEvent } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform, type HttpAnswer } from '../support/platform';
import { openApiDocument } from '../../src/http/openapi';
import { ReadModel } from '../../src/projector/read-model';
import { PROBLEMS } from '../../src/http/outcomes';
import { DynamoWriteModel } from '../../src/writer/store';

let platform: Awaited<ReturnType<typeof startTestPlatform>>;
const cleanups: (() => Promise<void>)[] = [];
const eventId = uid('Api');
const draftId = uid('Draft');
const closedWindowId = uid('Win');

beforeAll(async () => {
  // The projector serves the money route (revenue comes from the prices recorded in the tickets);
  // the writer lets a purchase found nowhere be 404 (it is not still on its way to DynamoDB).
  platform = await startTestPlatform(['api', 'projector', 'writer']);
  cleanups.push(async () => void (await new ReadModel(platform.ctx.mysql).deleteEvent(eventId)));
  cleanups.push(async () => void (await new DynamoWriteModel(platform.ctx.dynamo, platform.cfg.DYNAMODB_TABLE_PREFIX).dropEvent(eventId)));
  const { redis } = platform.ctx;
  const prefix = platform.cfg.REDIS_KEY_PREFIX;
  cleanups.push(
    await seedTestEvent(
      redis,
      prefix,
      testEntry({ eventId, perUserLimit: 4, zones: [{ zoneId: '7' }, { zoneId: 'tiny', rows: ['A'], seatCounts: [1] }] }),
    ),
  );
  cleanups.push(await seedTestEvent(redis, prefix, testEntry({ eventId: draftId, state: 'Draft' })));
  cleanups.push(await seedTestEvent(redis, prefix, testEntry({ eventId: closedWindowId, salesClosesAt: '2020-01-01T00:00:00Z' })));
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await platform.stop();
});

const post = (path: string, body?: unknown, headers?: Record<string, string>) => http(platform.url, 'POST', path, body, headers);
const get = (path: string) => http(platform.url, 'GET', path);

describe('seed-compatible routes', () => {
  test('POST /ticket with query parameters sells a seat once: 201 then 409', async () => {
    const q = `/ticket?venueId=V${eventId}&eventId=${eventId}&zoneId=7&row=C&column=12`;
    const first = await post(q);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ venueId: `V${eventId}`, eventId, zoneId: '7', row: 'C', column: 12, status: 'CONFIRMED' });
    expect(typeof first.body.ticketId).toBe('string');
    expect(Date.parse(first.body.createdOn)).not.toBeNaN();
    const second = await post(q);
    expect(second.status).toBe(409);
    expect(second.contentType).toContain('application/problem+json');
    expect(second.body).toMatchObject({ code: 'SEATS_TAKEN', status: 409, seats: [{ row: 'C', column: 12 }] });
  });

  test('the answers carry the same headers Express gave them: charset, exact Content-Length, no chunking', async () => {
    const q = `/ticket?venueId=V${eventId}&eventId=${eventId}&zoneId=7&row=C&column=20`;
    for (const [status, type] of [
      [201, 'application/json; charset=utf-8'],
      [409, 'application/problem+json; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${platform.url}${q}`, { method: 'POST' });
      const text = await res.text();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
      expect(res.headers.get('transfer-encoding')).toBeNull();
      expect(JSON.parse(text)).toMatchObject(status === 201 ? { row: 'C', column: 20 } : { code: 'SEATS_TAKEN', instance: q });
    }
  });

  test("the earliest prototype's names (event, zone) work too", async () => {
    const r = await post(`/ticket?event=${eventId}&zone=7&row=D&column=1`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ eventId, zoneId: '7', row: 'D', column: 1 });
  });

  test('POST /api/v1/tickets takes the column as a number or a string', async () => {
    const a = await post('/api/v1/tickets', { venueId: `V${eventId}`, eventId, zoneId: 7, row: 'E', column: '3' });
    expect(a.status).toBe(201);
    const b = await post('/api/v1/tickets', { eventId, zoneId: '7', row: 'E', column: 3 });
    expect(b.status).toBe(409);
  });

  test('a ticket is readable right after its 201; count and money follow the sale', async () => {
    const sold = await post('/api/v1/tickets', { eventId, zoneId: '7', row: 'F', column: 9, userId: 'reader' });
    expect(sold.status).toBe(201);
    const t = await get(`/api/v1/tickets/${sold.body.ticketId}`);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ ticketId: sold.body.ticketId, eventId, zoneId: '7', row: 'F', column: 9, userId: 'reader' });
    const count = await get(`/api/v1/tickets/count/${eventId}`);
    expect(count.status).toBe(200);
    const zone7 = count.body.zones.find((z: { zoneId: string }) => z.zoneId === '7');
    expect(zone7.soldCount).toBeGreaterThanOrEqual(1);
    // Revenue is the read model's, so it follows the sale by the projector's lag.
    const money = await waitFor(async () => {
      const m = await get(`/api/v1/tickets/money/V${eventId}/${eventId}`);
      return m.body.soldCount === count.body.total ? m : undefined;
    }, 'the money route to cover every ticket sold');
    expect(money.status).toBe(200);
    expect(money.body.revenueCents).toBe(count.body.total * 5000);
  });
});

describe('multi-seat purchases', () => {
  test('all or nothing: a request with one taken seat sells none of its seats', async () => {
    const ok = await post(`/api/v1/events/${eventId}/purchases`, {
      userId: 'u1',
      zoneId: '7',
      seats: [
        { row: 'K', column: 1 },
        { row: 'K', column: 2 },
      ],
    });
    expect(ok.status).toBe(201);
    expect(ok.body.tickets.map((t: { row: string; column: number }) => `${t.row}${t.column}`)).toEqual(['K1', 'K2']);
    const clash = await post(`/api/v1/events/${eventId}/purchases`, {
      userId: 'u2',
      zoneId: '7',
      seats: [
        { row: 'K', column: 3 },
        { row: 'K', column: 2 },
      ],
    });
    expect(clash.status).toBe(409);
    expect(clash.body.seats).toEqual([{ row: 'K', column: 2 }]);
    const map = await get(`/api/v1/events/${eventId}/zones/7/seats`);
    const bits = Buffer.from(map.body.sold.data, 'base64');
    const k3 = 10 * 30 + 2; // row K is the 11th row
    expect(bits[k3 >> 3]! & (0x80 >> (k3 & 7))).toBe(0);
  });

  test('the purchase is readable by id with its final state', async () => {
    const ok = await post(`/api/v1/events/${eventId}/purchases`, { userId: 'u3', zoneId: '7', seats: [{ row: 'L', column: 5 }] });
    const p = await waitFor(async () => {
      const r = await get(`/api/v1/purchases/${ok.body.purchaseId}`);
      return r.body?.status === 'CONFIRMED' ? r : undefined;
    }, 'the purchase to be confirmed');
    expect(p.body.tickets).toEqual([expect.objectContaining({ ticketId: ok.body.tickets[0].ticketId, row: 'L', column: 5 })]);
  });

  test('a sold-out zone is refused at once', async () => {
    expect(
      (await post(`/api/v1/events/${eventId}/purchases`, { userId: 'u4', zoneId: 'tiny', seats: [{ row: 'A', column: 1 }] })).status,
    ).toBe(201);
    const r = await post(`/api/v1/events/${eventId}/purchases`, { userId: 'u5', zoneId: 'tiny', seats: [{ row: 'A', column: 1 }] });
    expect(r).toMatchObject({ status: 409, body: { code: 'ZONE_SOLD_OUT' } });
  });
});

describe('errors are problem documents with a stable code', () => {
  const cases: [string, () => Promise<HttpAnswer>, number, string][] = [
    ['malformed JSON', () => post('/api/v1/tickets', '{"eventId":', { 'content-type': 'application/json' }), 400, 'MALFORMED_JSON'],
    ['missing fields', () => post('/api/v1/tickets', { eventId }), 400, 'VALIDATION_FAILED'],
    ['wrong types', () => post('/api/v1/tickets', { eventId, zoneId: '7', row: 5, column: 'x' }), 400, 'VALIDATION_FAILED'],
    ['row outside the layout', () => post('/api/v1/tickets', { eventId, zoneId: '7', row: 'ZZ', column: 1 }), 400, 'SEAT_OUTSIDE_LAYOUT'],
    [
      'column outside the layout',
      () => post('/api/v1/tickets', { eventId, zoneId: '7', row: 'A', column: 31 }),
      400,
      'SEAT_OUTSIDE_LAYOUT',
    ],
    ['column zero', () => post(`/ticket?eventId=${eventId}&zoneId=7&row=A&column=0`), 400, 'SEAT_OUTSIDE_LAYOUT'],
    [
      'duplicate seats',
      () =>
        post(`/api/v1/events/${eventId}/purchases`, {
          userId: 'u',
          zoneId: '7',
          seats: [
            { row: 'A', column: 2 },
            { row: 'A', column: 2 },
          ],
        }),
      400,
      'DUPLICATE_SEAT',
    ],
    [
      'more seats than the limit',
      () =>
        post(`/api/v1/events/${eventId}/purchases`, {
          userId: 'u',
          zoneId: '7',
          seats: [1, 2, 3, 4, 5].map((c) => ({ row: 'B', column: c })),
        }),
      400,
      'TOO_MANY_SEATS',
    ],
    ['no seats', () => post(`/api/v1/events/${eventId}/purchases`, { userId: 'u', zoneId: '7', seats: [] }), 400, 'VALIDATION_FAILED'],
    ['unknown event', () => post('/api/v1/tickets', { eventId: 'NoSuchEvent', zoneId: '7', row: 'A', column: 1 }), 404, 'EVENT_NOT_FOUND'],
    ['unknown zone', () => post('/api/v1/tickets', { eventId, zoneId: '99', row: 'A', column: 1 }), 404, 'ZONE_NOT_FOUND'],
    ['wrong venue', () => post(`/ticket?venueId=Elsewhere&eventId=${eventId}&zoneId=7&row=A&column=1`), 404, 'VENUE_NOT_FOUND'],
    ['event not on sale', () => post('/api/v1/tickets', { eventId: draftId, zoneId: '1', row: 'A', column: 1 }), 409, 'EVENT_NOT_ON_SALE'],
    [
      'outside the sales window',
      () => post('/api/v1/tickets', { eventId: closedWindowId, zoneId: '1', row: 'A', column: 1 }),
      409,
      'SALES_WINDOW_CLOSED',
    ],
    [
      'oversized body',
      () => post('/api/v1/tickets', JSON.stringify({ eventId, pad: 'x'.repeat(40000) }), { 'content-type': 'application/json' }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['not JSON', () => post('/api/v1/tickets', 'eventId=1', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown ticket', () => get('/api/v1/tickets/nope'), 404, 'TICKET_NOT_FOUND'],
    ['unknown purchase', () => get(`/api/v1/purchases/${eventId}.7.AAAAAAAAAAAAAAAA`), 404, 'PURCHASE_NOT_FOUND'],
    ['unknown route', () => get('/api/v1/nothing-here'), 404, 'NOT_FOUND'],
    ['admin without token', () => post(`/admin/events/${eventId}/reset`), 401, 'UNAUTHORIZED'],
    [
      'buyer id header with a space',
      () => post('/api/v1/tickets', { eventId, zoneId: '7', row: 'A', column: 3 }, { 'x-user-id': 'John Doe' }),
      400,
      'VALIDATION_FAILED',
    ],
    ['ticket id of 3,000 characters', () => get(`/api/v1/tickets/${'x'.repeat(3000)}`), 404, 'TICKET_NOT_FOUND'],
  ];
  test.each(cases)('%s', async (_name, call, status, code) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body).toMatchObject({ status, code, title: PROBLEMS[code]!.title });
    expect(typeof r.body.detail).toBe('string');
  });

  test('hostile and malformed inputs on every route never yield a 5xx', async () => {
    const hostile: unknown[] = [
      null,
      [],
      'str',
      42,
      true,
      {},
      { eventId: null },
      { eventId: { $gt: '' } },
      { eventId: '../../etc/passwd', zoneId: 1, row: 'A', column: 1 },
      { eventId, zoneId: -1, row: 'A', column: 1 },
      { eventId, zoneId: Number.POSITIVE_INFINITY, row: 'A', column: 1 },
      { eventId, zoneId: '7', row: 'A'.repeat(5000), column: 1 },
      { eventId, zoneId: '7', row: 'A', column: Number.MAX_SAFE_INTEGER },
      { eventId, zoneId: '7', row: 'A', column: -5 },
      { eventId, zoneId: '7', row: 'A', column: 1.5 },
      { userId: 'u', zoneId: '7', seats: 'all' },
      { userId: 'u', zoneId: '7', seats: [null] },
      { userId: 'u', zoneId: '7', seats: [{ row: 'A', column: 1, extra: 1 }] },
      { userId: '', zoneId: '7', seats: [{ row: 'A', column: 1 }] },
      { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } },
    ];
    const raw = [
      '',
      '{',
      '{"a":1}}',
      '\u0000',
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
      '{"eventId":"\\ud800"}',
    ];
    const paths = [
      '/api/v1/tickets',
      `/api/v1/events/${eventId}/purchases`,
      '/api/v1/events/%00/purchases',
      '/api/v1/events/..%2f..%2f/purchases',
      '/ticket',
      '/ticket?eventId=&zoneId=&row=&column=',
      `/ticket?eventId=${eventId}&eventId=x&zoneId=7&row=A&column=1`,
      `/ticket?eventId=${eventId}&zoneId=7&row=A&column=1e3`,
    ];
    const gets = [
      '/api/v1/tickets/%FF',
      '/api/v1/tickets/count/%20',
      '/api/v1/tickets/money/a/b',
      '/api/v1/purchases/..',
      `/api/v1/events/${eventId}/zones/%00/seats`,
      '/api/v1/events/x'.repeat(50),
      '/api/v1/venues/%E0%A4%A',
    ];
    const statuses: number[] = [];
    for (const p of paths) {
      for (const body of hostile) statuses.push((await post(p, JSON.stringify(body), { 'content-type': 'application/json' })).status);
      for (const body of raw) statuses.push((await post(p, body, { 'content-type': 'application/json' })).status);
    }
    for (const g of gets) statuses.push((await get(g)).status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s < 400 && s !== 201)).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  const body = () => ({ userId: 'idem-user', zoneId: '7', seats: [{ row: 'P', column: 1 }] });
  test('the same key and body replay the original answer; another body gets 422', async () => {
    const key = uid('k');
    const first = await post(`/api/v1/events/${eventId}/purchases`, body(), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const again = await post(`/api/v1/events/${eventId}/purchases`, body(), { 'idempotency-key': key });
    expect(again).toEqual(first);
    const other = await post(
      `/api/v1/events/${eventId}/purchases`,
      { ...body(), seats: [{ row: 'P', column: 2 }] },
      { 'idempotency-key': key },
    );
    expect(other).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  test('keys are scoped to the buyer', async () => {
    const key = uid('k');
    const a = await post(
      `/api/v1/events/${eventId}/purchases`,
      { userId: 'alice', zoneId: '7', seats: [{ row: 'Q', column: 1 }] },
      { 'idempotency-key': key },
    );
    const b = await post(
      `/api/v1/events/${eventId}/purchases`,
      { userId: 'bob', zoneId: '7', seats: [{ row: 'Q', column: 1 }] },
      { 'idempotency-key': key },
    );
    expect(a.status).toBe(201);
    expect(b).toMatchObject({ status: 409, body: { code: 'SEATS_TAKEN' } });
  });

  test('a repeat while the first is still in flight gets 409', async () => {
    const key = uid('k');
    const [x, y] = await Promise.all([
      post(`/api/v1/events/${eventId}/purchases`, { ...body(), seats: [{ row: 'R', column: 1 }] }, { 'idempotency-key': key }),
      post(`/api/v1/events/${eventId}/purchases`, { ...body(), seats: [{ row: 'R', column: 1 }] }, { 'idempotency-key': key }),
    ]);
    const statuses = [x.status, y.status].sort();
    expect(statuses[0]).toBe(201);
    // The second either saw the first in flight (409 in flight) or finished (replayed 201).
    const second = x.status === 201 && y.status === 201 ? 'replayed' : [x, y].find((r) => r.status === 409)?.body.code;
    expect(['replayed', 'IDEMPOTENCY_IN_FLIGHT']).toContain(second);
  });

  test('a conflict answer is replayed too (4xx is stored)', async () => {
    const key = uid('k');
    const first = await post(
      `/api/v1/events/${eventId}/purchases`,
      { userId: 'c', zoneId: '7', seats: [{ row: 'K', column: 1 }] },
      { 'idempotency-key': key },
    );
    expect(first.status).toBe(409);
    const again = await post(
      `/api/v1/events/${eventId}/purchases`,
      { userId: 'c', zoneId: '7', seats: [{ row: 'K', column: 1 }] },
      { 'idempotency-key': key },
    );
    expect(again).toEqual(first);
  });
});

describe('OpenAPI document', () => {
  test('lists exactly the routes the server has', async () => {
    const doc = await get('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(openApiDocument.paths))
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${p}`);
    const served = new Set<string>();
    // Express's router internals: the layers of the app and its mounted routers.
    interface Layer {
      route?: { path: string; methods: Record<string, boolean> };
      handle?: { stack?: Layer[] };
    }
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route)
          for (const m of Object.keys(layer.route.methods))
            served.add(`${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
        else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk((platform.server as unknown as { _events: { request: { router: { stack: Layer[] } } } })._events.request.router.stack);
    expect([...served].sort()).toEqual([...documented].sort());
  });
});
