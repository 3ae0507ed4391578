import type { CatalogEntry } from '../../src/catalog/model';
import { Inventory } from '../../src/inventory/inventory';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { deletePrefix, testPrefix } from './support/cluster';

/**
 * What the controller's catalog means to a buyer: the sales state and window of an Event
 * resource decide whether the API sells, and the catalog reads show it.
 */
describe('catalog API: sales state and window, catalog reads', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let prefix: string;
  const ids = {
    onSale: uid('OnSale'),
    sibling: uid('Sibling'),
    draft: uid('Draft'),
    closed: uid('Closed'),
    notYetOpen: uid('Early'),
    windowOver: uid('Late'),
  };
  const zone = { zoneId: 'z', rows: ['A', 'B'], seatCounts: [4, 4] };
  // Windows relative to now, so no date turns the test into a time bomb.
  const inAYear = new Date(Date.now() + 365 * 24 * 3600_000).toISOString();
  let entries: Record<keyof typeof ids, CatalogEntry>;

  beforeAll(async () => {
    prefix = testPrefix();
    platform = await startTestPlatform(['api'], { REDIS_KEY_PREFIX: prefix });
    const onSale = testEntry({ eventId: ids.onSale, zones: [zone], salesOpensAt: '2020-01-01T00:00:00Z', salesClosesAt: inAYear });
    entries = {
      onSale,
      // Same venue as onSale: the venue read lists both.
      sibling: { ...testEntry({ eventId: ids.sibling, zones: [zone] }), venue: onSale.venue },
      draft: testEntry({ eventId: ids.draft, zones: [zone], state: 'Draft' }),
      closed: testEntry({ eventId: ids.closed, zones: [zone], state: 'Closed' }),
      notYetOpen: testEntry({ eventId: ids.notYetOpen, zones: [zone], salesOpensAt: inAYear }),
      windowOver: testEntry({
        eventId: ids.windowOver,
        zones: [zone],
        salesOpensAt: '2019-01-01T00:00:00Z',
        salesClosesAt: '2020-01-01T00:00:00Z',
      }),
    };
    for (const e of Object.values(entries)) await seedTestEvent(platform.ctx.redis, prefix, e);
  });

  afterAll(async () => {
    await deletePrefix(platform.ctx.redis, prefix);
    await platform.stop();
  });

  const buy = (eventId: string, column = 1) =>
    http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'buyer', zoneId: 'z', seats: [{ row: 'A', column }] });
  const available = async (eventId: string) => (await new Inventory(platform.ctx.redis, prefix).zoneState(eventId, 'z'))?.available;

  test.each([
    ['a Draft event', 'EVENT_NOT_ON_SALE', 'draft'],
    ['a Closed event', 'EVENT_NOT_ON_SALE', 'closed'],
    ['an event whose sales window has not opened', 'SALES_WINDOW_CLOSED', 'notYetOpen'],
    ['an event whose sales window is over', 'SALES_WINDOW_CLOSED', 'windowOver'],
  ] as const)('POST /api/v1/events/{eventId}/purchases on %s: 409 %s, nothing sold', async (_what, code, key) => {
    const r = await buy(ids[key]);
    expect(r.status).toBe(409);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body).toMatchObject({ code, status: 409 });
    expect(await available(ids[key])).toBe(8);
  });

  test('the same purchase on an event on sale inside its window sells', async () => {
    const r = await buy(ids.onSale, 2);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ eventId: ids.onSale, zoneId: 'z', tickets: [expect.objectContaining({ row: 'A', column: 2 })] });
    expect(await available(ids.onSale)).toBe(7);
  });

  test('GET /api/v1/events?status=OnSale lists exactly the events in state OnSale', async () => {
    const onSale = await http(platform.url, 'GET', '/api/v1/events?status=OnSale');
    expect(onSale.status).toBe(200);
    expect(new Set(onSale.body.events.map((e: { eventId: string }) => e.eventId))).toEqual(
      new Set([ids.onSale, ids.sibling, ids.notYetOpen, ids.windowOver]),
    );
    const draft = await http(platform.url, 'GET', '/api/v1/events?status=Draft');
    expect(draft.body.events.map((e: { eventId: string }) => e.eventId)).toEqual([ids.draft]);
    const all = await http(platform.url, 'GET', '/api/v1/events');
    expect(all.body.events).toHaveLength(Object.keys(ids).length);
    expect(all.body.events.find((e: { eventId: string }) => e.eventId === ids.closed)).toMatchObject({
      state: 'Closed',
      venueName: entries.closed.venue.name,
      zoneCount: 1,
      capacity: 8,
    });
  });

  test('GET /api/v1/events/{eventId} shows the event, its venue and live zone availability; unknown ids are 404', async () => {
    const r = await http(platform.url, 'GET', `/api/v1/events/${ids.onSale}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      eventId: ids.onSale,
      state: 'OnSale',
      salesOpensAt: '2020-01-01T00:00:00Z',
      salesClosesAt: inAYear,
      venue: { venueId: entries.onSale.venue.venueId, name: entries.onSale.venue.name },
      zones: [{ zoneId: 'z', rows: 2, capacity: 8, available: await available(ids.onSale) }],
    });
    const missing = await http(platform.url, 'GET', `/api/v1/events/${uid('Nope')}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'EVENT_NOT_FOUND' });
  });

  test('GET /api/v1/venues/{venueId} shows the layout and the events held there; unknown ids are 404', async () => {
    const r = await http(platform.url, 'GET', `/api/v1/venues/${entries.onSale.venue.venueId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      venueId: entries.onSale.venue.venueId,
      name: entries.onSale.venue.name,
      zones: [expect.objectContaining({ zoneId: 'z', rows: ['A', 'B'], seatCounts: [4, 4] })],
    });
    expect(new Set(r.body.events)).toEqual(new Set([ids.onSale, ids.sibling]));
    const missing = await http(platform.url, 'GET', `/api/v1/venues/${uid('Nope')}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'VENUE_NOT_FOUND' });
  });
});
