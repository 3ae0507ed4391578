import { randomBytes } from 'node:crypto';
import { CqrsStores } from '../../src/admin/stores';
import { metrics } from '../../src/observability/metrics';
import { newPurchaseId, ticketIdOf } from '../../src/purchase/ids';
import { partitionKey, SCHEMA_VERSION, type TicketPurchased } from '../../src/purchase/record';
import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { Config } from '../../src/config/config';
import { RuntimeContext } from '../../src/infra/connections';
import { testLogger } from '../support/env';
import type { EventLog } from '../../src/stream/event-log';
import { topics } from '../../src/stream/kafka';
import { produceTo } from '../support/kafka';
import { http } from '../support/platform';

export type SeatMap = Map<string, string>;
export const seatKey = (zoneId: string, row: string, column: number) => `${zoneId}/${row}-${column}`;

/** A TicketPurchased record as the api would produce it. */
export function record(eventId: string, zoneId: string, seats: { row: string; column: number }[], userId = 'u1'): TicketPurchased {
  const purchaseId = newPurchaseId(eventId, zoneId);
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'TicketPurchased',
    purchaseId,
    eventId,
    venueId: `V${eventId}`,
    zoneId,
    userId,
    tickets: seats.map((s, i) => ({ ticketId: ticketIdOf(purchaseId, i + 1), row: s.row, column: s.column, priceCents: 5000 })),
    currency: 'USD',
    createdOn: new Date().toISOString(),
  };
}

/** Produces raw values (or records) to the platform's tickets topic with acks=all, in order. */
export async function produce(eventLog: EventLog, topicPrefix: string, values: { key: string; value: string }[]): Promise<void> {
  await produceTo(eventLog, topics({ KAFKA_TOPIC_PREFIX: topicPrefix }).tickets, values);
}

export const asMessage = (r: TicketPurchased) => ({ key: partitionKey(r.eventId, r.zoneId), value: JSON.stringify(r) });

/** seat → ticketId as DynamoDB's seat table holds it for the zones. */
export async function dynamoSeats(stores: CqrsStores, eventId: string, zoneIds: string[]): Promise<SeatMap> {
  const out: SeatMap = new Map();
  for (const zoneId of zoneIds)
    for (const s of await stores.writeModel.soldSeats(eventId, zoneId)) out.set(seatKey(zoneId, s.row, s.column), s.ticketId);
  return out;
}

/** seat → ticketId as MySQL holds it; throws if a seat appears twice (it cannot: unique key). */
export async function mysqlSeats(stores: CqrsStores, eventId: string): Promise<SeatMap> {
  const out: SeatMap = new Map();
  for (const s of await stores.readModel.seatsOfEvent(eventId)) {
    const k = seatKey(s.zoneId, s.row, s.column);
    if (out.has(k)) throw new Error(`MySQL holds ${k} twice`);
    out.set(k, s.ticketId);
  }
  return out;
}

export const sortedEntries = (m: SeatMap) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

export async function counter(group: string, outcome: string): Promise<number> {
  const m = await metrics.consumerMessages.get();
  return m.values.filter((v) => v.labels.group === group && v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);
}

/** The stores of a platform configuration, on connections of their own (they outlive a platform stop). */
export function testStores(cfg: Config): CqrsStores & { closeAll(): Promise<void> } {
  const ctx = new RuntimeContext(cfg, testLogger('stores'));
  const stores = new CqrsStores(ctx);
  return Object.assign(stores, {
    async closeAll() {
      await stores.close();
      await ctx.close();
    },
  });
}

/** Ticket items of an event in DynamoDB: its current generation's tickets table. */
export async function dynamoTicketCount(stores: CqrsStores, eventId: string): Promise<number> {
  return (await stores.writeModel.ticketItems(eventId)).length;
}

/** Whether DynamoDB has the table; one being dropped is not (dynalite shows it DELETING for 500 ms once its items are gone). */
export async function tableExists(stores: CqrsStores, TableName: string): Promise<boolean> {
  return stores.ctx.dynamo.send(new DescribeTableCommand({ TableName })).then(
    (out) => out.Table?.TableStatus !== 'DELETING',
    (err: unknown) => {
      if (err instanceof ResourceNotFoundException) return false;
      throw err;
    },
  );
}

export async function purchaseCount(stores: CqrsStores, eventId: string): Promise<number> {
  const [row] = await stores.ctx.mysql.select<{ n: number }>('SELECT COUNT(*) AS n FROM purchases WHERE event_id = ?', [eventId]);
  return Number(row?.n ?? 0);
}

export interface Sale {
  seats: SeatMap;
  statuses: Map<number, number>;
  userOf: Map<string, string>;
}

/**
 * Buys the given seat groups through the API with `concurrency` requests in flight; every group
 * is one purchase. Returns seat → ticketId of the 201 answers (a seat sold twice throws).
 */
export async function buy(
  url: string,
  eventId: string,
  groups: { zoneId: string; seats: { row: string; column: number }[] }[],
  concurrency = 16,
  /** Called after each 201 with the seats sold so far; the other requests stay in flight meanwhile. */
  onSold?: (soldSeats: number) => Promise<void> | void,
): Promise<Sale> {
  const sale: Sale = { seats: new Map(), statuses: new Map(), userOf: new Map() };
  let next = 0;
  // A buyer of its own per group (never two groups of one buyer past the event's perUserLimit).
  const run = randomBytes(3).toString('hex');
  const worker = async () => {
    while (next < groups.length) {
      const index = next++;
      const g = groups[index]!;
      const userId = `user-${run}-${index}`;
      const res = await http(url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId, zoneId: g.zoneId, seats: g.seats });
      sale.statuses.set(res.status, (sale.statuses.get(res.status) ?? 0) + 1);
      if (res.status !== 201) continue;
      for (const t of res.body.tickets as { ticketId: string; row: string; column: number }[]) {
        const k = seatKey(g.zoneId, t.row, t.column);
        if (sale.seats.has(k)) throw new Error(`seat ${k} was sold twice: ${sale.seats.get(k)} and ${t.ticketId}`);
        sale.seats.set(k, t.ticketId);
        sale.userOf.set(t.ticketId, userId);
      }
      await onSold?.(sale.seats.size);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sale;
}

/** Seat groups of 1..maxPerGroup consecutive seats covering the rows (shuffled). */
export function seatGroups(
  zoneId: string,
  rows: string[],
  seatsPerRow: number,
  maxPerGroup = 4,
): { zoneId: string; seats: { row: string; column: number }[] }[] {
  const groups: { zoneId: string; seats: { row: string; column: number }[] }[] = [];
  for (const row of rows) {
    let c = 1;
    while (c <= seatsPerRow) {
      const n = Math.min(1 + ((c * 7 + row.charCodeAt(0)) % maxPerGroup), seatsPerRow - c + 1);
      groups.push({ zoneId, seats: Array.from({ length: n }, (_, i) => ({ row, column: c + i })) });
      c += n;
    }
  }
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  return groups;
}
