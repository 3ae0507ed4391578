import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../src/config/config';
import { ReadModel } from '../src/projector/read-model';
import { projectorGroup } from '../src/projector/project';
import { createDynamoClient } from '../src/infra/connections';
import { createSqlClient } from '../src/shared/sql';
import type { EventLog, LogRecord } from '../src/stream/event-log';
import { groupProgress } from '../src/stream/progress';
import { topics } from '../src/stream/kafka';
import { measureBatchWriteCeiling } from '../src/writer/ceiling';
import { writerGroup } from '../src/writer/rebuild-source';
import { DynamoWriteModel } from '../src/writer/store';
import { dropAllTables, ensureTables } from '../src/writer/tables';
import { startServer, type ServerProcess } from '../load/driver/server-process';

/** What the CQRS side did while a seed replay sold, measured in the same run (dynalite's figures). */
export interface StoresFigures {
  tickets: { dynamodb: number; mysql: number };
  /** The writer's own write path replaying the whole topic into fresh tables, as fast as it goes. */
  writerCatchUpTicketsPerSec: number;
  /** Tickets stored per second from the first sale until the store held them all. */
  writerTicketsPerSec: number;
  projectorRowsPerSec: number;
  /** How long after the last 201 each store held every ticket. */
  completeAfterLastSaleMs: { writer: number; projector: number };
  /** Confirmation → visible in MySQL, from the projector's histogram (bucket bounds). */
  readModelLag: { p50Ms: number; p99Ms: number };
  dynaliteCeilingItemsPerSec: number;
  /** Writer items/s (two items per ticket: ticket + seat) over dynalite's BatchWriteItem ceiling. */
  writerShareOfCeiling: number;
  /** dynalite's ceiling on the writer's own item mix (a ticket item with its two GSIs and a seat item per ticket). */
  dynaliteWriterMixCeilingItemsPerSec?: number;
  writerShareOfMixCeiling?: number;
}

export interface StoresPhase {
  topicPrefix: string;
  /** Call when the last sale was answered; resolves once both stores caught up. */
  finish(firstSaleAt: number, lastSaleAt: number): Promise<StoresFigures>;
  stop(): Promise<void>;
}

const counter = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

/** Upper bucket bound (ms) where the cumulative count reaches quantile q. */
function quantileMs(text: string, name: string, q: number): number {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map(
    (m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const,
  );
  const total = buckets.at(-1)?.[1] ?? 0;
  const hit = buckets.find(([, c]) => total > 0 && c >= q * total);
  return hit ? hit[0] * 1000 : 0;
}

/** Starts a writer and a projector on a topic of their own, before the sales they will store. */
export async function startStoresPhase(cfg: Config, kafka: EventLog, runId: string): Promise<StoresPhase> {
  const topicPrefix = `bench.${runId}.stores`;
  const tablePrefix = `bench${runId}`;
  const env = { DYNAMODB_TABLE_PREFIX: tablePrefix };
  const children: ServerProcess[] = [];
  for (const role of ['writer', 'projector'] as const) children.push(await startServer({ backend: 'redis', role, topicPrefix, env }));
  const topic = topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets;
  const caughtUp = async (group: string) => {
    const progress = await groupProgress(kafka, group, topic);
    return progress.every((p) => p.end <= p.low || p.committed >= p.end);
  };

  return {
    topicPrefix,
    async finish(firstSaleAt, lastSaleAt) {
      const done: Record<string, number> = {};
      const deadline = Date.now() + 300_000;
      while (Object.keys(done).length < 2 && Date.now() < deadline) {
        for (const [name, group] of [
          ['writer', writerGroup(topicPrefix)],
          ['projector', projectorGroup(topicPrefix)],
        ] as const) {
          if (!(name in done) && (await caughtUp(group))) done[name] = Date.now();
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (Object.keys(done).length < 2)
        throw new Error(`the ${['writer', 'projector'].filter((n) => !(n in done)).join(' and ')} did not catch up within 5 minutes`);
      const [writerMetrics, projectorMetrics] = await Promise.all(children.map(async (c) => (await fetch(`${c.url}/metrics`)).text()));
      const tickets = {
        dynamodb: counter(writerMetrics!, 'ticketing_tickets_stored_total', 'store="dynamodb"'),
        mysql: counter(projectorMetrics!, 'ticketing_tickets_stored_total', 'store="mysql"'),
      };
      const dynamo = createDynamoClient(cfg);
      const ceiling = await measureBatchWriteCeiling(dynamo, { tablePrefix: `${tablePrefix}c` });
      const mix = await measureBatchWriteCeiling(dynamo, { tablePrefix: `${tablePrefix}m`, shape: 'writer' });
      const catchUp = await writerCatchUp(kafka, dynamo, topic, `${tablePrefix}r`);
      dynamo.destroy();
      const writerTicketsPerSec = Math.round(tickets.dynamodb / ((done.writer! - firstSaleAt) / 1000));
      return {
        tickets,
        writerTicketsPerSec,
        projectorRowsPerSec: Math.round(tickets.mysql / ((done.projector! - firstSaleAt) / 1000)),
        completeAfterLastSaleMs: { writer: Math.max(0, done.writer! - lastSaleAt), projector: Math.max(0, done.projector! - lastSaleAt) },
        readModelLag: {
          p50Ms: quantileMs(projectorMetrics!, 'ticketing_read_model_lag_seconds', 0.5),
          p99Ms: quantileMs(projectorMetrics!, 'ticketing_read_model_lag_seconds', 0.99),
        },
        writerCatchUpTicketsPerSec: catchUp,
        dynaliteCeilingItemsPerSec: Math.round(ceiling.itemsPerSecond),
        writerShareOfCeiling: Math.round(((catchUp * 2) / ceiling.itemsPerSecond) * 100) / 100,
        dynaliteWriterMixCeilingItemsPerSec: Math.round(mix.itemsPerSecond),
        writerShareOfMixCeiling: Math.round(((catchUp * 2) / mix.itemsPerSecond) * 100) / 100,
      };
    },
    async stop() {
      for (const c of children) await c.stop().catch(() => undefined);
      const dynamo = createDynamoClient(cfg);
      await dropAllTables(dynamo, tablePrefix);
      dynamo.destroy();
    },
  };
}

/**
 * The writer's ceiling on this store: every record of the topic, read first, then written with
 * the writer's own code (consistent-read conflict check, BatchWriteItem of tickets then seats)
 * into fresh tables. Kafka is left out so the figure compares with dynalite's own ceiling.
 */
async function writerCatchUp(kafka: EventLog, dynamo: DynamoDBClient, topic: string, tablePrefix: string): Promise<number> {
  const messages: LogRecord[] = [];
  const end = (await kafka.endOffsets(topic)).reduce((n, p) => n + p.high - p.low, 0);
  const reader = await kafka.consume({
    groupId: `${topic}.catch-up-${Date.now()}`,
    topic,
    onBatch: async (batch) => void messages.push(...batch.records),
  });
  const deadline = Date.now() + 120_000;
  while (messages.length < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await reader.stop();
  await ensureTables(dynamo, tablePrefix);
  const model = new DynamoWriteModel(dynamo, tablePrefix);
  const started = Date.now();
  let tickets = 0;
  for (let i = 0; i < messages.length; i += 500) tickets += (await model.writeChunk(messages.slice(i, i + 500))).ok;
  const perSec = Math.round(tickets / ((Date.now() - started) / 1000));
  await dropAllTables(dynamo, tablePrefix);
  return perSec;
}

/** Removes the phase's rows from MySQL (its events are the bench's own). */
export async function forgetStoredEvents(cfg: Config, eventIds: string[]): Promise<void> {
  const sql = createSqlClient(cfg.MYSQL_URL, { connections: 1 });
  const model = new ReadModel(sql);
  for (const id of eventIds) await model.deleteEvent(id).catch(() => undefined);
  await sql.close();
}
