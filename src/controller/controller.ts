import type { Logger } from '../observability/logger';
import type { LeaderCallbacks } from './leader';
import { TermEnded, WorkQueue } from './loop';
import { reconcile, type EventReport, type ReconcileDeps } from './reconcile';
import type { DesiredSnapshot, DesiredStateSource, SourceProblem, StatusSink, TermGuard } from './source';

/**
 * Work only the leader does, registered on its term: `start` when the term starts, `run` every
 * `everyMs` while it lasts, `stop` when it ends (after the last run finished). The audit and
 * repair, and the rebuild of lost zones from the write model, are such work.
 */
export interface LeaderWork {
  name: string;
  start?(): Promise<void> | void;
  everyMs?: number;
  run?(guard: TermGuard): Promise<void>;
  stop?(): Promise<void> | void;
}

/** What the controller needs of leader election; without one, this process is the only replica and leads. */
export interface Election {
  start(callbacks: LeaderCallbacks): void;
  stop(): Promise<void>;
  isLeader(): boolean;
}

export interface ControllerOptions<S extends DesiredSnapshot> {
  log: Logger;
  deps: ReconcileDeps;
  /** A fresh source and status sink for each leadership term. */
  openTerm(): { source: DesiredStateSource<S>; sink: StatusSink<S> };
  election?: Election;
  leaderWork?: LeaderWork[];
  /** Full reconcile at least this often (it refreshes the reported seat counts). */
  resyncMs: number;
  debounceMs?: number;
  /** How soon a reconcile runs again while a zone waits for the write model to be rebuilt from. */
  rebuildRetryMs?: number;
  /** The reconcile to run (tests wrap the real one to watch it). */
  reconcileFn?: typeof reconcile;
  onReconciled?: (reports: EventReport[]) => void;
}

export interface Controller {
  /** True while this replica may act: it holds a fresh lease (or runs without election) and its term runs. */
  isLeader(): boolean;
  /** The current term's source has read the whole desired state (false on a follower). */
  synced(): boolean;
  /** The reports of the last reconcile of this process, if any. */
  lastReports(): EventReport[] | undefined;
  stop(): Promise<void>;
}

const RECONCILE = 'reconcile';

/**
 * The controller's one reconcile loop, whatever the source: on each leadership term a work
 * queue (src/controller/loop.ts) runs the reconcile on every change, at every resync and sooner
 * while a zone is being rebuilt, next to the leader's periodic work. See docs/controller.md.
 */
export async function startController<S extends DesiredSnapshot>(opts: ControllerOptions<S>): Promise<Controller> {
  let term: LeaderTerm<S> | undefined;
  let last: EventReport[] | undefined;
  const callbacks: LeaderCallbacks = {
    async onStartedLeading() {
      const t = new LeaderTerm(
        opts,
        () => opts.election?.isLeader() ?? true,
        (r) => (last = r),
      );
      term = t;
      await t.start();
    },
    async onStoppedLeading() {
      const t = term;
      term = undefined;
      await t?.stop();
    },
  };
  if (opts.election) opts.election.start(callbacks);
  else await callbacks.onStartedLeading();
  return {
    isLeader: () => !!term?.mayAct(),
    synced: () => !!term?.synced(),
    lastReports: () => last,
    async stop() {
      if (opts.election) await opts.election.stop();
      else await callbacks.onStoppedLeading();
    },
  };
}

/** One leadership term: a fresh source, status sink and work queue; nothing of it outlives the term. */
class LeaderTerm<S extends DesiredSnapshot> {
  private readonly queue: WorkQueue;
  private readonly source: DesiredStateSource<S>;
  private readonly sink: StatusSink<S>;
  private active = true;
  private readonly guard: TermGuard;
  private logged = new Map<string, SourceProblem>();

  constructor(
    private readonly o: ControllerOptions<S>,
    private readonly leading: () => boolean,
    private readonly onReports: (r: EventReport[]) => void,
  ) {
    ({ source: this.source, sink: this.sink } = o.openTerm());
    this.queue = new WorkQueue({ debounceMs: o.debounceMs ?? 200, log: o.log });
    this.guard = {
      check: () => {
        if (!this.mayAct()) throw new TermEnded();
      },
      requeue: () => this.queue.add(RECONCILE),
    };
  }

  mayAct(): boolean {
    return this.active && this.leading();
  }

  synced(): boolean {
    return this.source.synced();
  }

  async start(): Promise<void> {
    this.queue.register(RECONCILE, () => this.reconcileOnce());
    for (const w of this.o.leaderWork ?? []) {
      await w.start?.();
      const { run, everyMs } = w;
      if (!run || !everyMs) continue;
      this.queue.register(`leader:${w.name}`, async () => {
        this.guard.check();
        await run(this.guard);
        return { requeueAfterMs: everyMs };
      });
      this.queue.addAfter(`leader:${w.name}`, everyMs);
    }
    await this.source.start(() => this.queue.add(RECONCILE));
    // The first reconcile is awaited: a single process serves its seeded events once started.
    await this.queue.kick(RECONCILE);
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.queue.stop();
    for (const w of [...(this.o.leaderWork ?? [])].reverse()) {
      await Promise.resolve(w.stop?.()).catch((err: unknown) => this.o.log.warn({ err, work: w.name }, 'stopping leader work failed'));
    }
    await this.source.stop();
  }

  /** Each problem is logged when it appears and when it is gone, not at every resync. */
  private logProblems(problems: SourceProblem[]): void {
    const now = new Map(problems.map((p) => [`${p.where}\u0000${p.message}`, p]));
    for (const [key, p] of now) {
      if (!this.logged.has(key))
        this.o.log.error(
          { where: p.where, reason: p.reason, eventIds: p.eventIds },
          `${p.message}; the last good version stays in force until it is fixed`,
        );
    }
    for (const [key, p] of this.logged) if (!now.has(key)) this.o.log.info({ where: p.where }, 'resource problem fixed');
    this.logged = now;
  }

  private async reconcileOnce(): Promise<{ requeueAfterMs: number }> {
    this.guard.check();
    if (!this.source.synced()) return { requeueAfterMs: this.o.resyncMs };
    const owned = (await this.o.deps.catalog.listEvents()).filter((e) => e.source === this.source.name);
    const snap = await this.source.snapshot(owned);
    this.logProblems(snap.problems);
    await this.sink.prepare?.(snap, this.guard);

    this.guard.check();
    const reports = await (this.o.reconcileFn ?? reconcile)(snap.desired, this.source.name, this.o.deps);

    this.guard.check();
    await this.sink.publish(snap, reports, this.guard);
    this.onReports(reports);
    this.o.log.debug({ source: this.source.name, events: reports.length, problems: snap.problems.length }, 'reconciled');
    this.o.onReconciled?.(reports);
    // A zone waiting for the writer to catch up is retried within a second, not at the next resync.
    const rebuilding = reports.some((r) => r.conditions.some((c) => c.type === 'Seeded' && c.reason === 'Rebuilding'));
    const soon = rebuilding ? (this.o.rebuildRetryMs ?? 1000) : this.o.resyncMs;
    return { requeueAfterMs: Math.min(soon, snap.requeueAfterMs ?? Infinity) };
  }
}
