import type { CatalogEntry, ZoneDef } from '../catalog/model';
import type { LeaderWork } from '../controller/controller';
import type { ReconcileDeps } from '../controller/reconcile';
import type { RuntimeContext } from '../infra/connections';
import type { Logger } from '../observability/logger';
import { removeCatalogEntry, upsertCatalogEntry } from '../projector/catalog-sql';
import { migrate } from '../projector/migrations';
import { writeModelRebuildSource, type SoldSeatsInWriteModel } from '../writer/rebuild-source';
import { ensureTables } from '../writer/tables';
import { auditWork } from './audit-pass';
import { fenceWork } from './fence-pass';
import { CqrsStores } from './stores';

export interface ControllerCqrs {
  /** Add to the controller's ReconcileDeps. */
  deps: Pick<ReconcileDeps, 'soldSeatsInWriteModel' | 'onCatalogEntry' | 'onEventRemoved'>;
  /** Register on the leader's term: the rebuild source, and the audit with its repair. */
  leaderWork: LeaderWork[];
  stop(): Promise<void>;
}

/**
 * What the controller does for the CQRS stores: rebuilds lost zones from DynamoDB (the
 * reconcile hook), mirrors the catalog into MySQL, and audits every event periodically.
 * The rebuild and the audit are leader work: a follower holds no rebuild state and never
 * audits (the audit writes to Redis). MySQL being down never blocks seeding Redis: the mirror
 * is retried on the next reconcile.
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
  await ensureMigrated().catch((err) =>
    log.error({ err }, 'read-model migrations failed; the catalog mirror retries on the next reconcile'),
  );
  // The rebuild hook reads the seat table; create it if the writer has not run yet.
  await ensureTables(ctx.dynamo, ctx.cfg.DYNAMODB_TABLE_PREFIX).catch((err) =>
    log.error({ err }, 'DynamoDB tables could not be ensured; lost zones cannot be rebuilt until DynamoDB answers'),
  );

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
      log.warn(
        { err, eventId: entry.event.eventId },
        'could not remove the event from the MySQL catalog; remove it by hand or re-apply and delete it again',
      ),
    );
  };

  // Opened per leadership term: its settle clocks start fresh with each new leader.
  let fromWriteModel: SoldSeatsInWriteModel | undefined;
  const rebuild: LeaderWork = {
    name: 'rebuild',
    start() {
      fromWriteModel = writeModelRebuildSource({
        eventLog: ctx.eventLog,
        model: stores.writeModel,
        topic: stores.topic,
        groupId: stores.groups.writer,
        // A record reserved on the lost node reaches a broker by its deadline plus the send overrun, or never.
        settleMs: ctx.cfg.PURCHASE_TIMEOUT_MS + ctx.eventLog.sendOverrunMs,
        log,
      });
    },
    async stop() {
      await fromWriteModel?.close();
      fromWriteModel = undefined;
    },
  };
  // The MySQL mirror remembers events this process seeded, even after Redis lost the catalog too.
  const soldSeatsInWriteModel = async (eventId: string, zone: ZoneDef, seededBefore: boolean) =>
    fromWriteModel ? fromWriteModel(eventId, zone, seededBefore || mirrored.has(eventId)) : ('not-caught-up' as const);

  const leaderWork = [
    rebuild,
    fenceWork(stores, {
      everyMs: ctx.cfg.FENCE_CHECK_INTERVAL_MS,
      // A record reserved on the lost node reaches a broker by its deadline plus the send overrun,
      // or never; replicated, it is committed (under the end offset) at most the brokers' replica
      // lag later: a dead follower stays in the ISR that long, holding the high watermark back.
      settleMs:
        ctx.cfg.PURCHASE_TIMEOUT_MS +
        ctx.eventLog.sendOverrunMs +
        (ctx.cfg.KAFKA_REPLICATION_FACTOR > 1 ? ctx.cfg.KAFKA_REPLICA_LAG_MAX_MS : 0),
      log: log.child({ component: 'fence' }),
    }),
  ];
  if (ctx.cfg.AUDIT_INTERVAL_MS > 0)
    leaderWork.push(auditWork(stores, { everyMs: ctx.cfg.AUDIT_INTERVAL_MS, log: log.child({ component: 'audit' }) }));

  return {
    deps: { soldSeatsInWriteModel, onCatalogEntry, onEventRemoved },
    leaderWork,
    async stop() {
      await stores.close();
    },
  };
}
