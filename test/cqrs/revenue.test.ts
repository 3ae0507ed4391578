import { CatalogStore } from '../../src/catalog/store';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { testStores } from './support';

/**
 * Revenue is what buyers paid: the prices recorded in their tickets. A price change in the
 * catalog after a sale changes what the next buyer pays, never the revenue of earlier sales.
 */
test('after a price change the money route and the sales totals still report the prices the tickets were sold at', async () => {
  const eventId = uid('Rev');
  const entry = testEntry({ eventId, zones: [{ zoneId: '1', priceCents: 5000 }] });
  const platform = await startTestPlatform(['api', 'projector']);
  const stores = testStores(platform.cfg);
  const cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  const buy = async (column: number) => {
    const res = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
      userId: 'payer',
      zoneId: '1',
      seats: [{ row: 'A', column }],
    });
    expect(res.status).toBe(201);
    return res.body.tickets[0].priceCents as number;
  };
  const money = () => http(platform.url, 'GET', `/api/v1/tickets/money/${entry.venue.venueId}/${eventId}`);
  try {
    expect([await buy(1), await buy(2)]).toEqual([5000, 5000]);

    // The operator raises the price; once the api sees it, the next buyer pays the new one.
    const raised = { ...entry, venue: { ...entry.venue, zones: [{ ...entry.venue.zones[0]!, priceCents: 9900 }] } };
    await new CatalogStore(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX).putEvent(raised);
    await waitFor(
      async () => (await http(platform.url, 'GET', `/api/v1/events/${eventId}`)).body.zones[0].priceCents === 9900,
      'the api to see the new price',
    );
    expect(await buy(3)).toBe(9900);

    const paid = 5000 + 5000 + 9900;
    const sales = await waitFor(
      async () => {
        const res = await http(platform.url, 'GET', `/api/v1/events/${eventId}/sales`);
        return res.body.totals?.sold === 3 ? res : undefined;
      },
      'the read model to hold the three tickets',
      30000,
    );
    expect(sales.body.totals).toMatchObject({ sold: 3, revenueCents: paid });
    expect(sales.body.zones[0]).toMatchObject({ zoneId: '1', priceCents: 9900, sold: 3, revenueCents: paid });
    const answer = await money();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ venueId: entry.venue.venueId, eventId, currency: 'USD', revenueCents: paid, revenue: '199.00' });
  } finally {
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await platform.stop();
  }
});
