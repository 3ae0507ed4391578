import type { SqlClient } from '../shared/sql';

/**
 * The row-locking baseline's storage: one InnoDB row per seat in `baseline_seats`, sold by
 * locking the requested rows (in primary-key order) with SELECT … FOR UPDATE in one
 * transaction. Used only with INVENTORY_BACKEND=sql, to compare against the Redis engine.
 */
export const BASELINE_TABLE = 'baseline_seats';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${BASELINE_TABLE} (
  event_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  zone_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seat_offset INT UNSIGNED NOT NULL,
  ticket_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  purchase_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  sold_at DATETIME(3) NULL,
  PRIMARY KEY (event_id, zone_id, seat_offset)
) ENGINE=InnoDB`;

export type SellResult = { kind: 'sold' } | { kind: 'taken'; offsets: number[] } | { kind: 'sold_out' } | { kind: 'missing_rows' };

/** Seat rows of the baseline: create, populate, sell, read back, delete. */
export class BaselineSeats {
  private readonly populated = new Map<string, Promise<void>>();

  constructor(readonly sql: SqlClient) {}

  async ensureTable(): Promise<void> {
    await this.sql.run(CREATE_TABLE, []);
  }

  /** Inserts the zone's seat rows (free) unless present; once per zone and process. */
  ensureZone(eventId: string, zoneId: string, capacity: number): Promise<void> {
    const key = `${eventId}\u0000${zoneId}\u0000${capacity}`;
    let done = this.populated.get(key);
    if (!done) {
      done = this.populate(eventId, zoneId, capacity);
      this.populated.set(key, done);
      done.catch(() => this.populated.delete(key));
    }
    return done;
  }

  private async populate(eventId: string, zoneId: string, capacity: number): Promise<void> {
    const CHUNK = 2000;
    for (let start = 0; start < capacity; start += CHUNK) {
      const n = Math.min(CHUNK, capacity - start);
      const values = Array.from({ length: n }, () => '(?,?,?)').join(',');
      const params = Array.from({ length: n }, (_, i) => [eventId, zoneId, start + i]).flat();
      await this.sql.run(`INSERT IGNORE INTO ${BASELINE_TABLE} (event_id, zone_id, seat_offset) VALUES ${values}`, params);
    }
  }

  /**
   * Sells the seats (offset → ticket id) to one purchase, all or nothing: locks the rows in key
   * order, refuses when any is sold, else marks them all.
   */
  async sell(eventId: string, zoneId: string, purchaseId: string, tickets: { offset: number; ticketId: string }[]): Promise<SellResult> {
    const offsets = tickets.map((t) => t.offset).sort((a, b) => a - b);
    return this.sql.transaction(async (tx) => {
      const rows = await tx.select(
        `SELECT seat_offset, ticket_id FROM ${BASELINE_TABLE} WHERE event_id = ? AND zone_id = ? AND seat_offset IN (?) ORDER BY seat_offset FOR UPDATE`,
        [eventId, zoneId, offsets],
      );
      if (rows.length !== offsets.length) return { kind: 'missing_rows' } as const;
      const taken = rows.filter((r) => r.ticket_id !== null).map((r) => Number(r.seat_offset));
      if (taken.length > 0) {
        const [free] = await tx.select(
          `SELECT COUNT(*) AS n FROM ${BASELINE_TABLE} WHERE event_id = ? AND zone_id = ? AND ticket_id IS NULL`,
          [eventId, zoneId],
        );
        return Number(free?.n ?? 0) === 0 ? ({ kind: 'sold_out' } as const) : ({ kind: 'taken', offsets: taken } as const);
      }
      const cases = tickets.map(() => 'WHEN ? THEN ?').join(' ');
      await tx.run(
        `UPDATE ${BASELINE_TABLE} SET purchase_id = ?, sold_at = NOW(3), ticket_id = CASE seat_offset ${cases} END WHERE event_id = ? AND zone_id = ? AND seat_offset IN (?)`,
        [purchaseId, ...tickets.flatMap((t) => [t.offset, t.ticketId]), eventId, zoneId, offsets],
      );
      return { kind: 'sold' } as const;
    });
  }

  /** Sold seats of an event: zone → seat offset → ticket id (for the load lab's checks). */
  async soldSeats(eventId: string): Promise<{ zoneId: string; offset: number; ticketId: string; purchaseId: string }[]> {
    const rows = await this.sql.select(
      `SELECT zone_id, seat_offset, ticket_id, purchase_id FROM ${BASELINE_TABLE} WHERE event_id = ? AND ticket_id IS NOT NULL`,
      [eventId],
    );
    return rows.map((r) => ({
      zoneId: String(r.zone_id),
      offset: Number(r.seat_offset),
      ticketId: String(r.ticket_id),
      purchaseId: String(r.purchase_id),
    }));
  }

  async zoneCounts(eventId: string): Promise<Map<string, { capacity: number; sold: number }>> {
    const rows = await this.sql.select(
      `SELECT zone_id, COUNT(*) AS capacity, COUNT(ticket_id) AS sold FROM ${BASELINE_TABLE} WHERE event_id = ? GROUP BY zone_id`,
      [eventId],
    );
    return new Map(rows.map((r) => [String(r.zone_id), { capacity: Number(r.capacity), sold: Number(r.sold) }]));
  }

  async deleteEvent(eventId: string): Promise<void> {
    await this.sql.run(`DELETE FROM ${BASELINE_TABLE} WHERE event_id = ?`, [eventId]);
    for (const key of this.populated.keys()) if (key.startsWith(`${eventId}\u0000`)) this.populated.delete(key);
  }
}
