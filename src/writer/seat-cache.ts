import type { SeatState } from './chunk-plan';

/** One zone's seat items as the write model holds them: seat sort key → state. Absent = no item. */
export type ZoneSeats = Map<string, SeatState>;

interface CachedZone {
  partition: number;
  /** The event's reset generation the zone was read in: its seats are those of that generation's table. */
  generation: number;
  seats: ZoneSeats;
}

/**
 * What the writer knows of the seat items of the zones it writes, so that a chunk is planned
 * without reading its seats (docs/cqrs.md, "Idempotency argument"). A zone enters complete,
 * from one ConsistentRead Query of the whole zone, and is then kept by the writer's own writes.
 * Nobody else writes a zone's seats while its partition is this writer's, in log order, so the
 * cache stays equal to the table only while that ownership is unbroken. It is trusted for a
 * partition only while each chunk continues the last one written (same assignment, next offset);
 * anything else (a rebalance, a redelivery, a failed write) drops the partition's zones, and the
 * next chunk learns them again from the table.
 */
export class SeatCache {
  private readonly zones = new Map<string, CachedZone>();
  /** Per partition: the assignment its zones were learned in, and the offset the next chunk must start at. */
  private readonly position = new Map<number, { assignment: number; next: number }>();
  private seats = 0;

  /** `maxSeats`: past it, the least recently used zones are dropped (and learned again when needed). */
  constructor(private readonly maxSeats = 500_000) {}

  /** Keeps the partition's zones only if this chunk (assignment, first offset) continues the last one written. */
  admit(partition: number, assignment: number, firstOffset: number): void {
    const p = this.position.get(partition);
    if (p && p.assignment === assignment && p.next === firstOffset) return;
    this.forget(partition);
  }

  /**
   * The zone's seats if known for this partition and generation (marked most recently used),
   * else undefined. A zone of an earlier generation is forgotten: an event reset moved the event
   * to tables of its own, empty, and no seat of the old sale holds anything there.
   */
  zone(eventZone: string, partition: number, generation = 0): ZoneSeats | undefined {
    const z = this.zones.get(eventZone);
    if (!z) return undefined;
    this.zones.delete(eventZone);
    if (z.partition !== partition || z.generation !== generation) {
      // One zone, one partition (its records share a key): a zone seen elsewhere is not trusted.
      this.seats -= z.seats.size;
      return undefined;
    }
    this.zones.set(eventZone, z);
    return z.seats;
  }

  /** Adds a zone read whole from the table of its event's `generation`. */
  learn(eventZone: string, partition: number, seats: ZoneSeats, generation = 0): void {
    const old = this.zones.get(eventZone);
    if (old) this.seats -= old.seats.size;
    this.zones.delete(eventZone);
    this.zones.set(eventZone, { partition, generation, seats });
    this.seats += seats.size;
  }

  /**
   * Records what a chunk durably wrote: the seats' states after it (`seat key` = `<eventZone>|<seat>`,
   * undefined = no item), and per partition the assignment and the offset after the chunk's last record.
   */
  wrote(states: Map<string, SeatState | undefined>, ends: Map<number, { assignment: number; next: number }>): void {
    for (const [key, state] of states) {
      const bar = key.indexOf('|');
      const z = this.zones.get(key.slice(0, bar));
      if (!z) continue;
      const seat = key.slice(bar + 1);
      const had = z.seats.has(seat);
      if (state) z.seats.set(seat, state);
      else z.seats.delete(seat);
      this.seats += (state ? 1 : 0) - (had ? 1 : 0);
    }
    for (const [partition, end] of ends) this.position.set(partition, end);
    this.evict();
  }

  /** Drops what is known of a partition (its zones and its position). */
  forget(partition: number): void {
    this.position.delete(partition);
    for (const [eventZone, z] of this.zones)
      if (z.partition === partition) {
        this.zones.delete(eventZone);
        this.seats -= z.seats.size;
      }
  }

  /** Seats held in memory (tests, metrics). */
  get size(): number {
    return this.seats;
  }

  private evict(): void {
    for (const [eventZone, z] of this.zones) {
      if (this.seats <= this.maxSeats || this.zones.size <= 1) return;
      this.zones.delete(eventZone);
      this.seats -= z.seats.size;
    }
  }
}
