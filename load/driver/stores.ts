import type { EventLog, Subscription } from '../../src/stream/event-log';
import type { BaselineSeats } from '../../src/purchase/sql-store';
import type { TicketPurchased } from '../../src/purchase/record';
import { seatKey, type Target, type VenueLayout } from '../scenarios';
import type { InventoryView, LoggedPurchase } from './verify';

interface SeatMap {
  capacity: number;
  available: number;
  sold: { encoding: string; data: string };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

/**
 * What the Redis inventory holds, read the way a buyer's browser does: the seat-map endpoint
 * of every zone (the bitmap) and the count endpoint.
 */
export async function readSeatMaps(baseUrl: string, target: Target, layout: VenueLayout): Promise<InventoryView> {
  const view: InventoryView = { sold: new Map(), soldOutZones: new Set(), problems: [] };
  const e = encodeURIComponent(target.eventId);
  for (const zone of layout.zones) {
    const map = await getJson<SeatMap>(`${baseUrl}/api/v1/events/${e}/zones/${encodeURIComponent(zone.zoneId)}/seats`);
    if (map.sold.encoding !== 'bitmap-msb-base64')
      throw new Error(`Unknown seat-map encoding ${map.sold.encoding}: update load/driver/stores.ts`);
    const bits = Buffer.from(map.sold.data, 'base64');
    let setBits = 0;
    for (let offset = 0; offset < map.capacity; offset++) {
      if (((bits[offset >> 3] ?? 0) & (0x80 >> (offset & 7))) === 0) continue;
      setBits++;
      const row = zone.rows[Math.floor(offset / zone.seatsPerRow)] ?? '?';
      view.sold.set(seatKey(zone.zoneId, { row, column: (offset % zone.seatsPerRow) + 1 }), null);
    }
    if (setBits !== map.capacity - map.available) {
      view.problems.push(`zone ${zone.zoneId}: the bitmap has ${setBits} seats sold, the counters ${map.capacity - map.available}`);
    }
    if (map.available === 0) view.soldOutZones.add(zone.zoneId);
  }
  const count = await getJson<{ total: number }>(`${baseUrl}/api/v1/tickets/count/${e}`);
  view.countTotal = count.total;
  return view;
}

/** What the SQL baseline's seat rows hold: seat → ticket id. */
export async function readBaselineSeats(seats: BaselineSeats, eventId: string, layout: VenueLayout): Promise<InventoryView> {
  const view: InventoryView = { sold: new Map(), soldOutZones: new Set(), problems: [] };
  const zones = new Map(layout.zones.map((z) => [z.zoneId, z]));
  for (const s of await seats.soldSeats(eventId)) {
    const zone = zones.get(s.zoneId);
    if (!zone) {
      view.problems.push(`seat row of unknown zone ${s.zoneId} sold`);
      continue;
    }
    const row = zone.rows[Math.floor(s.offset / zone.seatsPerRow)] ?? '?';
    view.sold.set(seatKey(s.zoneId, { row, column: (s.offset % zone.seatsPerRow) + 1 }), s.ticketId);
  }
  for (const [zoneId, c] of await seats.zoneCounts(eventId)) if (c.sold === c.capacity) view.soldOutZones.add(zoneId);
  return view;
}

/**
 * Collects a run's tickets topic from the beginning. It is paused while a scenario is measured
 * (so the driver spends no CPU on it) and caught up to the topic's end offsets before a check.
 */
export class EventLogCollector {
  private subscription: Subscription | undefined;
  private readonly byEvent = new Map<string, LoggedPurchase[]>();
  private readonly next = new Map<number, number>();
  private malformed = 0;

  constructor(
    private readonly eventLog: EventLog,
    readonly topic: string,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.eventLog.consume({
      groupId: `load-lab-${this.topic}-${Date.now()}`,
      topic: this.topic,
      sessionTimeoutMs: 30000,
      onBatch: async (batch) => {
        for (const r of batch.records) {
          this.add(r.value?.toString() ?? '');
          this.next.set(batch.partition, r.offset + 1);
        }
      },
    });
  }

  private add(value: string) {
    try {
      const p = JSON.parse(value) as TicketPurchased;
      const list = this.byEvent.get(p.eventId) ?? [];
      list.push({
        purchaseId: p.purchaseId,
        zoneId: p.zoneId,
        tickets: p.tickets.map((t) => ({ ticketId: t.ticketId, row: t.row, column: t.column })),
      });
      this.byEvent.set(p.eventId, list);
    } catch {
      this.malformed++;
    }
  }

  pause(): void {
    this.subscription?.pause();
  }

  resume(): void {
    this.subscription?.resume();
  }

  /** Resumes and waits until every message written so far has been read. */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    this.resume();
    const ends = await this.eventLog.endOffsets(this.topic);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = ends.filter((e) => (this.next.get(e.partition) ?? 0) < e.high);
      if (behind.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The event log ${this.topic} was not read to its end within ${timeoutMs} ms (${behind.length} partitions behind); is Kafka healthy? (npm run services:status)`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  purchasesOf(eventId: string): LoggedPurchase[] {
    if (this.malformed > 0) throw new Error(`${this.malformed} messages on ${this.topic} were not TicketPurchased JSON`);
    return this.byEvent.get(eventId) ?? [];
  }

  /** Leaves the group; the event log itself belongs to the caller. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
