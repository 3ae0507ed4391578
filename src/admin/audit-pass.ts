import type { ZoneDef } from '../catalog/model';
import type { LeaderWork } from '../controller/controller';
import { TermEnded } from '../controller/loop';
import type { TermGuard } from '../controller/source';
import type { Logger } from '../observability/logger';
import { metrics } from '../observability/metrics';
import { auditEvent, formatAudit } from './audit';
import { markLostSales } from './repair';
import type { CqrsStores } from './stores';

export interface AuditPassResult {
  /** Events audited (catalog events and removed events whose closed zones are not settled yet). */
  events: string[];
  /** Seats sold in DynamoDB but free in Redis that were taken again. */
  repaired: number;
  /** Each step that failed, per event; the pass went on with the next step and event. */
  failures: { eventId: string; step: string; message: string }[];
  /** Every event audited with every store answering: the pass the gauge records. */
  complete: boolean;
}

const noGuard: TermGuard = { check: () => undefined, requeue: () => undefined };

/**
 * One audit and repair pass over every event. Each event, and each step of it, is isolated:
 * a failure (MySQL down, a zone that cannot be repaired) is logged and counted, and the pass
 * goes on, so the Redis repair from DynamoDB never depends on MySQL. A pass with no failure
 * sets `ticketing_audit_last_complete_pass_timestamp_seconds`.
 */
export async function runAuditPass(stores: CqrsStores, opts: { waitMs: number; log: Logger; guard?: TermGuard }): Promise<AuditPassResult> {
  const { log } = opts;
  const guard = opts.guard ?? noGuard;
  const result: AuditPassResult = { events: [], repaired: 0, failures: [], complete: false };
  const step = async <T>(eventId: string, name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TermEnded) throw err;
      result.failures.push({ eventId, step: name, message: (err as Error).message });
      log.error(
        { err, eventId, step: name },
        `audit step ${name} failed for ${eventId}; the pass goes on with the next step and event, and this one is retried on the next pass`,
      );
      return undefined;
    }
  };

  const entries = await stores.catalog.listEvents();
  const closed = await stores.catalog.listClosedZones();
  const zonesOf = new Map<string, ZoneDef[]>(entries.map((e) => [e.event.eventId, [...e.venue.zones]]));
  for (const c of closed) {
    // A removed event is audited until its closed zones are settled; a live one with all its zones.
    if (!zonesOf.has(c.eventId) && c.settledAt) continue;
    const zones = zonesOf.get(c.eventId) ?? [];
    if (!zones.some((z) => z.zoneId === c.zone.zoneId)) zones.push(c.zone);
    zonesOf.set(c.eventId, zones);
  }

  for (const [eventId, zones] of [...zonesOf].sort(([a], [b]) => a.localeCompare(b))) {
    guard.check();
    result.events.push(eventId);
    const failuresBefore = result.failures.length;
    const report = await step(eventId, 'audit', () => auditEvent(stores, eventId, { waitMs: opts.waitMs, zones }));
    if (!report) continue;
    for (const e of report.errors) result.failures.push({ eventId, step: `compare-${e.store}`, message: e.message });
    for (const zoneId of report.layoutMismatch) {
      result.failures.push({
        eventId,
        step: 'layout',
        message: `zone ${zoneId} has another layout in Redis than in the catalog; its seats were not compared (see the controller's LayoutChangeRefused report)`,
      });
    }
    // Seats sold in DynamoDB but free in Redis would sell twice: take them again at once.
    guard.check();
    const marked = await step(eventId, 'repair', () => markLostSales(stores, report, undefined, zones));
    if (marked) {
      result.repaired += marked;
      log.error({ eventId, marked }, 'Redis had lost sales (sold in DynamoDB, free in Redis); the seats are taken again');
    }
    const lines = formatAudit(report);
    if (report.drift.length > 0)
      log.error(
        { eventId, drift: report.drift.length, details: lines.slice(0, 50) },
        'audit found drift between Redis, DynamoDB and MySQL',
      );
    else if (report.errors.length > 0)
      log.warn(
        { eventId, errors: report.errors, seats: report.seats },
        'audit incomplete: a store did not answer; the Redis repair from DynamoDB was still done',
      );
    else log.info({ eventId, seats: report.seats, unverified: report.unverified }, 'audit clean');
    if (result.failures.length > failuresBefore) continue;
    // A closed zone with nothing pending, compared once more: the sweep and the audit are done
    // with it. Only the closing read at the start of the pass: one reconcile re-opened (and
    // perhaps closed again, with new pending purchases) since is left for the next pass.
    for (const c of closed.filter((z) => z.eventId === eventId && !z.settledAt && report.pendingByZone[z.zone.zoneId] === 0)) {
      const settled = await step(eventId, 'settle', () => stores.catalog.settleClosedZone(c, new Date()));
      if (settled === false)
        log.info(
          { eventId, zoneId: c.zone.zoneId },
          'closed zone changed since the audit read it (re-opened or closed again); it is audited again on the next pass',
        );
    }
  }
  result.complete = result.failures.length === 0;
  metrics.auditLastPassFailures.set(result.failures.length);
  if (result.complete) metrics.auditLastCompletePass.set(Date.now() / 1000);
  return result;
}

/** The audit and repair as leader work: a pass every `everyMs` on the leader's term only. */
export function auditWork(
  stores: CqrsStores,
  opts: { everyMs: number; log: Logger },
): LeaderWork & { lastPass(): AuditPassResult | undefined } {
  let last: AuditPassResult | undefined;
  return {
    name: 'audit',
    everyMs: opts.everyMs,
    async run(guard) {
      last = await runAuditPass(stores, { waitMs: Math.min(10_000, opts.everyMs / 2), log: opts.log, guard });
    },
    lastPass: () => last,
  };
}
