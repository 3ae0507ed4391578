import { objectKey, type ClusterSnapshot } from './cluster-source';
import { httpStatusOf, type CustomResourceClient, type KubeObject, type Plural } from './kube-client';
import type { Logger } from '../observability/logger';
import type { EventReport } from './reconcile';
import type { StatusSink, TermGuard } from './source';
import { degraded, nextStatus, type DesiredStatus, type ResourceStatus, type Transition } from './status';

/** On every Event resource the controller has seen, so a deletion waits for the inventory cleanup. */
export const FINALIZER = 'ticketing.dev/inventory';
const COMPONENT = 'ticketing-controller';

/**
 * The cluster source's status sink, for one leadership term: the finalizer on every Event
 * before its inventory exists, `/status` of Venues and Events (merge patch, only when something
 * changed), core/v1 Events for the transitions people care about, and the finalizer's release
 * once a deleted Event's catalog entry is gone.
 */
export class KubeStatusSink implements StatusSink<ClusterSnapshot> {
  /** Statuses this term wrote lately: the informer may not have caught up with them yet. */
  private readonly written = new Map<string, { status: ResourceStatus; at: number }>();

  constructor(
    private readonly client: CustomResourceClient,
    private readonly o: { log: Logger; resyncMs: number },
  ) {}

  /** The finalizer goes on before the inventory exists, so no deletion can skip the cleanup. */
  async prepare(snap: ClusterSnapshot, guard: TermGuard): Promise<void> {
    for (const { plural, object } of snap.objects.values()) {
      const meta = object.metadata;
      if (plural !== 'events' || meta.deletionTimestamp || meta.finalizers?.includes(FINALIZER)) continue;
      guard.check();
      await this.client
        .setFinalizers('events', meta, [...(meta.finalizers ?? []), FINALIZER])
        .catch((err) => this.conflictIsRetried(err, meta.name, guard));
    }
  }

  async publish(snap: ClusterSnapshot, reports: EventReport[], guard: TermGuard): Promise<void> {
    await this.writeStatuses(snap, reports, guard);
    await this.releaseFinalizers(snap, guard);
  }

  /** Deleted Events: reconcile has removed their catalog entry (and unsold inventory) by now. */
  private async releaseFinalizers(snap: ClusterSnapshot, guard: TermGuard): Promise<void> {
    for (const { plural, object } of snap.objects.values()) {
      const meta = object.metadata;
      if (plural !== 'events' || !meta.deletionTimestamp || !meta.finalizers?.includes(FINALIZER)) continue;
      guard.check();
      const released = await this.client
        .setFinalizers(
          'events',
          meta,
          meta.finalizers.filter((f) => f !== FINALIZER),
        )
        .then(
          () => true,
          (err) => this.conflictIsRetried(err, meta.name, guard).then(() => false),
        );
      if (released)
        await this.record(
          'Event',
          object,
          'Normal',
          'InventoryReleased',
          'catalog entry removed (inventory deleted if the event never sold); deletion may proceed',
        );
    }
  }

  private async conflictIsRetried(err: unknown, name: string, guard: TermGuard): Promise<void> {
    const status = httpStatusOf(err);
    if (status === 409) {
      guard.requeue();
      return;
    }
    if (status === 404) return;
    this.o.log.warn({ err, name }, 'finalizer update failed');
    throw err;
  }

  private async writeStatuses(snap: ClusterSnapshot, reports: EventReport[], guard: TermGuard): Promise<void> {
    const wanted = new Map<string, { plural: Plural; desired: DesiredStatus }>();
    const invalidVenues = new Map(
      snap.invalid.filter((i) => i.plural === 'venues').map((i) => [`${i.object.metadata.namespace ?? ''}/${i.object.metadata.name}`, i]),
    );
    for (const r of reports) {
      const venueRef = snap.events.find((e) => e.metadata.name === r.resourceName && e.metadata.namespace === r.namespace)?.spec.venueRef
        .name;
      const badVenue = venueRef ? invalidVenues.get(`${r.namespace ?? ''}/${venueRef}`) : undefined;
      // reconcile only sees valid Venues; say why the referenced one was left out.
      const conditions = badVenue
        ? r.conditions.map((c) =>
            c.reason === 'VenueNotFound'
              ? { ...c, reason: 'VenueInvalid', message: `Venue ${venueRef} is invalid: ${badVenue.message}` }
              : c,
          )
        : r.conditions;
      wanted.set(objectKey('events', { namespace: r.namespace, name: r.resourceName }), {
        plural: 'events',
        desired: { conditions, seatsSold: r.seatsSold, seatsAvailable: r.seatsAvailable },
      });
    }
    for (const v of snap.venues) {
      wanted.set(objectKey('venues', v.metadata), {
        plural: 'venues',
        desired: { conditions: [{ type: 'Degraded', status: 'False', reason: 'Valid', message: 'spec is valid' }] },
      });
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
      const current = recent && Date.now() - recent.at < this.o.resyncMs ? recent.status : object.status;
      const next = nextStatus(current, desired, object.metadata.generation, new Date());
      if (!next) continue;
      guard.check();
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
    else if (t.status === 'True' && (t.type === 'OnSale' || t.type === 'SoldOut' || t.type === 'Seeded'))
      await this.record(kind, object, 'Normal', t.type, t.message);
  }

  private async record(
    kind: 'Venue' | 'Event',
    object: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    // Events are a courtesy to whoever runs `kubectl describe`: never worth failing a reconcile.
    await this.client
      .recordEvent(kind, object.metadata, type, reason, message, COMPONENT)
      .catch((err) => this.o.log.debug({ err, reason }, 'could not record a Kubernetes Event'));
  }
}
