import type { EventStatus } from '../catalog/model';
import type { CatalogStore } from '../catalog/store';
import type { Condition, EventReport } from './reconcile';
import type { DesiredSnapshot, SourceProblem, StatusSink, TermGuard } from './source';
import { degraded, nextStatus, type DesiredStatus } from './status';

/**
 * The file source's status sink: each event's conditions, kept next to the catalog in Redis,
 * where `GET /api/v1/events/{eventId}` shows them as `status`. The conditions are those of the
 * cluster's /status; a problem of the source (a bad edit of the event's file or of its
 * Venue's) sets Degraded True with the file and the error, while the event goes on with its
 * last good version. Written only when something changed.
 */
export class CatalogStatusSink implements StatusSink {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly sourceName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async publish(snap: DesiredSnapshot, reports: EventReport[], guard: TermGuard): Promise<void> {
    const problemsOf = new Map<string, SourceProblem[]>();
    for (const p of snap.problems) for (const id of p.eventIds) problemsOf.set(id, [...(problemsOf.get(id) ?? []), p]);
    const current = await this.catalog.listStatuses();
    const owned = new Set((await this.catalog.listEvents()).filter((e) => e.source === this.sourceName).map((e) => e.event.eventId));
    const reported = new Set<string>();

    for (const r of reports) {
      reported.add(r.eventId);
      const problems = problemsOf.get(r.eventId);
      const conditions = problems ? withProblems(r.conditions, problems) : r.conditions;
      await this.write(r.eventId, current.get(r.eventId), { conditions, seatsSold: r.seatsSold, seatsAvailable: r.seatsAvailable }, guard);
    }
    // Kept although not in the desired state (its resource cannot be read now): say why.
    for (const [eventId, problems] of problemsOf) {
      if (reported.has(eventId) || !owned.has(eventId)) continue;
      await this.write(eventId, current.get(eventId), degraded(current.get(eventId), problems[0]!.reason, joined(problems)), guard);
    }
    for (const [eventId, status] of current) {
      if (status.source === this.sourceName && !owned.has(eventId)) await this.catalog.deleteStatus(eventId);
    }
  }

  private async write(eventId: string, current: EventStatus | undefined, desired: DesiredStatus, guard: TermGuard): Promise<void> {
    const next = nextStatus(current, desired, undefined, this.now());
    if (!next) return;
    guard.check();
    const s = next.status;
    await this.catalog.putStatus(eventId, {
      source: this.sourceName,
      conditions: (s.conditions ?? []).map(({ type, status, reason, message, lastTransitionTime }) => ({
        type,
        status,
        reason,
        message,
        lastTransitionTime,
      })),
      ...(s.seatsSold !== undefined ? { seatsSold: s.seatsSold } : {}),
      ...(s.seatsAvailable !== undefined ? { seatsAvailable: s.seatsAvailable } : {}),
      updatedAt: this.now().toISOString(),
    });
  }
}

const joined = (problems: SourceProblem[]) => problems.map((p) => `${p.message}; the last good version stays in force`).join(' | ');

/** The report's conditions with Degraded saying what is wrong with the source (the rest still holds). */
function withProblems(conditions: Condition[], problems: SourceProblem[]): Condition[] {
  return conditions.map((c) =>
    c.type === 'Degraded' ? { type: 'Degraded', status: 'True', reason: problems[0]!.reason, message: joined(problems) } : c,
  );
}
