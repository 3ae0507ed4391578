/** @jest-environment ./test/controller/support/kube-environment.ts */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CatalogStore } from '../../src/catalog/store';
import { FINALIZER } from '../../src/controller/cluster-controller';
import { Inventory } from '../../src/inventory/inventory';
import type { ScriptedRedis } from '../../src/commands/scripts';
import { waitFor } from '../support/env';
import { CORE_EVENTS, EVENTS, startFakeKube, VENUES, type FakeKubeApiServer } from '../support/fake-kube';
import { http, startTestPlatform, testRedis } from '../support/platform';
import {
  clusterConfig,
  condition,
  deletePrefix,
  eventResource,
  NS,
  sellSeat,
  startTestController,
  testPrefix,
  venueResource,
  type StatusConditionView,
  type TestController,
} from './support/cluster';
import { forgetEvents, mirroredEvent } from './support/stores';

// The controller requires the client like production does; this hands it the natively loaded one.
jest.mock('@kubernetes/client-node', () => (globalThis as { __kubeClientNode?: unknown }).__kubeClientNode);

const ZONE = { zoneId: 'a', rows: ['A', 'B'], seatsPerRow: 5 };

describe('cluster mode (fake Kubernetes API server, real Redis)', () => {
  let fake: FakeKubeApiServer;
  let redis: ScriptedRedis;
  let prefix: string;
  let controller: TestController | undefined;
  let inventory: Inventory;
  let catalog: CatalogStore;

  beforeEach(async () => {
    fake = await startFakeKube();
    redis = testRedis();
    prefix = testPrefix();
    inventory = new Inventory(redis, prefix);
    catalog = new CatalogStore(redis, prefix);
  });

  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
    await fake.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const statusPatches = () => fake.count('PATCH', /\/status$/);
  const eventObj = (name: string) => fake.get(EVENTS, NS, name);

  async function applyAndWaitSeeded(venue: string, eventName: string, eventId: string) {
    fake.apply(venueResource(venue, `V${eventId}`, [ZONE]));
    fake.apply(eventResource(eventName, eventId, venue));
    await waitFor(() => condition(eventObj(eventName), 'Seeded')?.status === 'True', `${eventName} Seeded`);
  }

  test('an applied Venue and Event are reconciled: inventory, catalog entry, finalizer, status through /status', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await applyAndWaitSeeded('hall', 'gala', 'EvGala');

    const zone = await inventory.zoneState('EvGala', 'a');
    expect(zone).toMatchObject({ capacity: 10, available: 10 });
    const entry = await catalog.getEvent('EvGala');
    expect(entry).toMatchObject({ source: `cluster:${NS}`, event: { eventId: 'EvGala', state: 'OnSale' }, venue: { venueId: 'VEvGala' } });

    const ev = eventObj('gala')!;
    expect(ev.metadata.finalizers).toEqual([FINALIZER]);
    expect(ev.status).toMatchObject({ observedGeneration: 1, seatsSold: 0, seatsAvailable: 10 });
    expect(Object.fromEntries((ev.status?.conditions as StatusConditionView[]).map((c) => [c.type, c.status]))).toEqual({
      Seeded: 'True',
      OnSale: 'True',
      SoldOut: 'False',
      Degraded: 'False',
    });
    expect(fake.count('PATCH', new RegExp(`/namespaces/${NS}/events/gala/status$`))).toBeGreaterThanOrEqual(1);
    await waitFor(() => condition(fake.get(VENUES, NS, 'hall'), 'Degraded')?.status === 'False', 'venue status');
    await waitFor(
      () =>
        fake.list(CORE_EVENTS).some((e) => e.reason === 'OnSale' && (e.involvedObject as { name?: string } | undefined)?.name === 'gala'),
      'an OnSale Kubernetes Event',
    );
  });

  test('re-applying the same resources changes nothing: no status churn, sold seats stay sold', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await applyAndWaitSeeded('hall', 'gala', 'EvSame');
    await sellSeat(redis, prefix, 'EvSame', ZONE, 'B', 3);
    // The periodic resync picks the sale up.
    await waitFor(() => eventObj('gala')?.status?.seatsSold === 1, 'seatsSold 1 in the status');
    const before = { patches: statusPatches(), event: eventObj('gala')!, entry: await catalog.getEvent('EvSame') };

    const reapplied = fake.apply(eventResource('gala', 'EvSame', 'hall'));
    fake.apply(venueResource('hall', 'VEvSame', [ZONE]));
    expect(reapplied.metadata.resourceVersion).toBe(before.event.metadata.resourceVersion);

    // Two full resyncs and a fresh controller (new informers, a reconcile of everything) later:
    const n = controller.reconciles();
    await waitFor(() => controller!.reconciles() >= n + 2, 'two more reconciles');
    await controller.stop();
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await waitFor(() => controller!.reconciles() >= 2, 'the new controller reconciled');

    expect(statusPatches()).toBe(before.patches);
    const after = eventObj('gala')!;
    expect(after.status).toEqual(before.event.status);
    expect(after.metadata.resourceVersion).toBe(before.event.metadata.resourceVersion);
    expect(await inventory.zoneState('EvSame', 'a')).toMatchObject({ capacity: 10, available: 9 });
    expect(await catalog.getEvent('EvSame')).toEqual(before.entry);
  });

  test('a layout change after sales is refused and reported as Degraded; the sold seat and old layout stay', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await applyAndWaitSeeded('hall', 'gala', 'EvLayout');
    await sellSeat(redis, prefix, 'EvLayout', ZONE, 'A', 1);

    fake.apply(venueResource('hall', 'VEvLayout', [{ ...ZONE, seatsPerRow: 8 }]));
    const degraded = await waitFor(() => {
      const c = condition(eventObj('gala'), 'Degraded');
      return c?.status === 'True' ? c : undefined;
    }, 'Degraded condition');
    expect(degraded.reason).toBe('LayoutChangeRefused');
    expect(await inventory.zoneState('EvLayout', 'a')).toMatchObject({ capacity: 10, available: 9 });
    expect((await catalog.getEvent('EvLayout'))?.venue.zones[0]?.seatCounts).toEqual([5, 5]);
    await waitFor(
      () => fake.list(CORE_EVENTS).some((e) => e.type === 'Warning' && e.reason === 'LayoutChangeRefused'),
      'a Warning Kubernetes Event',
    );
  });

  test('an invalid resource is skipped and reported Degraded; its event keeps its inventory until fixed', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await applyAndWaitSeeded('hall', 'gala', 'EvInvalid');
    const seeded = condition(eventObj('gala'), 'Seeded')!;

    fake.apply(eventResource('gala', 'EvInvalid', 'hall', { perUserLimit: 500 }));
    const c = await waitFor(() => {
      const d = condition(eventObj('gala'), 'Degraded');
      return d?.status === 'True' ? d : undefined;
    }, 'Degraded InvalidSpec');
    expect(c).toMatchObject({ reason: 'InvalidSpec' });
    expect(c.message).toMatch(/perUserLimit/);
    expect(condition(eventObj('gala'), 'Seeded')).toEqual(seeded);
    expect(await catalog.getEvent('EvInvalid')).toBeDefined();
    expect(await inventory.zoneExists('EvInvalid', 'a')).toBe(true);

    fake.apply(eventResource('gala', 'EvInvalid', 'hall', { perUserLimit: 5 }));
    await waitFor(() => condition(eventObj('gala'), 'Degraded')?.status === 'False', 'Degraded cleared after the fix');
    expect((await catalog.getEvent('EvInvalid'))?.event.perUserLimit).toBe(5);
  });

  test('an invalid Venue and a duplicate eventId are reported on the resources concerned', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    const broken = venueResource('broken', 'VBroken', [ZONE]);
    (broken.spec.zones[0] as Record<string, unknown>).seatCounts = [5, 5]; // and seatsPerRow: one too many
    fake.apply(broken);
    fake.apply(eventResource('orphan', 'EvOrphan', 'broken'));
    fake.apply(venueResource('hall', 'VHall', [ZONE]));
    fake.apply(eventResource('original', 'EvDup', 'hall'));
    await waitFor(() => condition(eventObj('original'), 'Seeded')?.status === 'True', 'the original seeded');
    fake.apply(eventResource('copycat', 'EvDup', 'hall', { perUserLimit: 1 }));

    const venueDegraded = await waitFor(() => condition(fake.get(VENUES, NS, 'broken'), 'Degraded'), 'the Venue reported');
    await waitFor(() => condition(eventObj('orphan'), 'Seeded'), 'the orphan reported');
    expect(venueDegraded).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: expect.stringMatching(/seatsPerRow or seatCounts/),
    });
    expect(condition(eventObj('orphan'), 'Seeded')).toMatchObject({
      status: 'False',
      reason: 'VenueInvalid',
      message: expect.stringMatching(/^Venue broken is invalid/),
    });
    expect(await inventory.zoneExists('EvOrphan', 'a')).toBe(false);
    const dup = await waitFor(() => {
      const c = condition(eventObj('copycat'), 'Degraded');
      return c?.status === 'True' ? c : undefined;
    }, 'the duplicate reported');
    expect(dup).toMatchObject({ status: 'True', reason: 'DuplicateId', message: expect.stringMatching(/events\/shows\/original/) });
    expect((await catalog.getEvent('EvDup'))?.event).toMatchObject({ resourceName: 'original', perUserLimit: 4 });
  });

  test('cluster-wide (WATCH_NAMESPACE empty): resources of every namespace, source cluster:*', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix, { WATCH_NAMESPACE: '' }));
    const inNs = <T extends { metadata: { namespace: string } }>(r: T, namespace: string) => ({
      ...r,
      metadata: { ...r.metadata, namespace },
    });
    fake.apply(inNs(venueResource('hall', 'VEast', [ZONE]), 'east'));
    fake.apply(inNs(eventResource('gala', 'EvEast', 'hall'), 'east'));
    fake.apply(inNs(venueResource('hall', 'VWest', [ZONE]), 'west'));
    fake.apply(inNs(eventResource('gala', 'EvWest', 'hall'), 'west'));
    await waitFor(
      () =>
        condition(fake.get(EVENTS, 'east', 'gala'), 'OnSale')?.status === 'True' &&
        condition(fake.get(EVENTS, 'west', 'gala'), 'OnSale')?.status === 'True',
      'both namespaces reconciled',
    );
    expect(await catalog.getEvent('EvEast')).toMatchObject({ source: 'cluster:*', venue: { venueId: 'VEast' } });
    expect(await catalog.getEvent('EvWest')).toMatchObject({ source: 'cluster:*', venue: { venueId: 'VWest' } });
    expect(fake.requests.some((r) => r.path === '/apis/ticketing.dev/v1alpha1/events' && r.query.watch === 'true')).toBe(true);
    expect(fake.get('coordination.k8s.io/v1/leases', 'default', 'ticketing-controller')?.spec?.holderIdentity).toBe(controller.identity);
  });

  test('deleting Events: the finalizer holds them until the catalog entry is gone; unsold inventory is deleted, sold inventory kept', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    fake.apply(venueResource('hall', 'VHall', [ZONE]));
    fake.apply(eventResource('unsold', 'EvUnsold', 'hall'));
    fake.apply(eventResource('sold', 'EvSold', 'hall'));
    await waitFor(
      () => condition(eventObj('unsold'), 'Seeded')?.status === 'True' && condition(eventObj('sold'), 'Seeded')?.status === 'True',
      'both seeded',
    );
    await sellSeat(redis, prefix, 'EvSold', ZONE, 'A', 2);

    const marked = fake.delete(EVENTS, NS, 'unsold');
    expect(marked.metadata.deletionTimestamp).toBeDefined(); // held by the finalizer
    fake.delete(EVENTS, NS, 'sold');
    await waitFor(() => !eventObj('unsold') && !eventObj('sold'), 'both Event resources gone');

    expect(await catalog.getEvent('EvUnsold')).toBeUndefined();
    expect(await inventory.zoneExists('EvUnsold', 'a')).toBe(false);
    expect(await catalog.getEvent('EvSold')).toBeUndefined();
    expect(await inventory.zoneState('EvSold', 'a')).toMatchObject({ capacity: 10, available: 9 });
  });

  test('a forced 410 Gone makes the informers relist, and reconciling goes on', async () => {
    controller = await startTestController(fake, redis, clusterConfig(prefix));
    await applyAndWaitSeeded('hall', 'gala', 'EvGone');
    const lists = () =>
      fake.requests.filter((r) => r.method === 'GET' && /\/(venues|events)$/.test(r.path) && r.query.watch !== 'true').length;
    await waitFor(() => fake.openWatches(EVENTS) === 1 && fake.openWatches(VENUES) === 1, 'both watches open');
    const listsBefore = lists();

    expect(fake.expireWatches()).toBe(2);
    await waitFor(
      () => lists() >= listsBefore + 2 && fake.openWatches(EVENTS) === 1 && fake.openWatches(VENUES) === 1,
      'relist and new watches',
    );

    fake.apply(eventResource('encore', 'EvEncore', 'hall'));
    await waitFor(() => condition(eventObj('encore'), 'OnSale')?.status === 'True', 'the event applied after the relist is reconciled');
    expect(await inventory.zoneState('EvEncore', 'a')).toMatchObject({ capacity: 10 });
  });

  test('through the platform (CONTROLLER_SOURCE=cluster, KUBECONFIG): an applied Event is sellable over the API', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeconfig-'));
    const kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, fake.kubeConfigYaml());
    const cfg = clusterConfig(prefix);
    const platform = await startTestPlatform(['controller', 'api'], {
      REDIS_KEY_PREFIX: prefix,
      CONTROLLER_SOURCE: 'cluster',
      WATCH_NAMESPACE: NS,
      KUBECONFIG: kubeconfig,
      LEADER_ELECTION_LEASE_DURATION_SECONDS: String(cfg.LEADER_ELECTION_LEASE_DURATION_SECONDS),
      LEADER_ELECTION_RENEW_DEADLINE_SECONDS: String(cfg.LEADER_ELECTION_RENEW_DEADLINE_SECONDS),
      LEADER_ELECTION_RETRY_PERIOD_SECONDS: String(cfg.LEADER_ELECTION_RETRY_PERIOD_SECONDS),
    });
    try {
      fake.apply(venueResource('hall', 'VPlat', [ZONE]));
      fake.apply(eventResource('gala', 'EvPlat', 'hall'));
      const bought = await waitFor(
        async () => {
          const r = await http(platform.url, 'POST', '/api/v1/events/EvPlat/purchases', {
            zoneId: 'a',
            userId: 'u1',
            seats: [{ row: 'A', column: 4 }],
          });
          return r.status === 201 ? r : undefined;
        },
        'a purchase on the applied event',
        15000,
        200,
      );
      expect(bought.body.tickets).toEqual([expect.objectContaining({ row: 'A', column: 4 })]);
      // The role's reconcile deps mirror the catalog into MySQL in cluster mode too.
      expect(await mirroredEvent(platform.ctx, 'EvPlat')).toMatchObject({ state: 'OnSale', source: `cluster:${NS}` });
      await waitFor(() => condition(eventObj('gala'), 'Seeded')?.status === 'True', 'status written');
      const ready = await http(platform.url, 'GET', '/readyz');
      expect(ready.status).toBe(200);
    } finally {
      await forgetEvents(platform.ctx, [{ eventId: 'EvPlat', venueId: 'VPlat', zoneIds: ['a'] }]);
      await platform.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
