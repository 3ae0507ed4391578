import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
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
import { batchGetAll, batchWriteInOrder, inParallel, type Item, type TableWrite } from './batch';
import { cancelledBy, planChunk, seatKeyOf, type ChunkPlan, type PlannedItem, type SeatState } from './chunk-plan';
import { SeatCache, type ZoneSeats } from './seat-cache';
import { readDynamoFences } from '../reset/dynamo-fences';
import { dropFenced, eventsOf, fenceMoved, type ResetFence } from '../reset/fence';
import { parseTicketId } from '../purchase/ids';
import {
  dropTable,
  ensureTable,
  eventTableDefinitions,
  eventTableNames,
  eventZoneKey,
  listTables,
  parseSeatSortKey,
  seatSortKey,
  tableNames,
  type EventTables,
} from './tables';

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

/** Per event of a chunk: its reset generation (0 when never reset), which names its tables. */
type Generations = ReadonlyMap<string, number>;

/** The event of a seat key (`<eventId>#<zoneId>|<seat>`; event ids contain no `#`). */
const eventOfSeatKey = (seatKey: string) => seatKey.slice(0, seatKey.indexOf('#'));

/** How many times a chunk is written again because a reset moved its fences meanwhile. */
const MAX_FENCE_MOVES = 5;

/**
 * DynamoDB, the write model. Writes are idempotent: every item's key is derived from the
 * record (seat, ticket id), so a redelivered record rewrites identical items. The one thing a
 * rewrite must never do is replace a seat held by another live ticket: each chunk is planned
 * against its seats as stored (from the seat cache: a zone read whole once per partition
 * assignment, then kept by the writer's own writes; a conflict is confirmed by a ConsistentRead)
 * and dead-letters a record whose seat is held by a different live ticket. A cancellation marks
 * its tickets and their seat items cancelled (the seat is free for a resale, and still names the
 * cancelled ticket, so a redelivered sale of it is a duplicate).
 *
 * An event's items live in tables of its own per reset generation (tables.ts): the generation is
 * its reset fence's, read with every chunk (and by every reader), so a reset that moves the
 * fence moves the event to new, empty tables at once, and drops the old ones whole.
 */
export class DynamoWriteModel {
  /** The shared tables (the reset fences). */
  readonly tables;
  private readonly cache: SeatCache;
  /** Event tables this process has seen ACTIVE, so a chunk does not describe them each time. */
  private readonly ready = new Set<string>();
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tablePrefix: string,
    private readonly concurrency = 8,
    cacheSeats?: number,
  ) {
    this.tables = tableNames(tablePrefix);
    this.cache = new SeatCache(cacheSeats);
  }

  /** The tables of one generation of an event. */
  tablesOf(eventId: string, generation: number): EventTables {
    return eventTableNames(this.tablePrefix, eventId, generation);
  }

  /** The event's current generation: its reset fence's, 0 when it was never reset. */
  async generationOf(eventId: string): Promise<number> {
    return (await this.fences([eventId])).get(eventId)?.generation ?? 0;
  }

  /** The tables that hold the event's sale now. */
  async currentTables(eventId: string): Promise<EventTables> {
    return this.tablesOf(eventId, await this.generationOf(eventId));
  }

  /**
   * Creates the event's current tables if absent: the controller does it when it first seeds an
   * event's zone, so the writer's first chunk of the event does not wait for CreateTable. A reset
   * that moved the event meanwhile gets back the old generation's tables this created, dropped.
   */
  async ensureCurrentTables(eventId: string): Promise<void> {
    const generation = await this.generationOf(eventId);
    const defs = eventTableDefinitions(this.tablesOf(eventId, generation)).filter((d) => !this.ready.has(d.TableName!));
    if (defs.length === 0) return;
    const created = (await Promise.all(defs.map(async (d) => ((await ensureTable(this.dynamo, d)) ? [d.TableName!] : [])))).flat();
    if ((await this.generationOf(eventId)) !== generation) {
      await Promise.all(created.map((t) => dropTable(this.dynamo, t)));
      return;
    }
    for (const d of defs) this.ready.add(d.TableName!);
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
    const events = eventsOf(chunk);
    try {
      let fences = await this.fences(events);
      for (let attempt = 1; ; attempt++) {
        // Records of a sale that an event reset cleared are skipped (src/reset/fence.ts).
        const { kept, skipped } = dropFenced(chunk, fences);
        const generations = generationsOf(events, fences);
        const created: { eventId: string; generation: number; table: string }[] = [];
        let done: HandledChunk | undefined;
        let missing: unknown;
        try {
          created.push(...(await this.ensureEventTables(kept, generations)));
          done = await this.writeDecoded(kept, ends, generations, context.heartbeat);
        } catch (err) {
          // A table went away under the chunk: dropped by a reset (checked below) or deleted by hand.
          if (!(err instanceof ResourceNotFoundException)) throw err;
          this.ready.clear();
          missing = err;
        }
        const now = await this.fences(events);
        if (!events.some((e) => fenceMoved(fences.get(e), now.get(e)))) {
          if (!done) throw missing; // not a reset: the consumer retries the chunk, its tables are created again
          return { ...done, duplicate: done.duplicate + skipped };
        }
        // A reset came in while the chunk was written. What it wrote for the old generation is in
        // tables the reset drops (a table this writer created for it meanwhile, it drops itself);
        // so the chunk is written again under the new fences: its records before them are
        // skipped, the others (sales after the reset) go to the new generation's tables.
        for (const partition of ends.keys()) this.cache.forget(partition);
        await Promise.all(
          created.filter((c) => c.generation < (now.get(c.eventId)?.generation ?? 0)).map((c) => dropTable(this.dynamo, c.table)),
        );
        if (attempt >= MAX_FENCE_MOVES)
          throw new Error(`the reset fences of ${events.join(', ')} moved ${attempt} times while one chunk was written; it is retried`);
        fences = now;
      }
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

  /** Creates the tables of the generation the chunk's events write to, if absent; returns those it created. */
  private async ensureEventTables(
    kept: readonly LogRecord[],
    generations: Generations,
  ): Promise<{ eventId: string; generation: number; table: string }[]> {
    const created: { eventId: string; generation: number; table: string }[] = [];
    const wanted = eventsOf(kept).flatMap((eventId) => {
      const generation = generations.get(eventId) ?? 0;
      return eventTableDefinitions(this.tablesOf(eventId, generation)).map((def) => ({ eventId, generation, def }));
    });
    await Promise.all(
      wanted
        .filter((w) => !this.ready.has(w.def.TableName!))
        .map(async (w) => {
          if (await ensureTable(this.dynamo, w.def))
            created.push({ eventId: w.eventId, generation: w.generation, table: w.def.TableName! });
          this.ready.add(w.def.TableName!);
        }),
    );
    return created;
  }

  private async writeDecoded(
    chunk: readonly LogRecord[],
    ends: Map<number, { assignment: number; next: number }>,
    generations: Generations,
    heartbeat?: () => Promise<void>,
  ): Promise<HandledChunk> {
    const { decoded, deadLetters } = decodeTicketEvents(chunk);
    const tablesOf = (eventId: string) => this.tablesOf(eventId, generations.get(eventId) ?? 0);
    const eventOfTicket = new Map<string, string>();
    for (const { event } of decoded) for (const t of event.tickets) eventOfTicket.set(t.ticketId, event.eventId);
    // The seats as stored before the chunk, from the cache (zones it does not know are read whole).
    const before = await this.seatsBefore(decoded, generations, heartbeat);
    // A sale the cache says meets another live ticket is checked against the table before it is
    // called a conflict.
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
      const truth = await this.readSeats(unverified, tablesOf);
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
      (id) => tablesOf(eventOfTicket.get(id) ?? '').tickets,
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
    await inParallel([...plan.ticketCancels], this.concurrency, ([ticketId, at]) =>
      this.cancelTicketItem(tablesOf(eventOfTicket.get(ticketId) ?? '').tickets, ticketId, at),
    );
    await inParallel(plan.seatCancels, this.concurrency, (c) =>
      this.cancelSeatItem(tablesOf(eventOfSeatKey(c.seat)).seats, c.seat, c.ticketId, c.cancelledAt),
    );
    const seatWrites = new Map<string, TableWrite>();
    for (const p of plan.seatPuts.values())
      seatWrites.set(p.ticket.ticketId, { table: tablesOf(p.record.eventId).seats, request: { PutRequest: { Item: itemOf(p) } } });
    const pairs = [...plan.ticketPuts.values()].map((p) => ({
      first: { table: tablesOf(p.record.eventId).tickets, request: { PutRequest: { Item: itemOf(p) } } },
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
  private async seatsBefore(
    decoded: DecodedEvent[],
    generations: Generations,
    heartbeat?: () => Promise<void>,
  ): Promise<Map<string, SeatState>> {
    const zones = new Map<string, { eventId: string; partition: number; generation: number; seats?: ZoneSeats }>();
    for (const { log, event } of decoded) {
      const ez = eventZoneKey(event.eventId, event.zoneId);
      const generation = generations.get(event.eventId) ?? 0;
      if (!zones.has(ez))
        zones.set(ez, {
          eventId: event.eventId,
          partition: log.partition,
          generation,
          seats: this.cache.zone(ez, log.partition, generation),
        });
    }
    const unknown = [...zones].filter(([, z]) => !z.seats);
    await inParallel(unknown, this.concurrency, async ([ez, z]) => {
      z.seats = await this.zoneSeats(this.tablesOf(z.eventId, z.generation).seats, ez, heartbeat);
      this.cache.learn(ez, z.partition, z.seats, z.generation);
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
  private async zoneSeats(table: string, eventZone: string, heartbeat?: () => Promise<void>): Promise<ZoneSeats> {
    const seats: ZoneSeats = new Map();
    let start: Item | undefined;
    do {
      const out = await this.dynamo.send(
        new QueryCommand({
          TableName: table,
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
  private async readSeats(seatKeys: string[], tablesOf: (eventId: string) => EventTables): Promise<Map<string, SeatState>> {
    const byTable = new Map<string, Item[]>();
    for (const k of seatKeys) {
      const [eventZone, seat] = k.split('|') as [string, string];
      const table = tablesOf(eventOfSeatKey(k)).seats;
      byTable.set(table, [...(byTable.get(table) ?? []), { eventZone: S(eventZone), seat: S(seat) }]);
    }
    const states = new Map<string, SeatState>();
    for (const [table, keys] of byTable) {
      const found = await batchGetAll(this.dynamo, table, keys, {
        consistent: true,
        projection: '#ez, #s, #t, #c',
        names: { '#ez': 'eventZone', '#s': 'seat', '#t': 'ticketId', '#c': 'cancelledAt' },
      });
      for (const item of found)
        states.set(`${item.eventZone?.S}|${item.seat?.S}`, { ticketId: item.ticketId?.S ?? '', cancelled: item.cancelledAt !== undefined });
    }
    return states;
  }

  /** Marks a stored ticket cancelled; a ticket that was never stored is not created. */
  private async cancelTicketItem(table: string, ticketId: string, cancelledAt: string): Promise<void> {
    await this.conditional(
      new UpdateItemCommand({
        TableName: table,
        Key: { ticketId: S(ticketId) },
        UpdateExpression: 'SET #c = if_not_exists(#c, :at)',
        ConditionExpression: 'attribute_exists(ticketId)',
        ExpressionAttributeNames: { '#c': 'cancelledAt' },
        ExpressionAttributeValues: { ':at': S(cancelledAt) },
      }),
    );
  }

  /** Frees a seat by marking its item cancelled, only while it holds `ticketId` (never a resale's item). */
  private async cancelSeatItem(table: string, seatKey: string, ticketId: string, cancelledAt: string): Promise<void> {
    const [eventZone, seat] = seatKey.split('|') as [string, string];
    await this.conditional(
      new UpdateItemCommand({
        TableName: table,
        Key: { eventZone: S(eventZone), seat: S(seat) },
        UpdateExpression: 'SET #c = if_not_exists(#c, :at)',
        ConditionExpression: 'ticketId = :mine',
        ExpressionAttributeNames: { '#c': 'cancelledAt' },
        ExpressionAttributeValues: { ':at': S(cancelledAt), ':mine': S(ticketId) },
      }),
    );
  }

  /** Sends a conditional write; a failed condition means there is nothing to change. */
  private async conditional(command: UpdateItemCommand): Promise<void> {
    try {
      await this.dynamo.send(command);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Which of these tickets the tickets tables hold as cancelled (ConsistentRead). */
  private async cancelledTickets(ticketIds: string[], tableOf: (ticketId: string) => string): Promise<string[]> {
    const byTable = new Map<string, Set<string>>();
    for (const id of ticketIds) byTable.set(tableOf(id), (byTable.get(tableOf(id)) ?? new Set()).add(id));
    const out: string[] = [];
    for (const [table, ids] of byTable) {
      const items = await batchGetAll(
        this.dynamo,
        table,
        [...ids].map((id) => ({ ticketId: S(id) })),
        { consistent: true, projection: '#t, #c', names: { '#t': 'ticketId', '#c': 'cancelledAt' } },
      );
      out.push(...items.filter((i) => i.cancelledAt !== undefined).map((i) => i.ticketId?.S ?? ''));
    }
    return out;
  }

  /** A ticket of the event's current generation (the ticket id names the event); a ticket of a reset sale is gone. */
  async findTicket(ticketId: string): Promise<TicketView | undefined> {
    const eventId = parseTicketId(ticketId)?.eventId;
    if (!eventId) return undefined;
    const { tickets } = await this.currentTables(eventId);
    const out = await absentIfNoTable(
      this.dynamo.send(new GetItemCommand({ TableName: tickets, Key: { ticketId: S(ticketId) }, ConsistentRead: true })),
    );
    return out?.Item ? viewOf(out.Item) : undefined;
  }

  /**
   * Every sold seat of a zone, read with ConsistentRead (the truth for a rebuild or an audit),
   * from the event's current generation: a reset sale is never read back. A seat whose item
   * shows its ticket cancelled is free, so it is left out unless asked for.
   */
  async soldSeats(eventId: string, zoneId: string, opts: { includeCancelled?: boolean } = {}): Promise<StoredSeat[]> {
    const seats: StoredSeat[] = [];
    const { seats: table } = await this.currentTables(eventId);
    await absentIfNoTable(
      this.queryAll(
        {
          TableName: table,
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
      ),
    );
    return seats;
  }

  /** Every ticket item of the event's current generation (a Scan of its tickets table: tests, fault checks). */
  async ticketItems(eventId: string): Promise<Item[]> {
    const { tickets } = await this.currentTables(eventId);
    const items: Item[] = [];
    let start: Item | undefined;
    try {
      do {
        const out = await this.dynamo.send(
          new ScanCommand({ TableName: tickets, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    return items;
  }

  /**
   * Drops the event's tables of the generations `from` ≤ g < `to` (a reset, once its fence names
   * `to`), each whole, not item by item; a generation whose tables are gone already is skipped.
   * By name, not by listing: dynalite answers ListTables by walking every key of its store.
   * `onDropped` is told each table as it goes. Returns the tables dropped.
   */
  async dropGenerations(eventId: string, from: number, to: number, onDropped?: (table: string) => void): Promise<string[]> {
    const names = Array.from({ length: Math.max(0, to - from) }, (_, i) => Object.values(this.tablesOf(eventId, from + i))).flat();
    return this.dropTables(names, onDropped);
  }

  /** Drops these tables, four at a time; returns those that were there. */
  private async dropTables(names: string[], onDropped?: (table: string) => void): Promise<string[]> {
    const dropped: string[] = [];
    await inParallel(names, 4, async (name) => {
      this.ready.delete(name);
      if (await dropTable(this.dynamo, name)) {
        dropped.push(name);
        onDropped?.(name);
      }
    });
    return dropped;
  }

  /** Drops every table of the event, every generation up to its current one (tests clean up with it). */
  async dropEvent(eventId: string): Promise<void> {
    await this.dropGenerations(eventId, 0, (await this.generationOf(eventId)) + 1);
  }

  /** Drops every table of the event of a generation below `generation`, found by listing the event's table names. */
  async dropGenerationsBelow(eventId: string, generation: number, onDropped?: (table: string) => void): Promise<string[]> {
    const head = `${this.tablePrefix}.${eventId}.`;
    const older = (await listTables(this.dynamo, head)).filter((name) => {
      const g = name.slice(head.length).split('.')[0] ?? '';
      return /^\d+$/.test(g) && Number(g) < generation;
    });
    return this.dropTables(older, onDropped);
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

/** Per event, the generation its fence names (0 without one). */
function generationsOf(events: string[], fences: ReadonlyMap<string, ResetFence>): Map<string, number> {
  return new Map(events.map((e) => [e, fences.get(e)?.generation ?? 0]));
}

/** A read of a table that does not exist (yet, or any more) finds nothing. */
async function absentIfNoTable<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}
