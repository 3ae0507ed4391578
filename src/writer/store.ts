import { GetItemCommand, QueryCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { decodeTicketPurchases, type TicketPurchased } from '../events/ticket-purchased';
import type { TicketView } from '../events/ticket-view';
import { metrics } from '../observability/metrics';
import type { HandledChunk } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';
import { batchGetAll, batchWriteAll, type Item, type TableWrite } from './batch';
import { eventZoneKey, parseSeatSortKey, seatSortKey, tableNames } from './tables';

const S = (v: string) => ({ S: v });
const N = (v: number) => ({ N: String(v) });

/** A sold seat as the write model holds it. */
export interface StoredSeat {
  row: string;
  column: number;
  ticketId: string;
}

function ticketItem(r: TicketPurchased, t: TicketPurchased['tickets'][number]): Item {
  return {
    ticketId: S(t.ticketId),
    purchaseId: S(r.purchaseId),
    eventId: S(r.eventId),
    zoneId: S(r.zoneId),
    venueId: S(r.venueId),
    userId: S(r.userId),
    row: S(t.row),
    column: N(t.column),
    priceCents: N(t.priceCents),
    currency: S(r.currency),
    createdOn: S(r.createdOn),
    // The tickets of the whole purchase: a batch write may store some of them and not (yet)
    // the others, and a purchase rebuilt from its tickets must know it is not complete.
    ticketCount: N(r.tickets.length),
    eventZone: S(eventZoneKey(r.eventId, r.zoneId)),
    seat: S(seatSortKey(t.row, t.column)),
  };
}

/** The seat item carries the whole ticket too, so one ConsistentRead answers "who holds this seat". */
const seatItem = ticketItem;

function viewOf(item: Item): TicketView {
  return {
    ticketId: item.ticketId?.S ?? '',
    purchaseId: item.purchaseId?.S ?? '',
    venueId: item.venueId?.S ?? '',
    eventId: item.eventId?.S ?? '',
    zoneId: item.zoneId?.S ?? '',
    row: item.row?.S ?? '',
    column: Number(item.column?.N ?? 0),
    userId: item.userId?.S ?? '',
    priceCents: Number(item.priceCents?.N ?? 0),
    currency: item.currency?.S ?? 'USD',
    status: 'CONFIRMED',
    createdOn: item.createdOn?.S ?? '',
    ...(item.ticketCount?.N ? { ticketCount: Number(item.ticketCount.N) } : {}),
  };
}

/**
 * DynamoDB, the write model. Writes are idempotent: every item's key is derived from the
 * record (seat, ticket id), so a redelivered record rewrites identical items. The one thing a
 * rewrite must never do is replace a seat held by another ticket: each chunk first reads its
 * seats (ConsistentRead) and dead-letters a record whose seat is held by a different ticket.
 */
export class DynamoWriteModel {
  readonly tables;
  constructor(
    private readonly dynamo: DynamoDBClient,
    tablePrefix: string,
    private readonly concurrency = 8,
  ) {
    this.tables = tableNames(tablePrefix);
  }

  /** Writes one chunk of a partition's records (log order); see docs/cqrs.md for the argument. */
  async writeChunk(chunk: readonly LogRecord[]): Promise<HandledChunk> {
    const { decoded, deadLetters } = decodeTicketPurchases(chunk);
    const records = decoded.map(({ log, event }) => ({ message: log, record: event }));
    const keyOf = (r: TicketPurchased, t: { row: string; column: number }) => `${eventZoneKey(r.eventId, r.zoneId)}|${seatSortKey(t.row, t.column)}`;
    const keys = new Map<string, Item>();
    for (const { record: r } of records) {
      for (const t of r.tickets) keys.set(keyOf(r, t), { eventZone: S(eventZoneKey(r.eventId, r.zoneId)), seat: S(seatSortKey(t.row, t.column)) });
    }
    const held = new Map<string, string>();
    const existing = await batchGetAll(this.dynamo, this.tables.seats, [...keys.values()], {
      consistent: true,
      projection: '#ez, #s, #t',
      names: { '#ez': 'eventZone', '#s': 'seat', '#t': 'ticketId' },
    });
    for (const item of existing) held.set(`${item.eventZone?.S}|${item.seat?.S}`, item.ticketId?.S ?? '');

    let duplicate = 0;
    const fresh: TicketPurchased[] = [];
    for (const { message, record: r } of records) {
      const conflicts = r.tickets.filter((t) => {
        const holder = held.get(keyOf(r, t));
        return holder !== undefined && holder !== t.ticketId;
      });
      if (conflicts.length > 0) {
        const c = conflicts[0]!;
        deadLetters.push({ record: message, reason: `seat-conflict: ${r.eventId}/${r.zoneId} row ${c.row} seat ${c.column} is held by ${held.get(keyOf(r, c))}, not ${c.ticketId}` });
        continue;
      }
      if (r.tickets.every((t) => held.get(keyOf(r, t)) === t.ticketId)) {
        duplicate++;
        continue;
      }
      for (const t of r.tickets) held.set(keyOf(r, t), t.ticketId);
      fresh.push(r);
    }

    // Tickets first, seats last: a seat item proves its ticket item exists, which is what lets
    // a fully present record be skipped as a duplicate after a crash between the two.
    const ticketWrites: TableWrite[] = [];
    const seatWrites: TableWrite[] = [];
    for (const r of fresh) {
      for (const t of r.tickets) {
        ticketWrites.push({ table: this.tables.tickets, request: { PutRequest: { Item: ticketItem(r, t) } } });
        seatWrites.push({ table: this.tables.seats, request: { PutRequest: { Item: seatItem(r, t) } } });
      }
    }
    await batchWriteAll(this.dynamo, ticketWrites, this.concurrency);
    await batchWriteAll(this.dynamo, seatWrites, this.concurrency);
    if (seatWrites.length > 0) metrics.ticketsStored.inc({ store: 'dynamodb' }, seatWrites.length);
    return { ok: fresh.length, duplicate, deadLetters };
  }

  async findTicket(ticketId: string): Promise<TicketView | undefined> {
    const out = await this.dynamo.send(new GetItemCommand({ TableName: this.tables.tickets, Key: { ticketId: S(ticketId) }, ConsistentRead: true }));
    return out.Item ? viewOf(out.Item) : undefined;
  }

  /** Every sold seat of a zone, read with ConsistentRead (the truth for a rebuild or an audit). */
  async soldSeats(eventId: string, zoneId: string): Promise<StoredSeat[]> {
    const seats: StoredSeat[] = [];
    await this.queryAll(
      {
        TableName: this.tables.seats,
        KeyConditionExpression: 'eventZone = :ez',
        ExpressionAttributeValues: { ':ez': S(eventZoneKey(eventId, zoneId)) },
        ProjectionExpression: '#s, #t',
        ExpressionAttributeNames: { '#s': 'seat', '#t': 'ticketId' },
        ConsistentRead: true,
      },
      (item) => {
        const pos = parseSeatSortKey(item.seat?.S ?? '');
        if (pos) seats.push({ ...pos, ticketId: item.ticketId?.S ?? '' });
      },
    );
    return seats;
  }

  /** Deletes an event's seats and tickets (load-test reset). Returns the items deleted. */
  async deleteEvent(eventId: string, zoneIds: string[]): Promise<number> {
    const deletes: TableWrite[] = [];
    for (const zoneId of zoneIds) {
      for (const s of await this.soldSeats(eventId, zoneId)) {
        deletes.push({ table: this.tables.seats, request: { DeleteRequest: { Key: { eventZone: S(eventZoneKey(eventId, zoneId)), seat: S(seatSortKey(s.row, s.column)) } } } });
      }
    }
    // The byEvent index also finds ticket items whose seat item was never written.
    await this.queryAll(
      {
        TableName: this.tables.tickets,
        IndexName: 'byEvent',
        KeyConditionExpression: 'eventId = :e',
        ExpressionAttributeValues: { ':e': S(eventId) },
        ProjectionExpression: '#t',
        ExpressionAttributeNames: { '#t': 'ticketId' },
      },
      (item) => void deletes.push({ table: this.tables.tickets, request: { DeleteRequest: { Key: { ticketId: S(item.ticketId?.S ?? '') } } } }),
    );
    await batchWriteAll(this.dynamo, deletes, this.concurrency);
    return deletes.length;
  }

  private async queryAll(input: QueryCommandInput, each: (item: Item) => void): Promise<void> {
    let start: Item | undefined;
    do {
      const out = await this.dynamo.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of out.Items ?? []) each(item);
      start = out.LastEvaluatedKey;
    } while (start);
  }
}
