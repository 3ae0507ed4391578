import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CatalogStore } from '../../src/catalog/store';
import { Inventory } from '../../src/inventory/inventory';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { deletePrefix, eventResource, testPrefix, venueResource } from './support/cluster';
import { forgetEvents, mirroredEvent } from './support/stores';

/** The controller's file source (CONTROLLER_SOURCE=file): a folder of Venue/Event YAML. */
describe('file mode: a SEEDS_DIR folder reconciled on every change', () => {
  let dir: string;
  let prefix: string;
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let inventory: Inventory;
  let catalog: CatalogStore;
  const venueId = uid('V');
  const created: string[] = [];

  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  const writeEvent = (file: string, name: string, eventId: string) => {
    created.push(eventId);
    return writeFile(path.join(dir, file), doc(eventResource(name, eventId, 'hall')));
  };
  const buy = (eventId: string, row: string, column: number) =>
    http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId: 'fan', zoneId: 'a', seats: [{ row, column }] });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'seeds-'));
    prefix = testPrefix();
    await writeFile(path.join(dir, 'hall.yaml'), doc(venueResource('hall', venueId)));
    await writeEvent('first.yaml', 'first', uid('EvFirst'));
    // The writer keeps the write model caught up: while it lags, new zones wait (they could be lost ones).
    platform = await startTestPlatform(['controller', 'writer', 'api'], { SEEDS_DIR: dir, REDIS_KEY_PREFIX: prefix });
    inventory = new Inventory(platform.ctx.redis, prefix);
    catalog = new CatalogStore(platform.ctx.redis, prefix);
  });

  afterAll(async () => {
    await forgetEvents(
      platform.ctx,
      created.map((eventId) => ({ eventId, venueId, zoneIds: ['a'] })),
    );
    await deletePrefix(platform.ctx.redis, prefix);
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a new event file becomes sellable through the API within seconds', async () => {
    const eventId = uid('EvNew');
    const writtenAt = Date.now();
    await writeEvent('new.yaml', 'newshow', eventId);
    const sold = await waitFor(
      async () => {
        const r = await buy(eventId, 'A', 1);
        return r.status === 201 ? r : undefined;
      },
      'a 201 on the new event',
      10000,
      100,
    );
    expect(sold.body.tickets).toEqual([expect.objectContaining({ row: 'A', column: 1 })]);
    expect(Date.now() - writtenAt).toBeLessThan(10000);
    expect(await catalog.getEvent(eventId)).toMatchObject({ source: `file:${dir}`, venue: { venueId } });
    expect(await mirroredEvent(platform.ctx, eventId)).toMatchObject({ state: 'OnSale', source: `file:${dir}` });
  });

  test('re-applying a seed file changes nothing: the sold seat stays sold, the catalog entry is unchanged', async () => {
    const eventId = uid('EvKeep');
    await writeEvent('keep.yaml', 'keep', eventId);
    await waitFor(async () => (await buy(eventId, 'B', 2)).status === 201, 'a sale on the event', 10000, 100);
    const entryBefore = await catalog.getEvent(eventId);

    await writeEvent('keep.yaml', 'keep', eventId);
    // A marker file written after the re-apply: once it is sellable, a reconcile has read both.
    const marker = uid('EvMarker');
    await writeEvent('marker.yaml', 'marker', marker);
    await waitFor(
      async () => (await inventory.zoneExists(marker, 'a')) && (await catalog.getEvent(marker)),
      'the marker reconciled',
      10000,
    );

    expect(await catalog.getEvent(eventId)).toEqual(entryBefore);
    expect(await inventory.zoneState(eventId, 'a')).toMatchObject({ capacity: 10, available: 9 });
    const again = await buy(eventId, 'B', 2);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'SEATS_TAKEN' });
  });

  test("deleting an unsold event's file removes its inventory and catalog entry; a sold one keeps its inventory", async () => {
    const unsold = uid('EvUnsold');
    const sold = uid('EvSold');
    await writeEvent('unsold.yaml', 'unsold', unsold);
    await writeEvent('sold.yaml', 'sold', sold);
    await waitFor(
      async () => (await inventory.zoneExists(unsold, 'a')) && (await buy(sold, 'A', 5)).status === 201,
      'both reconciled, one sold',
      10000,
      100,
    );

    await unlink(path.join(dir, 'unsold.yaml'));
    await unlink(path.join(dir, 'sold.yaml'));
    await waitFor(
      async () => !(await catalog.getEvent(unsold)) && !(await inventory.zoneExists(unsold, 'a')),
      'the unsold event and its inventory removed',
      10000,
    );
    await waitFor(async () => !(await catalog.getEvent(sold)), 'the sold event removed from the catalog', 10000);
    // reconcile removes the catalog entry first, then (never sold) the inventory: one pass later it still stands.
    const marker = uid('EvAfterDelete');
    await writeEvent('after.yaml', 'afterdelete', marker);
    await waitFor(() => catalog.getEvent(marker), 'a later reconcile', 10000);
    expect(await inventory.zoneState(sold, 'a')).toMatchObject({ capacity: 10, available: 9 });
    await waitFor(async () => (await http(platform.url, 'GET', `/api/v1/events/${unsold}`)).status === 404, 'the API forgets the event');
    await inventory.deleteZone(sold, 'a');
  });
});
