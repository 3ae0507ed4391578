import type { CatalogEntry } from '../catalog/model';
import { CatalogStore } from '../catalog/store';
import { Inventory } from '../inventory/inventory';
import { loadCatalogEntry } from '../projector/catalog-sql';
import { projectorGroup } from '../projector/project';
import { ReadModel } from '../projector/read-model';
import type { RuntimeContext } from '../infra/connections';
import { waitUntilCaughtUp } from '../stream/progress';
import { topics } from '../stream/kafka';
import { writerGroup } from '../writer/rebuild-source';
import { DynamoWriteModel } from '../writer/store';

/** The three stores of one platform and its two consumer groups, as the admin tools see them. */
export class CqrsStores {
  readonly inventory: Inventory;
  readonly catalog: CatalogStore;
  readonly writeModel: DynamoWriteModel;
  readonly readModel: ReadModel;
  readonly topic: string;
  readonly groups: { writer: string; projector: string };

  constructor(readonly ctx: RuntimeContext) {
    const { cfg } = ctx;
    this.inventory = new Inventory(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.PURCHASE_RECORD_TTL_SECONDS);
    this.catalog = new CatalogStore(ctx.redis, cfg.REDIS_KEY_PREFIX);
    this.writeModel = new DynamoWriteModel(ctx.dynamo, cfg.DYNAMODB_TABLE_PREFIX);
    this.readModel = new ReadModel(ctx.mysql);
    this.topic = topics(cfg).tickets;
    this.groups = { writer: writerGroup(cfg.KAFKA_TOPIC_PREFIX), projector: projectorGroup(cfg.KAFKA_TOPIC_PREFIX) };
  }

  /** The event from the Redis catalog, or from its MySQL mirror when Redis lost it. */
  async catalogEntry(eventId: string): Promise<{ entry: CatalogEntry; from: 'redis' | 'mysql' } | undefined> {
    const live = await this.catalog.getEvent(eventId);
    if (live) return { entry: live, from: 'redis' };
    const mirrored = await loadCatalogEntry(this.ctx.mysql, eventId).catch(() => undefined);
    return mirrored && { entry: mirrored, from: 'mysql' };
  }

  /** Waits until a group has committed what the topic holds now; returns the messages still behind. */
  async waitForGroup(group: 'writer' | 'projector', timeoutMs: number, onProgress?: (behind: number) => void): Promise<number> {
    return waitUntilCaughtUp(this.ctx.eventLog, this.groups[group], this.topic, { timeoutMs, ...(onProgress ? { onProgress } : {}) });
  }

  /**
   * Deletes an event's sales from DynamoDB and MySQL (the `clearStores` of resetEvent). Waits
   * for both consumers first, so no record of the old sales lands after the delete.
   */
  async clearEvent(
    eventId: string,
    opts: { waitMs?: number; log?: (line: string) => void } = {},
  ): Promise<{ dynamoItems: number; mysqlRows: number }> {
    const entry = (await this.catalogEntry(eventId))?.entry;
    if (!entry) throw new Error(`Event ${eventId} is in neither the Redis catalog nor its MySQL mirror; nothing to clear`);
    for (const group of ['writer', 'projector'] as const) {
      const left = await this.waitForGroup(
        group,
        opts.waitMs ?? 120_000,
        (n) => n > 0 && opts.log?.(`waiting for the ${group} to catch up: ${n} messages behind`),
      );
      if (left > 0) {
        throw new Error(
          `The ${group} (group ${this.groups[group]}) is ${left} messages behind; start it or wait for it to catch up, then reset again`,
        );
      }
    }
    const dynamoItems = await this.writeModel.deleteEvent(
      eventId,
      entry.venue.zones.map((z) => z.zoneId),
    );
    const mysqlRows = await this.readModel.deleteEvent(eventId);
    return { dynamoItems, mysqlRows };
  }

  /** The event log's connections belong to the RuntimeContext, which closes them. */
  async close(): Promise<void> {}
}
