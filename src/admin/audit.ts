import type { ZoneDef } from '../catalog/model';
import { isTaken } from '../inventory/inventory';
import { ZoneLayout } from '../inventory/layout';
import { metrics } from '../observability/metrics';
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
  /** Seats held by a reserved purchase whose confirmation is not recorded: not drift. */
  pending: number;
  drift: SeatDrift[];
  /** Stores whose consumer had not caught up within the wait: their missing seats are not judged. */
  unverified: Store[];
  /** Zones with no inventory in Redis (lost, being rebuilt). */
  missingZones: string[];
}

export interface AuditOptions {
  /** How long to wait for each consumer to commit what the log held at the Redis snapshot. */
  waitMs?: number;
  log?: (line: string) => void;
}

interface RedisZone {
  bits: Buffer | null;
  capacity: number;
  pendingSeats: Set<number>;
}

/**
 * Compares one event seat by seat across Redis (bitmap), DynamoDB (seat table) and MySQL
 * (tickets). Order matters: Redis first (bitmap and pending set in one MULTI), then each
 * store only after its consumer committed the log end seen after the Redis read, so every
 * sale Redis confirmed must be in the store. A store seat that Redis did not have at the
 * snapshot is checked against live Redis before it counts as drift (it may be newer).
 */
export async function auditEvent(stores: CqrsStores, eventId: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const found = await stores.catalogEntry(eventId);
  if (!found) throw new Error(`Event ${eventId} is in neither the Redis catalog nor its MySQL mirror; check the id (GET /api/v1/events)`);
  const zones = found.entry.venue.zones;
  const waitMs = opts.waitMs ?? 30_000;

  const redis = new Map<string, RedisZone>();
  for (const zone of zones) redis.set(zone.zoneId, await snapshotZone(stores, eventId, zone));

  const unverified: Store[] = [];
  const left = { dynamodb: await stores.waitForGroup('writer', waitMs), mysql: 0 };
  if (left.dynamodb > 0) unverified.push('dynamodb');
  const dynamo = new Map<string, Map<number, { row: string; column: number; ticketId: string }>>();
  const outside: SeatDrift[] = [];
  for (const zone of zones) {
    const layout = ZoneLayout.of(zone);
    const m = new Map<number, { row: string; column: number; ticketId: string }>();
    for (const s of await stores.writeModel.soldSeats(eventId, zone.zoneId)) {
      const pos = layout.locate(s.row, s.column);
      if (pos) m.set(pos.offset, s);
      else outside.push({ zoneId: zone.zoneId, row: s.row, column: s.column, redis: 'absent', dynamodb: s.ticketId, mysql: null, problem: 'DynamoDB holds a seat outside the zone layout' });
    }
    dynamo.set(zone.zoneId, m);
  }
  left.mysql = await stores.waitForGroup('projector', waitMs);
  if (left.mysql > 0) unverified.push('mysql');
  const mysql = new Map<string, Map<number, { row: string; column: number; ticketId: string }>>(zones.map((z) => [z.zoneId, new Map()]));
  const layouts = new Map(zones.map((z) => [z.zoneId, ZoneLayout.of(z)]));
  let mysqlCount = 0;
  for (const s of await stores.readModel.seatsOfEvent(eventId)) {
    mysqlCount++;
    const pos = layouts.get(s.zoneId)?.locate(s.row, s.column);
    if (pos) mysql.get(s.zoneId)!.set(pos.offset, s);
    else outside.push({ zoneId: s.zoneId, row: s.row, column: s.column, redis: 'absent', dynamodb: null, mysql: s.ticketId, problem: 'MySQL holds a seat outside the event layout' });
  }

  const drift: SeatDrift[] = [...outside];
  const recheck: { zone: ZoneDef; offset: number; d: SeatDrift }[] = [];
  let redisCount = 0;
  let pending = 0;
  const missingZones: string[] = [];
  for (const zone of zones) {
    const r = redis.get(zone.zoneId)!;
    const layout = layouts.get(zone.zoneId)!;
    const d = dynamo.get(zone.zoneId)!;
    const m = mysql.get(zone.zoneId)!;
    if (!r.bits) missingZones.push(zone.zoneId);
    for (let offset = 0; offset < layout.capacity; offset++) {
      const inRedis = r.bits ? isTaken(r.bits, offset) : false;
      if (inRedis) redisCount++;
      const isPending = r.pendingSeats.has(offset);
      if (isPending) pending++;
      const ds = d.get(offset);
      const ms = m.get(offset);
      if (!inRedis && !ds && !ms) continue;
      const seat = layout.seatAt(offset);
      const entry = (problem: string): SeatDrift => ({
        zoneId: zone.zoneId, ...seat, redis: r.bits ? (inRedis ? 'sold' : 'free') : 'absent', dynamodb: ds?.ticketId ?? null, mysql: ms?.ticketId ?? null, problem,
      });
      if (ds && ms && ds.ticketId !== ms.ticketId) drift.push(entry('DynamoDB and MySQL hold different tickets for the seat'));
      if ((ds || ms) && !inRedis) {
        if (r.bits) recheck.push({ zone, offset, d: entry('sold in the stores but free in Redis: it could be sold again') });
        continue; // a missing zone is reported once, as missingZones
      }
      if (inRedis && !isPending) {
        if (!ds && !unverified.includes('dynamodb')) drift.push(entry('confirmed in Redis but missing in DynamoDB'));
        if (!ms && !unverified.includes('mysql')) drift.push(entry('confirmed in Redis but missing in MySQL'));
      }
    }
  }
  // Sold after the snapshot? Then live Redis has the bit now (a sold bit is only cleared by a void or a reset).
  for (const { zone, offset, d } of recheck) {
    const live = await stores.ctx.redis.getbit(stores.inventory.keys(eventId, zone.zoneId).bits, offset);
    if (live !== 1) drift.push(d);
  }

  const dynamoCount = [...dynamo.values()].reduce((s, m) => s + m.size, 0) + outside.filter((o) => o.dynamodb).length;
  const report: AuditReport = { eventId, seats: { redis: redisCount, dynamodb: dynamoCount, mysql: mysqlCount }, pending, drift, unverified, missingZones };
  for (const store of ['redis', 'dynamodb', 'mysql'] as const) metrics.auditSeats.set({ event_id: eventId, store }, report.seats[store]);
  metrics.auditDrift.set({ event_id: eventId }, drift.length);
  return report;
}

/** The zone bitmap and the seats of its pending purchases, read in one MULTI. */
async function snapshotZone(stores: CqrsStores, eventId: string, zone: ZoneDef): Promise<RedisZone> {
  const k = stores.inventory.keys(eventId, zone.zoneId);
  const layout = ZoneLayout.of(zone);
  const res = await stores.ctx.redis.multi().getBuffer(k.bits).exists(k.meta).zrange(k.pending, '0', '-1').exec();
  const [bits, meta, ids] = (res ?? []).map(([err, v]) => {
    if (err) throw err;
    return v;
  }) as [Buffer | null, number, string[]];
  const pendingSeats = new Set<number>();
  for (const id of ids ?? []) {
    const body = await stores.ctx.redis.hget(k.purchase(id), 'body');
    if (!body) continue;
    for (const t of (JSON.parse(body) as TicketPurchased).tickets) {
      const pos = layout.locate(t.row, t.column);
      if (pos) pendingSeats.add(pos.offset);
    }
  }
  return { bits: meta === 1 ? (bits ?? Buffer.alloc(0)) : null, capacity: layout.capacity, pendingSeats };
}

/** Human-readable lines for a report: every difference, then a summary. */
export function formatAudit(r: AuditReport): string[] {
  const lines = r.drift.map(
    (d) => `DRIFT ${r.eventId}/${d.zoneId} row ${d.row} seat ${d.column}: redis=${d.redis} dynamodb=${d.dynamodb ?? '-'} mysql=${d.mysql ?? '-'}: ${d.problem}`,
  );
  if (r.missingZones.length) lines.push(`zones without Redis inventory (rebuild them: npm run admin -- rebuild-inventory ${r.eventId}): ${r.missingZones.join(', ')}`);
  if (r.unverified.length) lines.push(`not verified (consumer still behind): ${r.unverified.join(', ')}; run the audit again once it caught up`);
  lines.push(
    `${r.eventId}: redis=${r.seats.redis} (pending ${r.pending}) dynamodb=${r.seats.dynamodb} mysql=${r.seats.mysql} drift=${r.drift.length}`,
  );
  return lines;
}
