import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { Logger } from '../observability/logger';
import { httpStatusOf, type KubeClientModule, type KubeConfig } from './kube-client';

export interface LeaseTiming {
  /** A follower takes over once the holder has not renewed for this long. */
  durationMs: number;
  /** A leader that could not renew for this long steps down, before anyone else may take over. */
  renewDeadlineMs: number;
  /** How often the leader renews and a follower tries to acquire. */
  retryPeriodMs: number;
}

export interface LeaderCallbacks {
  /** Start the work only the leader does. */
  onStartedLeading(): Promise<void>;
  /** Stop it, and resolve only once nothing of it runs any more. */
  onStoppedLeading(): Promise<void>;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  timing: LeaseTiming;
  log: Logger;
  /** Hand the lease over on stop (fast failover); off, a follower waits for it to expire. */
  releaseOnStop?: boolean;
}

type Attempt = 'held' | 'held-by-other' | 'conflict';

export function checkTiming(t: LeaseTiming): LeaseTiming {
  if (!(t.retryPeriodMs < t.renewDeadlineMs && t.renewDeadlineMs < t.durationMs)) {
    throw new Error(
      `Leader election needs retry period (${t.retryPeriodMs} ms) < renew deadline (${t.renewDeadlineMs} ms) < lease duration (${t.durationMs} ms); ` +
        'fix LEADER_ELECTION_RETRY_PERIOD_SECONDS, LEADER_ELECTION_RENEW_DEADLINE_SECONDS and LEADER_ELECTION_LEASE_DURATION_SECONDS',
    );
  }
  return t;
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go does it (the JavaScript
 * client ships none). Every write carries the resourceVersion it read, so two candidates
 * never both win. A follower judges expiry by its own clock from when it last saw the record
 * change, so clock skew between pods does not matter. The leader counts its lease from the
 * moment it sent the renewal and steps down after renewDeadline without one, which is before
 * any follower may take over (lease duration), so two leaders never act at once.
 */
export class LeaderElector {
  private readonly api: K8s.CoordinationV1Api;
  private leading = false;
  private renewedAt = 0;
  private observed: { record: string; at: number } | undefined;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private transitions: Promise<void> = Promise.resolve();
  private callbacks: LeaderCallbacks | undefined;
  /** When the API server last answered a lease call (readiness). */
  lastContactAt = 0;

  constructor(
    private readonly k8s: KubeClientModule,
    kc: KubeConfig,
    private readonly opts: LeaderElectorOptions,
  ) {
    checkTiming(opts.timing);
    this.api = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** True while this replica holds a lease it renewed within the renew deadline. */
  isLeader(): boolean {
    return this.leading && Date.now() - this.renewedAt < this.opts.timing.renewDeadlineMs;
  }

  start(callbacks: LeaderCallbacks): void {
    this.callbacks = callbacks;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    await this.stepDown('stopping', 'info');
    // release() checks on the server that the lease is still ours.
    if (this.opts.releaseOnStop ?? true)
      await this.release().catch((err) =>
        this.opts.log.warn({ err }, 'could not release the lease; a follower takes over once it expires'),
      );
  }

  private async loop(): Promise<void> {
    const { timing, log } = this.opts;
    while (!this.stopped) {
      const sentAt = Date.now();
      let outcome: Attempt | 'error';
      try {
        outcome = await withTimeout(this.tryAcquireOrRenew(sentAt), timing.renewDeadlineMs, 'lease call');
      } catch (err) {
        outcome = 'error';
        log.warn({ err, lease: this.opts.name }, 'lease call failed; retrying');
      }
      if (this.stopped) break;
      if (outcome === 'held') {
        this.renewedAt = sentAt;
        this.armWatchdog();
        // Not awaited: renewals go on while the leader work starts (a long first list).
        if (!this.leading) void this.becomeLeader();
      } else if (this.leading && outcome === 'held-by-other') {
        await this.stepDown('another replica holds the lease');
      } else if (this.leading && Date.now() - this.renewedAt >= timing.renewDeadlineMs) {
        await this.stepDown(`could not renew the lease within ${timing.renewDeadlineMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timing.retryPeriodMs);
        this.wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<Attempt> {
    const { namespace, name, identity, timing } = this.opts;
    let lease: K8s.V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
    }
    this.lastContactAt = Date.now();
    const seconds = Math.max(1, Math.round(timing.durationMs / 1000));
    if (!lease) {
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: seconds,
              acquireTime: this.micro(now),
              renewTime: this.micro(now),
              leaseTransitions: 0,
            },
          },
        });
        return 'held';
      } catch (err) {
        if (httpStatusOf(err) === 409) return 'conflict';
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, String(spec.renewTime ?? ''), spec.leaseTransitions, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const expiresAt = this.observed.at + (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder !== '' && holder !== identity && Date.now() < expiresAt) return 'held-by-other';

    const mine = holder === identity;
    try {
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { ...lease.metadata, name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            acquireTime: mine && spec.acquireTime ? spec.acquireTime : this.micro(now),
            renewTime: this.micro(now),
            leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
          },
        },
      });
      return 'held';
    } catch (err) {
      if (httpStatusOf(err) === 409) return 'conflict';
      throw err;
    }
  }

  /** Empties the holder (if still ours), so a follower acquires at its next try. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    const now = Date.now();
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        metadata: lease.metadata,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: this.micro(now), acquireTime: this.micro(now) },
      },
    });
    this.opts.log.info({ lease: name }, 'lease released');
  }

  private micro(ms: number): K8s.V1MicroTime {
    return new this.k8s.V1MicroTime(ms);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const { renewDeadlineMs } = this.opts.timing;
    // A hung renewal must not keep us acting as leader past the deadline.
    this.watchdog = setTimeout(
      () => void this.stepDown(`no lease renewal for ${renewDeadlineMs} ms`),
      Math.max(0, this.renewedAt + renewDeadlineMs - Date.now()),
    );
  }

  private becomeLeader(): Promise<void> {
    return this.serially(async () => {
      if (this.leading || this.stopped) return;
      this.leading = true;
      this.opts.log.info({ identity: this.opts.identity, lease: this.opts.name }, 'became the leader');
      await this.callbacks?.onStartedLeading().catch((err: unknown) => this.opts.log.error({ err }, 'starting the leader work failed'));
    });
  }

  private stepDown(why: string, level: 'warn' | 'info' = 'warn'): Promise<void> {
    return this.serially(async () => {
      clearTimeout(this.watchdog);
      if (!this.leading) return;
      this.leading = false;
      this.opts.log[level]({ identity: this.opts.identity, lease: this.opts.name, why }, 'stepping down as leader');
      await this.callbacks?.onStoppedLeading().catch((err: unknown) => this.opts.log.error({ err }, 'stopping the leader work failed'));
    });
  }

  /** Start and stop of the leader work never overlap. */
  private serially(fn: () => Promise<void>): Promise<void> {
    this.transitions = this.transitions.then(fn);
    return this.transitions;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
