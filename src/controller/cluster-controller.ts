import os from 'node:os';
import { CatalogStore } from '../catalog/store';
import type { Config } from '../config/config';
import { Inventory } from '../inventory/inventory';
import type { ScriptedRedis } from '../commands/scripts';
import type { Logger } from '../observability/logger';
import { ClusterSource } from './cluster-source';
import { startController, type LeaderWork } from './controller';
import { CustomResourceClient, loadKubeClient, loadKubeConfig, type KubeClientModule, type KubeConfig } from './kube-client';
import { KubeStatusSink } from './kube-status';
import { LeaderElector, type LeaseTiming } from './leader';
import type { EventReport, reconcile, ReconcileDeps } from './reconcile';

export { FINALIZER } from './kube-status';

export interface ClusterControllerOptions {
  /** Defaults: the natively loaded client and KUBECONFIG / in-cluster config. */
  k8s?: KubeClientModule;
  kubeConfig?: KubeConfig;
  /** Leader identity; default `<POD_NAME or hostname>-<pid>`. */
  identity?: string;
  /** What reconcile writes to; default the catalog and inventory in ctx.redis. */
  deps?: ReconcileDeps;
  /** Work only the leader does (the audit, the rebuild), on its term. */
  leaderWork?: LeaderWork[];
  /** The reconcile to run (tests wrap the real one to watch it). */
  reconcileFn?: typeof reconcile;
  releaseLeaseOnStop?: boolean;
  debounceMs?: number;
  onReconciled?: (reports: EventReport[]) => void;
}

export interface ClusterControllerHandle {
  identity: string;
  /** True while this replica may reconcile (holds a fresh lease, or runs without election). */
  isLeader(): boolean;
  readiness: { name: string; check: () => Promise<unknown> }[];
  stop(): Promise<void>;
}

interface ControllerContext {
  cfg: Config;
  log: Logger;
  redis: ScriptedRedis;
}

export function leaseTiming(cfg: Config): LeaseTiming {
  return {
    durationMs: cfg.LEADER_ELECTION_LEASE_DURATION_SECONDS * 1000,
    renewDeadlineMs: cfg.LEADER_ELECTION_RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: cfg.LEADER_ELECTION_RETRY_PERIOD_SECONDS * 1000,
  };
}

/**
 * The controller, cluster source: Venue and Event custom resources watched with informers,
 * reported on their /status, through the one reconcile loop (src/controller/controller.ts).
 * Only the replica holding the Lease runs informers, reconciles and does the leader work; see
 * docs/controller.md.
 */
export async function startClusterController(
  ctx: ControllerContext,
  opts: ClusterControllerOptions = {},
): Promise<ClusterControllerHandle> {
  const { cfg } = ctx;
  const log = ctx.log.child({ component: 'controller', source: 'cluster' });
  const k8s = opts.k8s ?? loadKubeClient();
  const kc = opts.kubeConfig ?? loadKubeConfig(k8s, cfg);
  const client = new CustomResourceClient(k8s, kc);
  const namespace = cfg.WATCH_NAMESPACE;
  const identity = opts.identity ?? `${cfg.POD_NAME || os.hostname()}-${process.pid}`;
  const deps: ReconcileDeps = opts.deps ?? {
    catalog: new CatalogStore(ctx.redis, cfg.REDIS_KEY_PREFIX),
    inventory: new Inventory(ctx.redis, cfg.REDIS_KEY_PREFIX),
    log,
  };
  const elector = cfg.LEADER_ELECTION
    ? new LeaderElector(k8s, kc, {
        namespace: cfg.LEADER_ELECTION_NAMESPACE || cfg.POD_NAMESPACE || namespace || 'default',
        name: cfg.LEADER_ELECTION_LEASE_NAME,
        identity,
        timing: leaseTiming(cfg),
        log,
        releaseOnStop: opts.releaseLeaseOnStop ?? true,
      })
    : undefined;

  const controller = await startController({
    log,
    deps,
    ...(elector ? { election: elector } : {}),
    openTerm: () => ({
      source: new ClusterSource(k8s, kc, client, { namespace, log }),
      sink: new KubeStatusSink(client, { log, resyncMs: cfg.CONTROLLER_RESYNC_MS }),
    }),
    resyncMs: cfg.CONTROLLER_RESYNC_MS,
    ...(opts.leaderWork ? { leaderWork: opts.leaderWork } : {}),
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    ...(opts.reconcileFn ? { reconcileFn: opts.reconcileFn } : {}),
    ...(opts.onReconciled ? { onReconciled: opts.onReconciled } : {}),
  });

  const contactWithin = Math.max(3 * cfg.LEADER_ELECTION_RETRY_PERIOD_SECONDS * 1000, 5000);
  return {
    identity,
    isLeader: () => controller.isLeader(),
    readiness: [
      { name: 'redis', check: () => ctx.redis.ping() },
      {
        name: 'kubernetes',
        check: async () => {
          if (elector && Date.now() - elector.lastContactAt > contactWithin)
            throw new Error('the Kubernetes API server has not answered a lease call lately; check the network and RBAC');
          if (controller.isLeader() && !controller.synced())
            throw new Error('the Venue/Event informers have not listed yet; check RBAC for venues and events');
        },
      },
    ],
    stop: () => controller.stop(),
  };
}
