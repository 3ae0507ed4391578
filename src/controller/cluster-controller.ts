import os from 'node:os';
import { CatalogStore } from '../catalog/store';
import type { Config } from '../config/config';
import { Inventory } from '../inventory/inventory';
import type { ScriptedRedis } from '../inventory/scripts';
import type { Logger } from '../observability/logger';
import type { RoleHandle } from '../roles/role';
import { ClusterSource, objectKey, type ClusterSnapshot } from './cluster-source';
import { CustomResourceClient, httpStatusOf, loadKubeClient, loadKubeConfig, type KubeClientModule, type KubeConfig, type KubeObject, type Plural } from './kube-client';
import { LeaderElector, type LeaseTiming } from './leader';
import { reconcile, type EventReport, type ReconcileDeps } from './reconcile';
import { degraded, nextStatus, type DesiredStatus, type ResourceStatus, type Transition } from './status';

/** On every Event resource the controller has seen, so a deletion waits for the inventory cleanup. */
export const FINALIZER = 'ticketing.dev/inventory';
const COMPONENT = 'ticketing-controller';
/** How soon a reconcile runs again while a zone waits for the write model to be rebuilt from. */
const REBUILD_RETRY_MS = 1000;

export interface ClusterControllerOptions {
  /** Defaults: the natively loaded client and KUBECONFIG / in-cluster config. */
  k8s?: KubeClientModule;
  kubeConfig?: KubeConfig;
  /** Leader identity; default `<POD_NAME or hostname>-<pid>`. */
  identity?: string;
  /** What reconcile writes to; default the catalog and inventory in ctx.redis. */
  deps?: ReconcileDeps;
  /** The reconcile to run (tests wrap the real one to watch it). */
  reconcileFn?: typeof reconcile;
  releaseLeaseOnStop?: boolean;
  debounceMs?: number;
  onReconciled?: (reports: EventReport[]) => void;
}

export interface ClusterControllerHandle extends RoleHandle {
  identity: string;
  /** True while this replica may reconcile (holds a fresh lease, or runs without election). */
  isLeader(): boolean;
}

interface ControllerContext {
  cfg: Config;
  log: Logger;
  redis: ScriptedRedis;
}

class NotLeader extends Error {}

export function leaseTiming(cfg: Config): LeaseTiming {
  return {
    durationMs: cfg.LEADER_ELECTION_LEASE_DURATION_SECONDS * 1000,
    renewDeadlineMs: cfg.LEADER_ELECTION_RENEW_DEADLINE_SECONDS * 1000,
    retryPeriodMs: cfg.LEADER_ELECTION_RETRY_PERIOD_SECONDS * 1000,
  };
}

/**
 * The controller role, cluster source: Venue and Event custom resources are watched with
 * informers and fed to the same reconcile as the seed files. Only the replica holding the
 * Lease runs informers and reconciles; see docs/controller.md.
 */
export async function startClusterController(ctx: ControllerContext, opts: ClusterControllerOptions = {}): Promise<ClusterControllerHandle> {
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

  let term: LeaderTerm | undefined;
  let termActive = false;
  const mayAct = () => termActive && (elector ? elector.isLeader() : true);
  const work = {
    async onStartedLeading() {
      termActive = true;
      term = new LeaderTerm(k8s, kc, client, { ...opts, cfg, log, deps, namespace, mayAct });
      await term.start();
    },
    async onStoppedLeading() {
      termActive = false;
      await term?.stop();
      term = undefined;
    },
  };
  if (elector) elector.start(work);
  else await work.onStartedLeading();

  const contactWithin = Math.max(3 * cfg.LEADER_ELECTION_RETRY_PERIOD_SECONDS * 1000, 5000);
  return {
    name: 'controller',
    identity,
    isLeader: mayAct,
    readiness: [
      { name: 'redis', check: () => ctx.redis.ping() },
      {
        name: 'kubernetes',
        check: async () => {
          if (elector && Date.now() - elector.lastContactAt > contactWithin) throw new Error('the Kubernetes API server has not answered a lease call lately; check the network and RBAC');
          if (term && !term.synced()) throw new Error('the Venue/Event informers have not listed yet; check RBAC for venues and events');
        },
      },
    ],
    async stop() {
      if (elector) await elector.stop();
      else await work.onStoppedLeading();
    },
  };
}

interface TermOptions extends ClusterControllerOptions {
  cfg: Config;
  log: Logger;
  deps: ReconcileDeps;
  namespace: string;
  mayAct: () => boolean;
}

/**
 * One leadership term: fresh informers, a debounced serial reconcile on every change, a
 * periodic resync (it refreshes seatsSold/seatsAvailable), and the status and finalizer writes.
 */
class LeaderTerm {
  private readonly source: ClusterSource;
  private readonly sourceName: string;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private rebuilding = false;
  private active = true;
  private failures = 0;
  /** Statuses this term wrote lately: the informer may not have caught up with them yet. */
  private readonly written = new Map<string, { status: ResourceStatus; at: number }>();

  constructor(
    k8s: KubeClientModule,
    kc: KubeConfig,
    private readonly client: CustomResourceClient,
    private readonly o: TermOptions,
  ) {
    this.sourceName = `cluster:${o.namespace || '*'}`;
    this.source = new ClusterSource(k8s, kc, client, { namespace: o.namespace, log: o.log, onChange: () => this.schedule() });
  }

  synced(): boolean {
    return this.source.synced();
  }

  async start(): Promise<void> {
    await this.source.start();
    this.schedule(0);
    this.resync = setInterval(() => this.schedule(0), this.o.cfg.CONTROLLER_RESYNC_MS);
  }

  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    clearInterval(this.resync);
    await this.running;
    await this.source.stop();
  }

  private schedule(delayMs = this.o.debounceMs ?? 200): void {
    if (!this.active) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delayMs);
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .then(() => {
        this.failures = 0;
      })
      .catch((err: unknown) => {
        if (err instanceof NotLeader) return;
        this.failures += 1;
        const retryMs = Math.min(500 * 2 ** this.failures, 30_000);
        this.o.log.error({ err, retryMs }, 'cluster reconcile failed; retrying');
        this.schedule(retryMs);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        } else if (this.rebuilding) {
          this.rebuilding = false;
          this.schedule(REBUILD_RETRY_MS);
        }
      });
  }

  private guard(): void {
    if (!this.active || !this.o.mayAct()) throw new NotLeader('no longer the leader');
  }

  private async runOnce(): Promise<void> {
    this.guard();
    if (!this.source.synced()) return;
    const owners = new Map<string, string>();
    for (const e of await this.o.deps.catalog.listEvents()) {
      if (e.source !== this.sourceName) continue;
      owners.set(`event:${e.event.eventId}`, e.event.resourceName);
      owners.set(`venue:${e.venue.venueId}`, e.venue.resourceName);
    }
    const snap = this.source.snapshot(owners);
    await this.addFinalizers(snap);

    this.guard();
    const keep = new Set(
      snap.invalid
        .filter((i) => i.plural === 'events' && !i.object.metadata.deletionTimestamp)
        .map((i) => (i.object.spec as { eventId?: unknown } | undefined)?.eventId)
        .filter((id): id is string => typeof id === 'string'),
    );
    const reconcileFn = this.o.reconcileFn ?? reconcile;
    const reports = await reconcileFn({ venues: snap.venues, events: snap.events }, this.sourceName, { ...this.o.deps, catalog: keepingEntries(this.o.deps.catalog, keep) });

    this.guard();
    await this.writeStatuses(snap, reports);
    await this.releaseFinalizers(snap);
    this.o.log.debug({ events: reports.length, invalid: snap.invalid.length }, 'cluster reconcile done');
    // A zone waiting for the writer to catch up is retried within a second, not at the next resync.
    this.rebuilding = reports.some((r) => r.conditions.some((c) => c.type === 'Seeded' && c.reason === 'Rebuilding'));
    this.o.onReconciled?.(reports);
  }

  /** The finalizer goes on before the inventory exists, so no deletion can skip the cleanup. */
  private async addFinalizers(snap: ClusterSnapshot): Promise<void> {
    for (const { plural, object } of snap.objects.values()) {
      const meta = object.metadata;
      if (plural !== 'events' || meta.deletionTimestamp || meta.finalizers?.includes(FINALIZER)) continue;
      this.guard();
      await this.client.setFinalizers('events', meta, [...(meta.finalizers ?? []), FINALIZER]).catch((err) => this.conflictIsRetried(err, meta.name));
    }
  }

  /** Deleted Events: reconcile has removed their catalog entry (and unsold inventory) by now. */
  private async releaseFinalizers(snap: ClusterSnapshot): Promise<void> {
    for (const { plural, object } of snap.objects.values()) {
      const meta = object.metadata;
      if (plural !== 'events' || !meta.deletionTimestamp || !meta.finalizers?.includes(FINALIZER)) continue;
      this.guard();
      const released = await this.client
        .setFinalizers('events', meta, meta.finalizers.filter((f) => f !== FINALIZER))
        .then(() => true, (err) => this.conflictIsRetried(err, meta.name).then(() => false));
      if (released) await this.record('Event', object, 'Normal', 'InventoryReleased', 'catalog entry removed (inventory deleted if the event never sold); deletion may proceed');
    }
  }

  private async conflictIsRetried(err: unknown, name: string): Promise<void> {
    const status = httpStatusOf(err);
    if (status === 409) {
      this.schedule();
      return;
    }
    if (status === 404) return;
    this.o.log.warn({ err, name }, 'finalizer update failed');
    throw err;
  }

  private async writeStatuses(snap: ClusterSnapshot, reports: EventReport[]): Promise<void> {
    const wanted = new Map<string, { plural: Plural; desired: DesiredStatus }>();
    const invalidVenues = new Map(snap.invalid.filter((i) => i.plural === 'venues').map((i) => [`${i.object.metadata.namespace ?? ''}/${i.object.metadata.name}`, i]));
    for (const r of reports) {
      const venueRef = snap.events.find((e) => e.metadata.name === r.resourceName && e.metadata.namespace === r.namespace)?.spec.venueRef.name;
      const badVenue = venueRef ? invalidVenues.get(`${r.namespace ?? ''}/${venueRef}`) : undefined;
      // reconcile only sees valid Venues; say why the referenced one was left out.
      const conditions = badVenue
        ? r.conditions.map((c) => (c.reason === 'VenueNotFound' ? { ...c, reason: 'VenueInvalid', message: `Venue ${venueRef} is invalid: ${badVenue.message}` } : c))
        : r.conditions;
      wanted.set(objectKey('events', { namespace: r.namespace, name: r.resourceName }), { plural: 'events', desired: { conditions, seatsSold: r.seatsSold, seatsAvailable: r.seatsAvailable } });
    }
    for (const v of snap.venues) {
      wanted.set(objectKey('venues', v.metadata), { plural: 'venues', desired: { conditions: [{ type: 'Degraded', status: 'False', reason: 'Valid', message: 'spec is valid' }] } });
    }
    for (const i of snap.invalid) {
      if (i.object.metadata.deletionTimestamp) continue;
      wanted.set(objectKey(i.plural, i.object.metadata), { plural: i.plural, desired: degraded(i.object.status, i.reason, i.message) });
    }
    for (const [key, { plural, desired }] of wanted) {
      const object = snap.objects.get(key)?.object;
      if (!object || object.metadata.deletionTimestamp) continue;
      const writtenKey = `${key}#${object.metadata.uid ?? ''}`;
      const recent = this.written.get(writtenKey);
      const current = recent && Date.now() - recent.at < this.o.cfg.CONTROLLER_RESYNC_MS ? recent.status : object.status;
      const next = nextStatus(current, desired, object.metadata.generation, new Date());
      if (!next) continue;
      this.guard();
      try {
        await this.client.patchStatus(plural, object.metadata, next.status as Record<string, unknown>);
      } catch (err) {
        if (httpStatusOf(err) === 404) continue;
        throw err;
      }
      this.written.set(writtenKey, { status: next.status, at: Date.now() });
      for (const t of next.transitions) await this.announce(plural, object, t);
    }
  }

  /** A Kubernetes Event for the transitions people care about. */
  private async announce(plural: Plural, object: KubeObject, t: Transition): Promise<void> {
    const kind = plural === 'venues' ? 'Venue' : 'Event';
    if (t.type === 'Degraded' && t.status === 'True') await this.record(kind, object, 'Warning', t.reason, t.message);
    else if (t.status === 'True' && (t.type === 'OnSale' || t.type === 'SoldOut' || t.type === 'Seeded')) await this.record(kind, object, 'Normal', t.type, t.message);
  }

  private async record(kind: 'Venue' | 'Event', object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    // Events are a courtesy to whoever runs `kubectl describe`: never worth failing a reconcile.
    await this.client.recordEvent(kind, object.metadata, type, reason, message, COMPONENT).catch((err) => this.o.log.debug({ err, reason }, 'could not record a Kubernetes Event'));
  }
}

/**
 * The catalog as reconcile sees it, minus the entries of Events whose resource is invalid
 * right now: reconcile removes entries missing from the desired state, and a bad edit must
 * not delete an event's inventory. The view delegates everything else to the real store.
 */
function keepingEntries(catalog: CatalogStore, eventIds: Set<string>): CatalogStore {
  if (eventIds.size === 0) return catalog;
  const view = Object.create(catalog) as CatalogStore;
  view.listEvents = async () => (await catalog.listEvents()).filter((e) => !eventIds.has(e.event.eventId));
  return view;
}
