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
import { ensureTables } from '../writer/tables';
import { partitionKey } from '../purchase/record';
import { readDynamoFences, writeDynamoFence } from '../reset/dynamo-fences';
import type { ResetFence } from '../reset/fence';

export interface ClearedEvent {
  dynamoItems: number;
  mysqlRows: number;
  /** The event's reset generation after this reset (1 for the first). */
  generation: number;
  seconds: number;
}

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
   * Deletes an event's sales from DynamoDB and MySQL (the `clearStores` of resetEvent) without
   * waiting for the consumers: a reset fence (src/reset/fence.ts) is recorded first, at the end
   * of the event's partitions, and both consumers skip the event's records before it, so a
   * backlog still in Kafka never re-creates the old sale. Then both stores are cleared at once.
   */
  async clearEvent(eventId: string, opts: { log?: (line: string) => void } = {}): Promise<ClearedEvent> {
    const started = Date.now();
    const entry = (await this.catalogEntry(eventId))?.entry;
    if (!entry) throw new Error(`Event ${eventId} is in neither the Redis catalog nor its MySQL mirror; nothing to clear`);
    const zoneIds = entry.venue.zones.map((z) => z.zoneId);
    await ensureTables(this.ctx.dynamo, this.ctx.cfg.DYNAMODB_TABLE_PREFIX);
    const fence = await this.fenceOf(eventId, zoneIds);
    await writeDynamoFence(this.ctx.dynamo, this.writeModel.tables.resets, fence);
    opts.log?.(
      `fence ${fence.generation} recorded at ${Object.entries(fence.partitions)
        .map(([p, o]) => `${p}:${o}`)
        .join(' ')} (partition:offset); older records of ${eventId} still in Kafka will be skipped`,
    );
    let lastLine = 0;
    const [dynamoItems, mysqlRows] = await Promise.all([
      this.writeModel.deleteEvent(eventId, zoneIds, (deleted, total) => {
        if (Date.now() - lastLine < 1000 && deleted < total) return;
        lastLine = Date.now();
        opts.log?.(`DynamoDB: ${deleted}/${total} items deleted (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }),
      this.readModel.deleteEvent(eventId, fence).then((n) => {
        opts.log?.(`MySQL: ${n} tickets deleted (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        return n;
      }),
    ]);
    return { dynamoItems, mysqlRows, generation: fence.generation, seconds: (Date.now() - started) / 1000 };
  }

  /** The next fence of the event: the end of each partition its zones' records go to. */
  private async fenceOf(eventId: string, zoneIds: string[]): Promise<ResetFence> {
    const previous = (await readDynamoFences(this.ctx.dynamo, this.writeModel.tables.resets, [eventId])).get(eventId);
    const ends = await this.ctx.eventLog.endOffsets(this.topic);
    const partitions: Record<number, number> = {};
    for (const zoneId of zoneIds) {
      if (ends.length === 0) break; // no topic yet: nothing of the event is in Kafka
      const p = this.ctx.eventLog.partitionOf(partitionKey(eventId, zoneId), ends.length);
      partitions[p] = ends.find((e) => e.partition === p)?.high ?? 0;
    }
    return { eventId, generation: (previous?.generation ?? 0) + 1, partitions, resetAt: new Date().toISOString() };
  }

  /** The event log's connections belong to the RuntimeContext, which closes them. */
  async close(): Promise<void> {}
}
