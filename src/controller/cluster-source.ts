import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { CatalogEntry } from '../catalog/model';
import { parseResources, type EventResource, type VenueResource } from '../catalog/resources';
import type { Logger } from '../observability/logger';
import { CustomResourceClient, type KubeClientModule, type KubeConfig, type KubeObject, type Plural } from './kube-client';
import type { DesiredSnapshot, DesiredStateSource } from './source';

export interface InvalidResource {
  plural: Plural;
  object: KubeObject;
  reason: 'InvalidSpec' | 'DuplicateId';
  message: string;
}

/** The informers' caches at one moment, sorted into what reconcile can use and what it cannot. */
export interface ClusterSnapshot extends DesiredSnapshot {
  venues: VenueResource[];
  events: EventResource[];
  invalid: InvalidResource[];
  /** Every cached object by `plural/namespace/name`, valid or not. */
  objects: Map<string, { plural: Plural; object: KubeObject }>;
}

export const objectKey = (plural: Plural, meta: { namespace?: string; name: string }) => `${plural}/${meta.namespace ?? ''}/${meta.name}`;

export interface ClusterSourceOptions {
  namespace: string;
  log: Logger;
}

const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Informers on the Venue and Event resources, in one namespace or cluster-wide. The
 * client's ListWatch relists by itself after a 410 Gone; after any other error it stops, so
 * this source restarts it with a backoff. Single use: a new leadership term makes a new one.
 */
export class ClusterSource implements DesiredStateSource<ClusterSnapshot> {
  readonly name: string;
  private readonly informers = new Map<Plural, K8s.Informer<K8s.KubernetesObject> & K8s.ObjectCache<K8s.KubernetesObject>>();
  private readonly seen = new Map<string, string>();
  private readonly listed = new Set<Plural>();
  private readonly starts = new Set<Promise<void>>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Called on every change that can alter the desired state (not on status-only updates). */
  private onChange: () => void = () => undefined;

  constructor(
    private readonly k8s: KubeClientModule,
    private readonly kc: KubeConfig,
    private readonly client: CustomResourceClient,
    private readonly opts: ClusterSourceOptions,
  ) {
    this.name = `cluster:${opts.namespace || '*'}`;
  }

  /** Resolves once both kinds have been listed (or a list failed, which is retried). */
  async start(onChange: () => void): Promise<void> {
    this.onChange = onChange;
    await Promise.all((['venues', 'events'] as const).map((plural) => this.startInformer(plural)));
  }

  /** Both kinds listed at least once: the caches hold the cluster's state. */
  synced(): boolean {
    return this.listed.size === 2;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restartTimers) clearTimeout(t);
    for (const inf of this.informers.values()) await inf.stop();
    // A start still listing opens its watch afterwards: stop once more when it is done.
    await Promise.allSettled([...this.starts]);
    for (const inf of this.informers.values()) await inf.stop();
  }

  /**
   * `owned`: this source's catalog entries. The resource that holds an API id there keeps it,
   * so a newcomer claiming the same id never takes it over; and the entry of an Event whose
   * resource is invalid right now is kept (a bad edit must not delete an event's inventory).
   */
  async snapshot(owned: CatalogEntry[] = []): Promise<ClusterSnapshot> {
    const owners = new Map<string, string>();
    for (const e of owned) {
      owners.set(`event:${e.event.eventId}`, e.event.resourceName);
      owners.set(`venue:${e.venue.venueId}`, e.venue.resourceName);
    }
    const objects = new Map<string, { plural: Plural; object: KubeObject }>();
    const invalid: InvalidResource[] = [];
    const venues: VenueResource[] = [];
    const events: EventResource[] = [];
    for (const [plural, informer] of this.informers) {
      for (const raw of informer.list()) {
        // Plain data of this realm: the informer's objects are shared with its cache.
        const object = JSON.parse(JSON.stringify(raw)) as KubeObject;
        objects.set(objectKey(plural, object.metadata), { plural, object });
        const parsed = parseResources([{ where: objectKey(plural, object.metadata), doc: object }]);
        const error = parsed.errors[0];
        if (error) invalid.push({ plural, object, reason: 'InvalidSpec', message: error.message });
        else if (plural === 'venues' && parsed.venues[0]) venues.push(parsed.venues[0]);
        else if (plural === 'events' && parsed.events[0]) events.push(parsed.events[0]);
      }
    }
    const byKey = (plural: Plural) => (r: VenueResource | EventResource) => objects.get(objectKey(plural, r.metadata))!.object;
    const uniqueVenues = firstById(venues, (v) => `venue:${v.spec.venueId}`, byKey('venues'), 'venues', 'venueId', owners, invalid);
    const liveEvents = events.filter((e) => !e.metadata.deletionTimestamp);
    const uniqueEvents = firstById(liveEvents, (e) => `event:${e.spec.eventId}`, byKey('events'), 'events', 'eventId', owners, invalid);
    const desiredEvents = [...uniqueEvents, ...events.filter((e) => e.metadata.deletionTimestamp)];
    const keep = new Set(
      invalid
        .filter((i) => i.plural === 'events' && !i.object.metadata.deletionTimestamp)
        .map((i) => (i.object.spec as { eventId?: unknown } | undefined)?.eventId)
        .filter((id): id is string => typeof id === 'string'),
    );
    return {
      venues: uniqueVenues,
      events: desiredEvents,
      invalid,
      objects,
      desired: { venues: uniqueVenues, events: desiredEvents, keep: (entry) => keep.has(entry.event.eventId) },
      problems: invalid.map((i) => ({
        where: objectKey(i.plural, i.object.metadata),
        reason: i.reason,
        message: i.message,
        eventIds: eventIdsOf(i, desiredEvents),
      })),
    };
  }

  private startInformer(plural: Plural): Promise<void> {
    const { namespace, log } = this.opts;
    const informer = this.k8s.makeInformer<K8s.KubernetesObject>(this.kc, CustomResourceClient.path(plural, namespace), async () => {
      const list = await this.client.list(plural, namespace);
      this.listed.add(plural);
      return list as unknown as K8s.KubernetesListObject<K8s.KubernetesObject>;
    });
    this.informers.set(plural, informer);
    informer.on('add', (obj) => this.changed(plural, obj, true));
    informer.on('update', (obj) => this.changed(plural, obj, false));
    informer.on('delete', (obj) => {
      this.seen.delete(objectKey(plural, obj.metadata as KubeObject['metadata']));
      this.notify();
    });
    let delayMs = 500;
    informer.on('error', (err: unknown) => {
      // Stopping aborts the watch, which the informer reports as an error too.
      if (this.stopped) return;
      log.warn({ err, plural, retryInMs: delayMs }, 'watch failed; restarting the informer');
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        // track() catches and logs a failed start and stop() waits for it: nothing is lost.
        if (!this.stopped) void this.track(informer.start());
      }, delayMs);
      this.restartTimers.add(timer);
      delayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    });
    informer.on('connect', () => {
      if (this.listed.has(plural)) delayMs = 500;
    });
    return this.track(informer.start());
  }

  private track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((err: unknown) => this.opts.log.warn({ err }, 'informer start failed'));
    this.starts.add(tracked);
    void tracked.finally(() => this.starts.delete(tracked));
    return tracked;
  }

  /** Spec and deletion changes matter; our own status and finalizer writes do not. */
  private changed(plural: Plural, obj: K8s.KubernetesObject, added: boolean): void {
    const meta = obj.metadata as KubeObject['metadata'];
    const key = objectKey(plural, meta);
    const fingerprint = `${meta.uid ?? ''}|${meta.generation ?? JSON.stringify((obj as KubeObject).spec)}|${meta.deletionTimestamp ?? ''}`;
    const before = this.seen.get(key);
    this.seen.set(key, fingerprint);
    if (added || before !== fingerprint) this.notify();
  }

  private notify(): void {
    if (!this.stopped) this.onChange();
  }
}

/** The events an invalid resource concerns: the Event itself, or the Events held at a Venue. */
function eventIdsOf(i: InvalidResource, events: EventResource[]): string[] {
  if (i.plural === 'events') {
    const id = (i.object.spec as { eventId?: unknown } | undefined)?.eventId;
    return typeof id === 'string' ? [id] : [];
  }
  const { name, namespace } = i.object.metadata;
  return events.filter((e) => e.spec.venueRef.name === name && e.metadata.namespace === namespace).map((e) => e.spec.eventId);
}

/**
 * Two resources claiming one API id would overwrite each other's catalog entry: the one
 * holding it keeps it, else the oldest; the others are reported.
 */
function firstById<T extends VenueResource | EventResource>(
  resources: T[],
  idOf: (r: T) => string,
  objectOf: (r: T) => KubeObject,
  plural: Plural,
  field: string,
  owners: ReadonlyMap<string, string>,
  invalid: InvalidResource[],
): T[] {
  const rank = (r: T) => (owners.get(idOf(r)) === r.metadata.name ? 0 : 1);
  const created = (r: T) => String((r.metadata as Record<string, unknown>).creationTimestamp ?? '');
  const sorted = [...resources].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      created(a).localeCompare(created(b)) ||
      objectKey(plural, a.metadata).localeCompare(objectKey(plural, b.metadata)),
  );
  const owner = new Map<string, T>();
  for (const r of sorted) {
    const first = owner.get(idOf(r));
    if (!first) owner.set(idOf(r), r);
    else {
      invalid.push({
        plural,
        object: objectOf(r),
        reason: 'DuplicateId',
        message: `spec.${field} ${idOf(r).split(':')[1]} already belongs to ${objectKey(plural, first.metadata)}; give this resource another ${field}`,
      });
    }
  }
  return sorted.filter((r) => owner.get(idOf(r)) === r);
}
