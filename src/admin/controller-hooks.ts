import type { CatalogEntry, ZoneDef } from '../catalog/model';
import type { ReconcileDeps } from '../controller/reconcile';
import type { Logger } from '../observability/logger';
import { removeCatalogEntry, upsertCatalogEntry } from '../projector/catalog-sql';
import { migrate } from '../projector/migrations';
import type { RuntimeContext } from '../runtime/context';
import { writeModelRebuildSource } from '../writer/rebuild-source';
import { ensureTables } from '../writer/tables';
import { auditEvent, formatAudit } from './audit';
import { markLostSales } from './repair';
import { CqrsStores } from './stores';

/** How often the file-source controller re-runs reconcile, so a zone Redis lost is rebuilt promptly. */
export const RECONCILE_EVERY_MS = 5000;

export interface ControllerCqrs {
  /** Add to the controller's ReconcileDeps. */
  deps: Pick<ReconcileDeps, 'soldSeatsInWriteModel' | 'onCatalogEntry' | 'onEventRemoved'>;
  stop(): Promise<void>;
}

/**
 * What the controller does for the CQRS stores: rebuilds lost zones from DynamoDB (the
 * reconcile hook), mirrors the catalog into MySQL, and audits every event periodically.
 * MySQL being down never blocks seeding Redis: the mirror is retried on the next reconcile.
 */
export async function startControllerCqrs(ctx: RuntimeContext, log: Logger): Promise<ControllerCqrs> {
  const stores = new CqrsStores(ctx);
  let migrated = false;
  const ensureMigrated = async () => {
    if (!migrated) {
      await migrate(ctx.mysql);
      migrated = true;
    }
  };
  await ensureMigrated().catch((err) => log.error({ err }, 'read-model migrations failed; the catalog mirror retries on the next reconcile'));
  // The rebuild hook reads the seat table; create it if the writer has not run yet.
  await ensureTables(ctx.dynamo, ctx.cfg.DYNAMODB_TABLE_PREFIX).catch((err) => log.error({ err }, 'DynamoDB tables could not be ensured; lost zones cannot be rebuilt until DynamoDB answers'));

  const mirrored = new Map<string, string>();
  const onCatalogEntry = async (entry: CatalogEntry) => {
    const json = JSON.stringify(entry);
    if (mirrored.get(entry.event.eventId) === json) return;
    try {
      await ensureMigrated();
      await upsertCatalogEntry(ctx.mysql, entry);
      mirrored.set(entry.event.eventId, json);
    } catch (err) {
      log.warn({ err, eventId: entry.event.eventId }, 'catalog mirror into MySQL failed; retried on the next reconcile');
    }
  };

  const onEventRemoved = async (entry: CatalogEntry, sold: number) => {
    mirrored.delete(entry.event.eventId);
    if (sold > 0) return;
    await removeCatalogEntry(ctx.mysql, entry.event.eventId).catch((err) =>
      log.warn({ err, eventId: entry.event.eventId }, 'could not remove the event from the MySQL catalog; remove it by hand or re-apply and delete it again'),
    );
  };

  const fromWriteModel = writeModelRebuildSource({
    eventLog: ctx.eventLog,
    model: stores.writeModel,
    topic: stores.topic,
    groupId: stores.groups.writer,
    settleMs: ctx.cfg.PURCHASE_TIMEOUT_MS,
    log,
  });
  // The MySQL mirror remembers events this process seeded, even after Redis lost the catalog too.
  const soldSeatsInWriteModel = Object.assign(
    (eventId: string, zone: ZoneDef, seededBefore: boolean) => fromWriteModel(eventId, zone, seededBefore || mirrored.has(eventId)),
    { close: () => fromWriteModel.close() },
  );

  const every = ctx.cfg.AUDIT_INTERVAL_MS;
  let auditing: Promise<void> | undefined;
  const auditAll = async () => {
    for (const { event } of await stores.catalog.listEvents()) {
      const report = await auditEvent(stores, event.eventId, { waitMs: Math.min(10_000, every / 2) });
      // Seats sold in DynamoDB but free in Redis would sell twice: take them again at once.
      const marked = await markLostSales(stores, report);
      if (marked > 0) log.error({ eventId: event.eventId, marked }, 'Redis had lost sales (sold in DynamoDB, free in Redis); the seats are taken again');
      const lines = formatAudit(report);
      if (report.drift.length > 0) log.error({ eventId: event.eventId, drift: report.drift.length, details: lines.slice(0, 50) }, 'audit found drift between Redis, DynamoDB and MySQL');
      else log.info({ eventId: event.eventId, seats: report.seats, unverified: report.unverified }, 'audit clean');
    }
  };
  const timer = every > 0
    ? setInterval(() => {
        auditing ??= auditAll()
          .catch((err) => log.warn({ err }, 'audit failed; it runs again on the next interval'))
          .finally(() => (auditing = undefined));
      }, every)
    : undefined;
  timer?.unref();

  return {
    deps: { soldSeatsInWriteModel, onCatalogEntry, onEventRemoved },
    async stop() {
      if (timer) clearInterval(timer);
      await auditing;
      await soldSeatsInWriteModel.close();
      await stores.close();
    },
  };
}
