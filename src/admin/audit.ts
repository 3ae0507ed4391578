import type { ZoneDef } from '../catalog/model';
import { ZoneLayout } from '../catalog/layout';
import { isTaken } from '../inventory/inventory';
import { metrics } from '../observability/metrics';
import { parseTicketId } from '../purchase/ids';
import type { TicketPurchased } from '../purchase/record';
import type { CqrsStores } from './stores';

export type Store = 'redis' | 'dynamodb' | 'mysql';

/** One seat whose state differs between the stores. */
export interface SeatDrift {
  zoneId: string;
  row: string;
  column: number;
  redis: 'sold' | 'free' | 'absent';
  dynamodb: string | null;
  mysql: string | null;
  problem: string;
}

export interface AuditReport {
  eventId: string;
  /** Sold seats each store holds (Redis: bits set, pending included). */
  seats: Record<Store, number>;
  /**
   * Seats held by a reserved purchase whose confirmation is not recorded, or by a purchase being
   * cancelled (its event may already be in the stores, its seats not yet free): not drift.
   */
  pending: number;
  /** Pending purchases (and cancellations under way) per zone at the snapshot (a closed zone with none left is settled). */
  pendingByZone: Record<string, number>;
  drift: SeatDrift[];
  /** Stores not judged: their consumer had not caught up within the wait, or they did not answer (see errors). */
  unverified: Store[];
  /** Zones with no inventory in Redis (lost, being rebuilt). */
  missingZones: string[];
  /** Zones whose Redis inventory has another layout than the catalog's: their seats are not compared. */
  layoutMismatch: string[];
  /** Reads that failed (a store down); each leaves its store unverified instead of ending the audit. */
  errors: { store: Store; message: string }[];
}

export interface AuditOptions {
  /** How long to wait for each consumer to commit what the log held at the Redis snapshot. */
  waitMs?: number;
  /** The zones to compare; default the event's catalog zones and its closed zones (removed, inventory kept). */
  zones?: ZoneDef[];
}

interface RedisZone {
  bits: Buffer | null;
  layoutHash: string | null;
  /** Seats of purchases still reserved, and of purchases being cancelled (CANCELLING). */
  pendingSeats: Set<number>;
  pendingCount: number;
}

type SeatsByOffset = Map<number, { row: string; column: number; ticketId: string }>;

/** The zones an audit of the event compares: the catalog's (or its MySQL mirror's) and its closed zones. */
export async function zonesOfEvent(stores: CqrsStores, eventId: string): Promise<ZoneDef[]> {
  const found = await stores.catalogEntry(eventId);
  const zones = [...(found?.entry.venue.zones ?? [])];
  for (const c of await stores.catalog.closedZonesOf(eventId)) if (!zones.some((z) => z.zoneId === c.zone.zoneId)) zones.push(c.zone);
  if (zones.length === 0)
    throw new Error(
      `Event ${eventId} is in neither the Redis catalog nor its MySQL mirror, and has no closed zones; check the id (GET /api/v1/events)`,
    );
  return zones;
}

/**
 * Compares one event seat by seat across Redis (bitmap), DynamoDB (seat table) and MySQL
 * (tickets). Order matters: Redis first (bitmap and pending set in one MULTI), then each
 * store only after its consumer committed the log end seen after the Redis read, so every
 * sale Redis confirmed must be in the store. A store seat that Redis did not have at the
 * snapshot is checked against live Redis before it counts as drift (it may be newer).
 * A store that does not answer is reported unverified with its error, and the others are still
 * compared: MySQL being down must not hide the seats DynamoDB holds and Redis lost.
 */
export async function auditEvent(stores: CqrsStores, eventId: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const zones = opts.zones ?? (await zonesOfEvent(stores, eventId));
  const waitMs = opts.waitMs ?? 30_000;
  const layouts = new Map(zones.map((z) => [z.zoneId, ZoneLayout.of(z)]));
  const errors: AuditReport['errors'] = [];
  const unverified = new Set<Store>();
  const failed = (store: Store) => (err: unknown) => {
    errors.push({ store, message: (err as Error).message });
    unverified.add(store);
  };

  const redis = new Map<string, RedisZone>();
  for (const zone of zones) redis.set(zone.zoneId, await snapshotZone(stores, eventId, zone));
  const layoutMismatch = zones
    .filter((z) => {
      const hash = redis.get(z.zoneId)!.layoutHash;
      return hash !== null && hash !== layouts.get(z.zoneId)!.hash;
    })
    .map((z) => z.zoneId);
  const compared = zones.filter((z) => !layoutMismatch.includes(z.zoneId));

  const outside: SeatDrift[] = [];
  const dynamo = new Map<string, SeatsByOffset>(compared.map((z) => [z.zoneId, new Map()]));
  await stores.waitForGroup('writer', waitMs).then((left) => left > 0 && unverified.add('dynamodb'), failed('dynamodb'));
  for (const zone of compared) {
    const layout = layouts.get(zone.zoneId)!;
    const seats = await stores.writeModel.soldSeats(eventId, zone.zoneId).catch((err: unknown) => void failed('dynamodb')(err));
    for (const s of seats ?? []) {
      const pos = layout.locate(s.row, s.column);
      if (pos) dynamo.get(zone.zoneId)!.set(pos.offset, s);
      else
        outside.push({
          zoneId: zone.zoneId,
          row: s.row,
          column: s.column,
          redis: 'absent',
          dynamodb: s.ticketId,
          mysql: null,
          problem: 'DynamoDB holds a seat outside the zone layout',
        });
    }
  }

  const mysql = new Map<string, SeatsByOffset>(compared.map((z) => [z.zoneId, new Map()]));
  let mysqlCount = 0;
  const readMysql = async () => {
    if ((await stores.waitForGroup('projector', waitMs)) > 0) unverified.add('mysql');
    return stores.readModel.seatsOfEvent(eventId);
  };
  const mysqlSeats = await readMysql().catch((err: unknown) => void failed('mysql')(err));
  for (const s of mysqlSeats ?? []) {
    mysqlCount++;
    if (layoutMismatch.includes(s.zoneId)) continue;
    const pos = layouts.get(s.zoneId)?.locate(s.row, s.column);
    if (pos) mysql.get(s.zoneId)!.set(pos.offset, s);
    else
      outside.push({
        zoneId: s.zoneId,
        row: s.row,
        column: s.column,
        redis: 'absent',
        dynamodb: null,
        mysql: s.ticketId,
        problem: 'MySQL holds a seat outside the event layout',
      });
  }

  const drift: SeatDrift[] = [...outside];
  const recheck: { zone: ZoneDef; offset: number; d: SeatDrift }[] = [];
  let redisCount = 0;
  let pending = 0;
  const missingZones: string[] = [];
  for (const zone of zones) {
    const r = redis.get(zone.zoneId)!;
    if (!r.bits) missingZones.push(zone.zoneId);
    pending += r.pendingSeats.size;
    if (layoutMismatch.includes(zone.zoneId)) continue;
    const layout = layouts.get(zone.zoneId)!;
    const d = dynamo.get(zone.zoneId)!;
    const m = mysql.get(zone.zoneId)!;
    for (let offset = 0; offset < layout.capacity; offset++) {
      const inRedis = r.bits ? isTaken(r.bits, offset) : false;
      if (inRedis) redisCount++;
      const isPending = r.pendingSeats.has(offset);
      const ds = d.get(offset);
      const ms = m.get(offset);
      if (!inRedis && !ds && !ms) continue;
      const seat = layout.seatAt(offset);
      const entry = (problem: string): SeatDrift => ({
        zoneId: zone.zoneId,
        ...seat,
        redis: r.bits ? (inRedis ? 'sold' : 'free') : 'absent',
        dynamodb: ds?.ticketId ?? null,
        mysql: ms?.ticketId ?? null,
        problem,
      });
      if (ds && ms && ds.ticketId !== ms.ticketId) drift.push(entry('DynamoDB and MySQL hold different tickets for the seat'));
      if ((ds || ms) && !inRedis) {
        if (r.bits) recheck.push({ zone, offset, d: entry('sold in the stores but free in Redis: it could be sold again') });
        continue; // a missing zone is reported once, as missingZones
      }
      if (inRedis && !isPending) {
        if (!ds && !unverified.has('dynamodb')) drift.push(entry('confirmed in Redis but missing in DynamoDB'));
        if (!ms && !unverified.has('mysql')) drift.push(entry('confirmed in Redis but missing in MySQL'));
      }
    }
  }
  // Sold after the snapshot? Then live Redis has the bit now. A sold bit is cleared only by a
  // reset or by a cancellation whose event is in the log: a store that has not applied that
  // event yet (its consumer behind) still holds the seat, which is no drift.
  for (const { zone, offset, d } of recheck) {
    const live = await stores.ctx.redis.getbit(stores.inventory.keys(eventId, zone.zoneId).bits, offset);
    if (live === 1) continue;
    if (await cancelledInRedis(stores, eventId, zone.zoneId, [d.dynamodb, d.mysql])) continue;
    drift.push(d);
  }

  const dynamoCount = [...dynamo.values()].reduce((s, m) => s + m.size, 0) + outside.filter((o) => o.dynamodb).length;
  const report: AuditReport = {
    eventId,
    seats: { redis: redisCount, dynamodb: dynamoCount, mysql: mysqlCount },
    pending,
    pendingByZone: Object.fromEntries(zones.map((z) => [z.zoneId, redis.get(z.zoneId)!.pendingCount])),
    drift,
    unverified: (['dynamodb', 'mysql'] as const).filter((s) => unverified.has(s)),
    missingZones,
    layoutMismatch,
    errors,
  };
  for (const store of ['redis', 'dynamodb', 'mysql'] as const) {
    // A store that did not answer keeps its last figure rather than showing 0 sold.
    if (!errors.some((e) => e.store === store)) metrics.auditSeats.set({ event_id: eventId, store }, report.seats[store]);
  }
  metrics.auditDrift.set({ event_id: eventId }, drift.length);
  return report;
}

/** Whether the purchase of any of these tickets is being (or was) cancelled, as its Redis record says. */
async function cancelledInRedis(stores: CqrsStores, eventId: string, zoneId: string, ticketIds: (string | null)[]): Promise<boolean> {
  for (const ticketId of ticketIds) {
    const purchaseId = ticketId ? parseTicketId(ticketId)?.purchaseId : undefined;
    if (!purchaseId) continue;
    const cancel = await stores.ctx.redis.hget(stores.inventory.keys(eventId, zoneId).purchase(purchaseId), 'cancel');
    if (cancel === 'cancelling' || cancel === 'cancelled') return true;
  }
  return false;
}

/** The zone bitmap, its layout hash and the seats of its pending and cancelling purchases, read in one MULTI. */
async function snapshotZone(stores: CqrsStores, eventId: string, zone: ZoneDef): Promise<RedisZone> {
  const k = stores.inventory.keys(eventId, zone.zoneId);
  const layout = ZoneLayout.of(zone);
  const res = await stores.ctx.redis
    .multi()
    .getBuffer(k.bits)
    .hget(k.meta, 'layout')
    .zrange(k.pending, '0', '-1')
    .zrange(k.cancelling, '0', '-1')
    .exec();
  const [bits, layoutHash, pendingIds, cancellingIds] = (res ?? []).map(([err, v]) => {
    if (err) throw err;
    return v;
  }) as [Buffer | null, string | null, string[], string[]];
  const ids = [...(pendingIds ?? []), ...(cancellingIds ?? [])];
  const pendingSeats = new Set<number>();
  for (const id of ids) {
    const body = await stores.ctx.redis.hget(k.purchase(id), 'body');
    if (!body) continue;
    for (const t of (JSON.parse(body) as TicketPurchased).tickets) {
      const pos = layout.locate(t.row, t.column);
      if (pos) pendingSeats.add(pos.offset);
    }
  }
  return { bits: layoutHash !== null ? (bits ?? Buffer.alloc(0)) : null, layoutHash, pendingSeats, pendingCount: ids.length };
}

/** Human-readable lines for a report: every difference, then a summary. */
export function formatAudit(r: AuditReport): string[] {
  const lines = r.drift.map(
    (d) =>
      `DRIFT ${r.eventId}/${d.zoneId} row ${d.row} seat ${d.column}: redis=${d.redis} dynamodb=${d.dynamodb ?? '-'} mysql=${d.mysql ?? '-'}: ${d.problem}`,
  );
  if (r.missingZones.length)
    lines.push(
      `zones without Redis inventory (rebuild them: npm run admin -- rebuild-inventory ${r.eventId}): ${r.missingZones.join(', ')}`,
    );
  if (r.layoutMismatch.length)
    lines.push(
      `zones whose Redis inventory has another layout than the catalog (not compared; check the controller's LayoutChangeRefused report): ${r.layoutMismatch.join(', ')}`,
    );
  for (const e of r.errors)
    lines.push(`${e.store} did not answer (${e.message}); its seats were not compared: check the service and run the audit again`);
  if (r.unverified.length)
    lines.push(
      `not verified (consumer still behind, or the store did not answer): ${r.unverified.join(', ')}; run the audit again once it caught up`,
    );
  lines.push(
    `${r.eventId}: redis=${r.seats.redis} (pending ${r.pending}) dynamodb=${r.seats.dynamodb} mysql=${r.seats.mysql} drift=${r.drift.length}`,
  );
  return lines;
}
