/** @jest-environment ./test/controller/support/kube-environment.ts */
import { waitFor } from '../support/env';
import { EVENTS, LEASES, nativeKubeClient, startFakeKube, type FakeKubeApiServer } from '../support/fake-kube';
import { eventResource, NS } from './support/cluster';

/**
 * The fake API server answers the unmodified client the way a real API server would, for the
 * calls the controller makes: if these drift, the cluster-mode tests prove nothing.
 */
describe('the fake Kubernetes API server, driven by the real @kubernetes/client-node', () => {
  const k8s = nativeKubeClient();
  let fake: FakeKubeApiServer;
  const group = 'ticketing.dev';
  const version = 'v1alpha1';
  const plural = 'events';

  beforeEach(async () => {
    fake = await startFakeKube(50);
  });
  afterEach(() => fake.close());

  const customApi = () => fake.kubeConfig(k8s).makeApiClient(k8s.CustomObjectsApi);
  const mergePatch = () => k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (err: { code?: number }) => err.code,
    );

  test('create, optimistic concurrency (409), generation on spec changes only, status only through /status', async () => {
    const api = customApi();
    const created = await api.createNamespacedCustomObject({
      group,
      version,
      namespace: NS,
      plural,
      body: eventResource('gala', 'EvA', 'hall'),
    });
    expect(created.metadata).toMatchObject({ generation: 1, namespace: NS, name: 'gala' });
    expect(
      await codeOf(api.createNamespacedCustomObject({ group, version, namespace: NS, plural, body: eventResource('gala', 'EvA', 'hall') })),
    ).toBe(409);

    const stale = { ...created, spec: { ...created.spec, perUserLimit: 2 } };
    const replaced = await api.replaceNamespacedCustomObject({ group, version, namespace: NS, plural, name: 'gala', body: stale });
    expect(replaced.metadata.generation).toBe(2);
    expect(await codeOf(api.replaceNamespacedCustomObject({ group, version, namespace: NS, plural, name: 'gala', body: stale }))).toBe(409);

    const withStatus = await api.patchNamespacedCustomObjectStatus(
      { group, version, namespace: NS, plural, name: 'gala', body: { status: { seatsSold: 3 } } },
      mergePatch(),
    );
    expect(withStatus.status).toEqual({ seatsSold: 3 });
    expect(withStatus.metadata.generation).toBe(2);
    expect(Number(withStatus.metadata.resourceVersion)).toBeGreaterThan(Number(replaced.metadata.resourceVersion));
    // Status sent to the main resource is ignored, as with a status subresource.
    const ignored = await api.patchNamespacedCustomObject(
      { group, version, namespace: NS, plural, name: 'gala', body: { status: { seatsSold: 99 } } },
      mergePatch(),
    );
    expect(ignored.status).toEqual({ seatsSold: 3 });
    expect(ignored.metadata.resourceVersion).toBe(withStatus.metadata.resourceVersion);
  });

  test('deletion waits for finalizers; none can be added meanwhile; removing the last one deletes', async () => {
    const api = customApi();
    const created = await api.createNamespacedCustomObject({
      group,
      version,
      namespace: NS,
      plural,
      body: { ...eventResource('gala', 'EvB', 'hall'), metadata: { name: 'gala', namespace: NS, finalizers: ['x/y'] } },
    });
    const marked = await api.deleteNamespacedCustomObject({ group, version, namespace: NS, plural, name: 'gala' });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.generation).toBe(created.metadata.generation + 1);
    expect(
      await codeOf(
        api.patchNamespacedCustomObject(
          { group, version, namespace: NS, plural, name: 'gala', body: { metadata: { finalizers: ['x/y', 'a/b'] } } },
          mergePatch(),
        ),
      ),
    ).toBe(422);
    expect(
      await codeOf(
        api.patchNamespacedCustomObject(
          {
            group,
            version,
            namespace: NS,
            plural,
            name: 'gala',
            body: { metadata: { finalizers: [], resourceVersion: created.metadata.resourceVersion } },
          },
          mergePatch(),
        ),
      ),
    ).toBe(409);
    await api.patchNamespacedCustomObject(
      { group, version, namespace: NS, plural, name: 'gala', body: { metadata: { finalizers: [] } } },
      mergePatch(),
    );
    expect(fake.get(EVENTS, NS, 'gala')).toBeUndefined();
  });

  test('watch: resume from a resourceVersion, BOOKMARK events on request, ERROR 410 for a compacted version', async () => {
    const first = fake.apply(eventResource('one', 'EvOne', 'hall'));
    fake.apply(eventResource('two', 'EvTwo', 'hall'));
    const seen: { type: string; name?: string; rv?: string }[] = [];
    const path = `/apis/${group}/${version}/namespaces/${NS}/${plural}`;
    const controller = await new k8s.Watch(fake.kubeConfig(k8s)).watch(
      path,
      { resourceVersion: first.metadata.resourceVersion, allowWatchBookmarks: true },
      (type, obj) => seen.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion }),
      () => undefined,
    );
    await waitFor(() => seen.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    expect(seen.filter((e) => e.type !== 'BOOKMARK')).toEqual([{ type: 'ADDED', name: 'two', rv: expect.any(String) }]);
    fake.delete(EVENTS, NS, 'one');
    await waitFor(() => seen.some((e) => e.type === 'DELETED' && e.name === 'one'), 'the deletion');
    controller.abort();

    fake.expireWatches();
    const errors: { type: string; code?: number }[] = [];
    let ended = false;
    await new k8s.Watch(fake.kubeConfig(k8s)).watch(
      path,
      { resourceVersion: first.metadata.resourceVersion },
      (type, obj) => errors.push({ type, code: obj?.code }),
      () => (ended = true),
    );
    await waitFor(() => ended, 'the expired watch to end');
    expect(errors).toEqual([{ type: 'ERROR', code: 410 }]);
  });

  test('Leases: create conflicts with AlreadyExists, a stale replace with Conflict', async () => {
    const api = fake.kubeConfig(k8s).makeApiClient(k8s.CoordinationV1Api);
    const body = {
      metadata: { name: 'l', namespace: NS },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 2, renewTime: new k8s.V1MicroTime() },
    };
    const lease = await api.createNamespacedLease({ namespace: NS, body });
    expect(String(fake.get(LEASES, NS, 'l')?.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/); // MicroTime
    expect(await codeOf(api.createNamespacedLease({ namespace: NS, body }))).toBe(409);
    await api.replaceNamespacedLease({ name: 'l', namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
    expect(
      await codeOf(
        api.replaceNamespacedLease({ name: 'l', namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }),
      ),
    ).toBe(409);
    expect(fake.get(LEASES, NS, 'l')?.spec?.holderIdentity).toBe('b');
  });
});
