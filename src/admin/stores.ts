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
import { createTableIfAbsent, ensureTables, eventTableDefinitions } from '../writer/tables';
import { partitionKey } from '../purchase/record';
import { readDynamoFences, writeDynamoFence } from '../reset/dynamo-fences';
import type { ResetFence } from '../reset/fence';

export interface ClearedEvent {
  /** DynamoDB tables of earlier generations dropped (two per generation: seats and tickets). */
  droppedTables: number;
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
   * Clears an event's sale from DynamoDB and MySQL (the `clearStores` of resetEvent) without
   * waiting for the consumers. A reset fence (src/reset/fence.ts) is recorded first, at the end
   * of the event's partitions, with the next generation: both consumers skip the event's records
   * before it, so a backlog still in Kafka never re-creates the old sale, and from then on
   * DynamoDB's readers and the writer use that generation's tables (created here, empty). Then
   * the old generation's tables are dropped whole, and MySQL's rows deleted, both at once.
   *
   * Resolves once both fences hold (DynamoDB's written; MySQL's written inside the transaction
   * that deletes the rows, which holds the reset lock, so no projector transaction runs until it
   * commits): from then on the Redis inventory may be re-created. `cleared` resolves once the
   * old sale is gone from both stores.
   */
  async fenceEvent(
    eventId: string,
    opts: { log?: (line: string) => void } = {},
  ): Promise<{ generation: number; cleared: Promise<ClearedEvent> }> {
    const started = Date.now();
    const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const entry = (await this.catalogEntry(eventId))?.entry;
    if (!entry) throw new Error(`Event ${eventId} is in neither the Redis catalog nor its MySQL mirror; nothing to clear`);
    const zoneIds = entry.venue.zones.map((z) => z.zoneId);
    const { dynamo } = this.ctx;
    await ensureTables(dynamo, this.ctx.cfg.DYNAMODB_TABLE_PREFIX);
    const fence = await this.fenceOf(eventId, zoneIds);
    const fresh = this.writeModel.tablesOf(eventId, fence.generation);
    // Started, not waited for: the writer waits for them to be ACTIVE when it first writes there.
    await Promise.all(eventTableDefinitions(fresh).map((def) => createTableIfAbsent(dynamo, def)));
    await writeDynamoFence(dynamo, this.writeModel.tables.resets, fence, fence.generation - 1);
    opts.log?.(
      `fence ${fence.generation} recorded at ${Object.entries(fence.partitions)
        .map(([p, o]) => `${p}:${o}`)
        .join(
          ' ',
        )} (partition:offset); older records of ${eventId} still in Kafka will be skipped; DynamoDB now holds its sales in ${fresh.seats} and ${fresh.tickets} (${at()})`,
    );
    // Every earlier generation's table there is, found by name: also one a reset that crashed
    // before its drop left, or one a stale writer re-created after a drop.
    const dynamoDone = this.writeModel
      .dropGenerationsBelow(eventId, fence.generation, (table) => opts.log?.(`DynamoDB: ${table} dropped (${at()})`))
      .then((dropped) => {
        if (dropped.length === 0) opts.log?.(`DynamoDB: no table of an earlier generation of ${eventId} left to drop (${at()})`);
        return dropped.length;
      });
    let mysqlFenced!: () => void;
    const fencedInMysql = new Promise<void>((resolve) => (mysqlFenced = resolve));
    const mysqlDone = this.readModel.deleteEvent(eventId, fence, mysqlFenced).then((n) => {
      opts.log?.(`MySQL: ${n} tickets deleted (${at()})`);
      return n;
    });
    const cleared = Promise.all([dynamoDone, mysqlDone]).then(([droppedTables, mysqlRows]) => ({
      droppedTables,
      mysqlRows,
      generation: fence.generation,
      seconds: (Date.now() - started) / 1000,
    }));
    cleared.catch(() => undefined); // the caller awaits it; a failure before then is not unhandled
    await Promise.race([fencedInMysql, mysqlDone]);
    return { generation: fence.generation, cleared };
  }

  /** fenceEvent, waiting until the old sale is gone from both stores. */
  async clearEvent(eventId: string, opts: { log?: (line: string) => void } = {}): Promise<ClearedEvent> {
    return (await this.fenceEvent(eventId, opts)).cleared;
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
    return {
      eventId,
      generation: (previous?.generation ?? 0) + 1,
      partitions,
      resetAt: new Date().toISOString(),
    };
  }

  /** The event log's connections belong to the RuntimeContext, which closes them. */
  async close(): Promise<void> {}
}
