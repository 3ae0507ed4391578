/**
 * The final state of the three stores for the suite's event, read directly (not through the
 * api): Redis bitmaps and leftover pending purchases, DynamoDB's seat and ticket tables, and
 * MySQL's tickets. Seats are keyed `zone/row/column` (load/scenarios seatKey).
 */
import type { CqrsStores } from '../src/admin/stores';
import type { ZoneDef } from '../src/catalog/model';
import { isTaken } from '../src/inventory/inventory';
import { ZoneLayout } from '../src/inventory/layout';
import type { TicketPurchased } from '../src/purchase/record';
import { seatKey } from '../load/scenarios';

export interface StoredTicket {
  ticketId: string;
  purchaseId: string;
  userId: string;
  seat: string;
  createdOn: number;
}

export interface PendingLeft {
  purchaseId: string;
  userId: string;
  seats: string[];
  reservedAt: number;
}

export interface FinalState {
  /** Seats whose bit is set in Redis (zones that have inventory). */
  redisTaken: Set<string>;
  redisMissingZones: string[];
  /** Purchases still reserved (unacknowledged) in Redis after the settle wait. */
  pending: PendingLeft[];
  /** DynamoDB seat table: seat → ticket id (one item per seat by key). */
  dynamoSeats: Map<string, string>;
  /** DynamoDB tickets table, every item of the event (byEvent index). */
  dynamoTickets: StoredTicket[];
  /** MySQL tickets of the event. */
  mysqlTickets: StoredTicket[];
}

async function dynamoTicketsOf(stores: CqrsStores, eventId: string): Promise<StoredTicket[]> {
  return (await stores.writeModel.ticketItems(eventId)).map((item) => ({
    ticketId: item.ticketId?.S ?? '',
    purchaseId: item.purchaseId?.S ?? '',
    userId: item.userId?.S ?? '',
    seat: seatKey(item.zoneId?.S ?? '', { row: item.row?.S ?? '', column: Number(item.column?.N ?? 0) }),
    createdOn: Date.parse(item.createdOn?.S ?? '') || 0,
  }));
}

async function mysqlTicketsOf(stores: CqrsStores, eventId: string): Promise<StoredTicket[]> {
  const rows = await stores.ctx.mysql.select<{
    ticket_id: string;
    purchase_id: string;
    user_id: string;
    zone_id: string;
    row_label: string;
    seat_number: number;
    created_on: Date | string;
  }>('SELECT ticket_id, purchase_id, user_id, zone_id, row_label, seat_number, created_on FROM tickets WHERE event_id = ?', [eventId]);
  return rows.map((r) => ({
    ticketId: r.ticket_id,
    purchaseId: r.purchase_id,
    userId: r.user_id,
    seat: seatKey(r.zone_id, { row: r.row_label, column: Number(r.seat_number) }),
    createdOn: new Date(r.created_on).getTime() || 0,
  }));
}

async function redisZone(stores: CqrsStores, eventId: string, zone: ZoneDef, into: FinalState): Promise<void> {
  const layout = ZoneLayout.of(zone);
  const st = await stores.inventory.zoneState(eventId, zone.zoneId);
  if (!st) into.redisMissingZones.push(zone.zoneId);
  else {
    for (let offset = 0; offset < layout.capacity; offset++) {
      if (isTaken(st.bits, offset)) into.redisTaken.add(seatKey(zone.zoneId, layout.seatAt(offset)));
    }
  }
  const k = stores.inventory.keys(eventId, zone.zoneId);
  for (const purchaseId of await stores.ctx.redis.zrange(k.pending, '0', '-1')) {
    const rec = await stores.inventory.getPurchase(eventId, zone.zoneId, purchaseId);
    const body = rec ? (JSON.parse(rec.body) as TicketPurchased) : undefined;
    into.pending.push({
      purchaseId,
      userId: body?.userId ?? '',
      seats: (body?.tickets ?? []).map((t) => seatKey(zone.zoneId, t)),
      reservedAt: rec?.reservedAt ?? 0,
    });
  }
}

export async function readFinalState(stores: CqrsStores, eventId: string, zones: ZoneDef[]): Promise<FinalState> {
  const state: FinalState = {
    redisTaken: new Set(),
    redisMissingZones: [],
    pending: [],
    dynamoSeats: new Map(),
    dynamoTickets: [],
    mysqlTickets: [],
  };
  for (const zone of zones) {
    await redisZone(stores, eventId, zone, state);
    for (const s of await stores.writeModel.soldSeats(eventId, zone.zoneId)) state.dynamoSeats.set(seatKey(zone.zoneId, s), s.ticketId);
  }
  state.dynamoTickets = await dynamoTicketsOf(stores, eventId);
  state.mysqlTickets = await mysqlTicketsOf(stores, eventId);
  return state;
}
