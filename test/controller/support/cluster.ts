import type { Config } from '../../../src/config/config';
import {
  startClusterController,
  type ClusterControllerHandle,
  type ClusterControllerOptions,
} from '../../../src/controller/cluster-controller';
import type { EventReport } from '../../../src/controller/reconcile';
import { Inventory } from '../../../src/inventory/inventory';
import { ZoneLayout } from '../../../src/inventory/layout';
import type { ScriptedRedis } from '../../../src/commands/scripts';
import { dropKeyPrefix } from '../../support/platform';
import { newPurchaseId } from '../../../src/purchase/ids';
import { testConfig, testLogger, uid } from '../../support/env';
import { nativeKubeClient, type FakeKubeApiServer } from '../../support/fake-kube';

export const NS = 'shows';

export function venueResource(
  name: string,
  venueId: string,
  zones: { zoneId: string; rows: string[]; seatsPerRow: number }[] = [{ zoneId: 'a', rows: ['A', 'B'], seatsPerRow: 5 }],
) {
  return {
    apiVersion: 'ticketing.dev/v1alpha1',
    kind: 'Venue',
    metadata: { name, namespace: NS },
    spec: { venueId, name: `Venue ${venueId}`, zones: zones.map((z) => ({ ...z, name: `Zone ${z.zoneId}`, priceCents: 1000 })) },
  };
}

export function eventResource(name: string, eventId: string, venue: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'ticketing.dev/v1alpha1',
    kind: 'Event',
    metadata: { name, namespace: NS },
    spec: {
      eventId,
      venueRef: { name: venue },
      name: `Show ${eventId}`,
      startsAt: '2030-01-01T20:00:00Z',
      state: 'OnSale',
      perUserLimit: 4,
      ...spec,
    },
  };
}

/** Configuration of a cluster-mode controller in a test: own key prefix, a 2 s lease, 1 s resync. */
export function clusterConfig(prefix: string, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return testConfig({
    REDIS_KEY_PREFIX: prefix,
    CONTROLLER_SOURCE: 'cluster',
    WATCH_NAMESPACE: NS,
    LEADER_ELECTION_LEASE_DURATION_SECONDS: '2',
    LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '1.3',
    LEADER_ELECTION_RETRY_PERIOD_SECONDS: '0.3',
    CONTROLLER_RESYNC_MS: '1000',
    ...overrides,
  });
}

export interface TestController extends ClusterControllerHandle {
  reconciles: () => number;
  last: () => EventReport[];
}

/** A cluster-mode controller against the fake API server and the real Redis. */
export async function startTestController(
  fake: FakeKubeApiServer,
  redis: ScriptedRedis,
  cfg: Config,
  opts: ClusterControllerOptions = {},
): Promise<TestController> {
  const k8s = nativeKubeClient();
  let count = 0;
  let last: EventReport[] = [];
  const handle = await startClusterController(
    { cfg, log: testLogger('controller'), redis },
    {
      k8s,
      kubeConfig: fake.kubeConfig(k8s, opts.identity ?? 'test'),
      debounceMs: 50,
      ...opts,
      onReconciled: (r) => {
        count += 1;
        last = r;
        opts.onReconciled?.(r);
      },
    },
  );
  return Object.assign(handle, { reconciles: () => count, last: () => last });
}

/** Sells one seat straight through the inventory (reserve + confirm), as the purchase path does. */
export async function sellSeat(
  redis: ScriptedRedis,
  prefix: string,
  eventId: string,
  zone: { zoneId: string; rows: string[]; seatsPerRow: number },
  row: string,
  column: number,
): Promise<string> {
  const inventory = new Inventory(redis, prefix);
  const layout = ZoneLayout.of({ rows: zone.rows, seatCounts: zone.rows.map(() => zone.seatsPerRow) });
  const pos = layout.locate(row, column);
  if (!pos) throw new Error(`seat ${row}${column} is not in the layout`);
  const purchaseId = newPurchaseId(eventId, zone.zoneId);
  const r = await inventory.reserve(eventId, zone.zoneId, layout, purchaseId, [pos], JSON.stringify({ purchaseId }));
  if (r.code !== 0) throw new Error(`reserve failed with code ${r.code}`);
  await inventory.confirm(eventId, zone.zoneId, purchaseId);
  return purchaseId;
}

/** Deletes every Redis key under a test's own prefix. */
export const deletePrefix = dropKeyPrefix;

export const testPrefix = () => `${uid('ctl')}:`;

export interface StatusConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A condition of a resource as the fake API server holds it. */
export function condition(obj: unknown, type: string): StatusConditionView | undefined {
  return ((obj as { status?: { conditions?: StatusConditionView[] } } | undefined)?.status?.conditions ?? []).find((c) => c.type === type);
}
