import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { decodeTicketEvents, type DecodedEvent } from '../events/ticket-events';
import type { TicketPurchased } from '../events/ticket-purchased';
import type { TicketView } from '../events/ticket-view';
import { metrics } from '../observability/metrics';
import type { HandledChunk } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';
import { batchGetAll, batchWriteAll, batchWriteInOrder, inParallel, type Item, type TableWrite } from './batch';
import { cancelledBy, planChunk, seatKeyOf, type ChunkPlan, type PlannedItem, type SeatState } from './chunk-plan';
import { SeatCache, type ZoneSeats } from './seat-cache';
import { readDynamoFences } from '../reset/dynamo-fences';
import { dropFenced, eventOfKey, eventsOf, fenceMoved, isFenced, type ResetFence } from '../reset/fence';
import { eventZoneKey, parseSeatSortKey, seatSortKey, tableNames } from './tables';

const S = (v: string) => ({ S: v });
const N = (v: number) => ({ N: String(v) });

/** Where a chunk comes from, for the seat cache (both optional: a caller outside the consumer loop passes neither). */
export interface WriteContext {
  /** The partition assignment the chunk was fetched under (`PartitionBatch.assignment`). */
  assignment?: number;
  /** Keeps the consumer in its group while a zone is read whole. */
  heartbeat?: () => Promise<void>;
}

/** A sold seat as the write model holds it. */
export interface StoredSeat {
  row: string;
  column: number;
  ticketId: string;
  /** Its ticket was cancelled (only listed with `includeCancelled`): the seat is free. */
  cancelled?: boolean;
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

/**
 * The ticket item, and the seat item (which carries the whole ticket too, so one ConsistentRead
 * answers "who holds this seat"). `cancelledAt` marks a cancelled ticket, and on a seat item a
 * free seat that remembers its cancelled ticket (docs/cqrs.md, "Cancellations").
 */
const itemOf = (p: PlannedItem): Item => ({
  ...ticketItem(p.record, p.ticket),
  ...(p.cancelledAt ? { cancelledAt: S(p.cancelledAt) } : {}),
});

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
    status: item.cancelledAt ? 'CANCELLED' : 'CONFIRMED',
    createdOn: item.createdOn?.S ?? '',
    ...(item.ticketCount?.N ? { ticketCount: Number(item.ticketCount.N) } : {}),
    ...(item.cancelledAt?.S ? { cancelledAt: item.cancelledAt.S } : {}),
  };
}

/**
 * DynamoDB, the write model. Writes are idempotent: every item's key is derived from the
 * record (seat, ticket id), so a redelivered record rewrites identical items. The one thing a
 * rewrite must never do is replace a seat held by another live ticket: each chunk is planned
 * against its seats as stored (from the seat cache: a zone read whole once per partition
 * assignment, then kept by the writer's own writes; a conflict is confirmed by a ConsistentRead)
 * and dead-letters a record whose seat is held by a different live ticket. A cancellation marks its tickets and their seat items cancelled (the seat is free
 * for a resale, and still names the cancelled ticket, so a redelivered sale of it is a duplicate).
 */
export class DynamoWriteModel {
  readonly tables;
  private readonly cache: SeatCache;
  constructor(
    private readonly dynamo: DynamoDBClient,
    tablePrefix: string,
    private readonly concurrency = 8,
    cacheSeats?: number,
  ) {
    this.tables = tableNames(tablePrefix);
    this.cache = new SeatCache(cacheSeats);
  }

  /**
   * Writes one chunk of a partition's records (log order); see docs/cqrs.md for the argument.
   * `context.assignment` identifies the partition assignment the chunk was fetched under (the
   * event log's `PartitionBatch.assignment`): the writer trusts what it learned of a partition's
   * seats only within one assignment and for the chunk that follows the last one it wrote.
   */
  async writeChunk(chunk: readonly LogRecord[], context: WriteContext = {}): Promise<HandledChunk> {
    const assignment = context.assignment ?? 0;
    const ends = new Map<number, { assignment: number; next: number }>();
    for (const r of chunk) {
      if (!ends.has(r.partition)) this.cache.admit(r.partition, assignment, r.offset);
      ends.set(r.partition, { assignment, next: r.offset + 1 });
    }
    try {
      // Records of a sale that an event reset cleared are skipped (src/reset/fence.ts).
      const events = eventsOf(chunk);
      const fences = await this.fences(events);
      const { kept, skipped } = dropFenced(chunk, fences);
      const done = await this.writeDecoded(kept, ends, context.heartbeat);
      // A reset may have fenced this chunk while it was written, after its delete pass read the
      // table: take back what the chunk put for records now fenced (a reset that came later than
      // this read finds these items itself, since they were written before it read the table).
      const now = await this.fences(events);
      if (events.some((e) => fenceMoved(fences.get(e), now.get(e)))) {
        const undone = await this.undoFenced(kept, now);
        for (const partition of ends.keys()) this.cache.forget(partition);
        return { ok: Math.max(0, done.ok - undone), duplicate: done.duplicate + skipped + undone, deadLetters: done.deadLetters };
      }
      return { ...done, duplicate: done.duplicate + skipped };
    } catch (err) {
      // Some of the chunk's items may be written and others not: learn its zones again from the table.
      for (const partition of ends.keys()) this.cache.forget(partition);
      throw err;
    }
  }

  /** The reset fences of these events (one consistent read per chunk; none for an event never reset). */
  private fences(eventIds: string[]): Promise<Map<string, ResetFence>> {
    return readDynamoFences(this.dynamo, this.tables.resets, eventIds);
  }

  /**
   * Deletes the items this chunk put for sales that a reset fenced meanwhile: each seat item
   * only while it still names the sale's ticket, then the ticket item. Returns the records undone.
   */
  private async undoFenced(written: readonly LogRecord[], fences: Map<string, ResetFence>): Promise<number> {
    const fenced = written.filter((r) => isFenced(fences.get(eventOfKey(r.key) ?? ''), r.partition, r.offset));
    const { decoded } = decodeTicketEvents(fenced);
    const sales = decoded.flatMap((d) => (d.event.type === 'TicketPurchased' ? [d.event] : []));
    await inParallel(sales, this.concurrency, async (r) => {
      for (const t of r.tickets) {
        await this.conditional(
          new DeleteItemCommand({
            TableName: this.tables.seats,
            Key: { eventZone: S(eventZoneKey(r.eventId, r.zoneId)), seat: S(seatSortKey(t.row, t.column)) },
            ConditionExpression: 'ticketId = :mine',
            ExpressionAttributeValues: { ':mine': S(t.ticketId) },
          }),
        );
        await this.dynamo.send(new DeleteItemCommand({ TableName: this.tables.tickets, Key: { ticketId: S(t.ticketId) } }));
      }
    });
    return fenced.length;
  }

  private async writeDecoded(
    chunk: readonly LogRecord[],
    ends: Map<number, { assignment: number; next: number }>,
    heartbeat?: () => Promise<void>,
  ): Promise<HandledChunk> {
    const { decoded, deadLetters } = decodeTicketEvents(chunk);
    // The seats as stored before the chunk, from the cache (zones it does not know are read whole).
    const before = await this.seatsBefore(decoded, heartbeat);
    // A sale the cache says meets another live ticket is checked against the table before it is
    // called a conflict: the table may have freed the seat since (an event reset deletes items).
    const verified = new Set<string>();
    let plan: ChunkPlan;
    let held: Map<string, SeatState>;
    for (;;) {
      held = new Map(before);
      plan = planChunk(decoded, held);
      const unverified = [
        ...new Set(plan.conflicts.flatMap((c) => c.record.tickets.map((t) => seatKeyOf(c.record.eventId, c.record.zoneId, t)))),
      ].filter((k) => !verified.has(k));
      if (unverified.length === 0) break;
      const truth = await this.readSeats(unverified);
      for (const k of unverified) {
        verified.add(k);
        const state = truth.get(k);
        if (state) before.set(k, state);
        else before.delete(k);
      }
    }

    let duplicate = plan.duplicate;
    // A sale of a seat another live ticket holds: an old sale delivered again after its seat was
    // cancelled and resold is a duplicate; anything else is a double sale upstream, never written.
    const cancelled = cancelledBy(plan);
    for (const id of await this.cancelledTickets(
      plan.conflicts.flatMap((c) => c.record.tickets.map((t) => t.ticketId)).filter((id) => !cancelled.has(id)),
    ))
      cancelled.add(id);
    for (const c of plan.conflicts) {
      if (c.record.tickets.some((t) => cancelled.has(t.ticketId))) duplicate++;
      else
        deadLetters.push({
          record: c.message,
          reason: `seat-conflict: ${c.record.eventId}/${c.record.zoneId} row ${c.ticket.row} seat ${c.ticket.column} is held by ${c.holder}, not ${c.ticket.ticketId}`,
        });
    }

    // Each seat item after its ticket item: a seat item proves its ticket item exists (and, once
    // it shows the ticket cancelled, that the ticket item does too), which is what lets a fully
    // present record be skipped as a duplicate after a crash between the two. Cancellations
    // first (rare): ticket items, then seat items, each conditional on the seat still holding
    // the cancelled ticket, so a resale's item stays.
    await inParallel([...plan.ticketCancels], this.concurrency, ([ticketId, at]) => this.cancelTicketItem(ticketId, at));
    await inParallel(plan.seatCancels, this.concurrency, (c) => this.cancelSeatItem(c.seat, c.ticketId, c.cancelledAt));
    const seatWrites = new Map<string, TableWrite>();
    for (const p of plan.seatPuts.values())
      seatWrites.set(p.ticket.ticketId, { table: this.tables.seats, request: { PutRequest: { Item: itemOf(p) } } });
    const pairs = [...plan.ticketPuts.values()].map((p) => ({
      first: { table: this.tables.tickets, request: { PutRequest: { Item: itemOf(p) } } },
      then: seatWrites.get(p.ticket.ticketId),
    }));
    await batchWriteInOrder(this.dynamo, pairs, this.concurrency);
    if (seatWrites.size > 0) metrics.ticketsStored.inc({ store: 'dynamodb' }, seatWrites.size);
    const after = new Map<string, SeatState | undefined>();
    for (const k of new Set([...before.keys(), ...held.keys(), ...verified])) after.set(k, held.get(k));
    this.cache.wrote(after, ends);
    return { ok: plan.ok, duplicate, deadLetters };
  }

  /**
   * The seat items of the chunk's zones before the chunk, keyed by `seatKeyOf`: from the cache,
   * and for a zone it does not know, one ConsistentRead Query of the whole zone (then cached).
   */
  private async seatsBefore(decoded: DecodedEvent[], heartbeat?: () => Promise<void>): Promise<Map<string, SeatState>> {
    const zones = new Map<string, { partition: number; seats?: ZoneSeats }>();
    for (const { log, event } of decoded) {
      const ez = eventZoneKey(event.eventId, event.zoneId);
      if (!zones.has(ez)) zones.set(ez, { partition: log.partition, seats: this.cache.zone(ez, log.partition) });
    }
    const unknown = [...zones].filter(([, z]) => !z.seats);
    await inParallel(unknown, this.concurrency, async ([ez, z]) => {
      z.seats = await this.zoneSeats(ez, heartbeat);
      this.cache.learn(ez, z.partition, z.seats);
    });
    const before = new Map<string, SeatState>();
    for (const { event: e } of decoded) {
      const seats = zones.get(eventZoneKey(e.eventId, e.zoneId))!.seats!;
      for (const t of e.tickets) {
        const state = seats.get(seatSortKey(t.row, t.column));
        if (state) before.set(seatKeyOf(e.eventId, e.zoneId, t), state);
      }
    }
    return before;
  }

  /** Every seat item of one zone (Query, ConsistentRead), beating the group's heartbeat between pages. */
  private async zoneSeats(eventZone: string, heartbeat?: () => Promise<void>): Promise<ZoneSeats> {
    const seats: ZoneSeats = new Map();
    let start: Item | undefined;
    do {
      const out = await this.dynamo.send(
        new QueryCommand({
          TableName: this.tables.seats,
          KeyConditionExpression: 'eventZone = :ez',
          ExpressionAttributeValues: { ':ez': S(eventZone) },
          ProjectionExpression: '#s, #t, #c',
          ExpressionAttributeNames: { '#s': 'seat', '#t': 'ticketId', '#c': 'cancelledAt' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? [])
        seats.set(item.seat?.S ?? '', { ticketId: item.ticketId?.S ?? '', cancelled: item.cancelledAt !== undefined });
      start = out.LastEvaluatedKey;
      if (start) await heartbeat?.();
    } while (start);
    return seats;
  }

  /** The stored state of these seats (BatchGetItem, ConsistentRead); an absent seat is missing from the map. */
  private async readSeats(seatKeys: string[]): Promise<Map<string, SeatState>> {
    const keys = seatKeys.map((k) => {
      const [eventZone, seat] = k.split('|') as [string, string];
      return { eventZone: S(eventZone), seat: S(seat) };
    });
    const found = await batchGetAll(this.dynamo, this.tables.seats, keys, {
      consistent: true,
      projection: '#ez, #s, #t, #c',
      names: { '#ez': 'eventZone', '#s': 'seat', '#t': 'ticketId', '#c': 'cancelledAt' },
    });
    return new Map(
      found.map((item) => [
        `${item.eventZone?.S}|${item.seat?.S}`,
        { ticketId: item.ticketId?.S ?? '', cancelled: item.cancelledAt !== undefined },
      ]),
    );
  }

  /** Marks a stored ticket cancelled; a ticket that was never stored is not created. */
  private async cancelTicketItem(ticketId: string, cancelledAt: string): Promise<void> {
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.tables.tickets,
        Key: { ticketId: S(ticketId) },
        UpdateExpression: 'SET #c = if_not_exists(#c, :at)',
        ConditionExpression: 'attribute_exists(ticketId)',
        ExpressionAttributeNames: { '#c': 'cancelledAt' },
        ExpressionAttributeValues: { ':at': S(cancelledAt) },
      }),
    );
  }

  /** Frees a seat by marking its item cancelled, only while it holds `ticketId` (never a resale's item). */
  private async cancelSeatItem(seatKey: string, ticketId: string, cancelledAt: string): Promise<void> {
    const [eventZone, seat] = seatKey.split('|') as [string, string];
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.tables.seats,
        Key: { eventZone: S(eventZone), seat: S(seat) },
        UpdateExpression: 'SET #c = if_not_exists(#c, :at)',
        ConditionExpression: 'ticketId = :mine',
        ExpressionAttributeNames: { '#c': 'cancelledAt' },
        ExpressionAttributeValues: { ':at': S(cancelledAt), ':mine': S(ticketId) },
      }),
    );
  }

  /** Sends a conditional write; a failed condition means there is nothing to change. */
  private async conditional(command: UpdateItemCommand | DeleteItemCommand): Promise<void> {
    try {
      await this.dynamo.send(command);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Which of these tickets the tickets table holds as cancelled (ConsistentRead). */
  private async cancelledTickets(ticketIds: string[]): Promise<string[]> {
    if (ticketIds.length === 0) return [];
    const items = await batchGetAll(
      this.dynamo,
      this.tables.tickets,
      [...new Set(ticketIds)].map((id) => ({ ticketId: S(id) })),
      {
        consistent: true,
        projection: '#t, #c',
        names: { '#t': 'ticketId', '#c': 'cancelledAt' },
      },
    );
    return items.filter((i) => i.cancelledAt !== undefined).map((i) => i.ticketId?.S ?? '');
  }

  async findTicket(ticketId: string): Promise<TicketView | undefined> {
    const out = await this.dynamo.send(
      new GetItemCommand({ TableName: this.tables.tickets, Key: { ticketId: S(ticketId) }, ConsistentRead: true }),
    );
    return out.Item ? viewOf(out.Item) : undefined;
  }

  /**
   * Every sold seat of a zone, read with ConsistentRead (the truth for a rebuild or an audit).
   * A seat whose item shows its ticket cancelled is free, so it is left out unless asked for.
   */
  async soldSeats(eventId: string, zoneId: string, opts: { includeCancelled?: boolean } = {}): Promise<StoredSeat[]> {
    const seats: StoredSeat[] = [];
    await this.queryAll(
      {
        TableName: this.tables.seats,
        KeyConditionExpression: 'eventZone = :ez',
        ExpressionAttributeValues: { ':ez': S(eventZoneKey(eventId, zoneId)) },
        ProjectionExpression: '#s, #t, #c',
        ExpressionAttributeNames: { '#s': 'seat', '#t': 'ticketId', '#c': 'cancelledAt' },
        ConsistentRead: true,
      },
      (item) => {
        if (item.cancelledAt !== undefined && !opts.includeCancelled) return;
        const pos = parseSeatSortKey(item.seat?.S ?? '');
        if (pos) seats.push({ ...pos, ticketId: item.ticketId?.S ?? '', ...(item.cancelledAt !== undefined ? { cancelled: true } : {}) });
      },
    );
    return seats;
  }

  /**
   * Deletes an event's seats and tickets (load-test reset), item by item. The ticket ids come
   * from the seat items (one Query per zone); the `byEvent` index is read only afterwards, for
   * ticket items whose seat item was never written, when it is nearly empty: one page, not the
   * 40 or so pages of the seed event's tickets (dynalite as shipped leaves a LevelDB iterator
   * open per Query, docs/performance.md, "Reset"; scripts/services/dynalite-server.cjs closes them).
   */
  async deleteEvent(eventId: string, zoneIds: string[], onProgress?: (deleted: number, total: number) => void): Promise<number> {
    const deletes: TableWrite[] = [];
    const seatDelete = (zoneId: string, s: StoredSeat): TableWrite => ({
      table: this.tables.seats,
      request: { DeleteRequest: { Key: { eventZone: S(eventZoneKey(eventId, zoneId)), seat: S(seatSortKey(s.row, s.column)) } } },
    });
    const ticketDelete = (ticketId: string): TableWrite => ({
      table: this.tables.tickets,
      request: { DeleteRequest: { Key: { ticketId: S(ticketId) } } },
    });
    const tickets = new Set<string>();
    await inParallel(zoneIds, this.concurrency, async (zoneId) => {
      for (const s of await this.soldSeats(eventId, zoneId, { includeCancelled: true })) {
        deletes.push(seatDelete(zoneId, s));
        if (s.ticketId && !tickets.has(s.ticketId)) {
          tickets.add(s.ticketId);
          deletes.push(ticketDelete(s.ticketId));
        }
      }
    });
    let done = 0;
    const run = async (writes: TableWrite[], total: number) => {
      const step = 2500;
      for (let at = 0; at < writes.length; at += step) {
        await batchWriteAll(this.dynamo, writes.slice(at, at + step), this.concurrency);
        done += Math.min(step, writes.length - at);
        onProgress?.(done, total);
      }
    };
    await run(deletes, deletes.length);
    // What is left in the index: tickets without a seat item (a crash between the two writes).
    const orphans: TableWrite[] = [];
    await this.queryAll(
      {
        TableName: this.tables.tickets,
        IndexName: 'byEvent',
        KeyConditionExpression: 'eventId = :e',
        ExpressionAttributeValues: { ':e': S(eventId) },
        ProjectionExpression: '#t',
        ExpressionAttributeNames: { '#t': 'ticketId' },
      },
      (item) => void orphans.push(ticketDelete(item.ticketId?.S ?? '')),
    );
    await run(orphans, deletes.length + orphans.length);
    if (done === 0) onProgress?.(0, 0);
    return done;
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
