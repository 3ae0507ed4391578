import mysql from 'mysql2/promise';
import { QueryTypes, Sequelize, type Transaction } from 'sequelize';

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

export type Row = Record<string, unknown>;

export interface SqlStatements {
  select(sql: string, params: unknown[]): Promise<Row[]>;
  run(sql: string, params: unknown[]): Promise<void>;
}

/** The COMMIT itself failed: the transaction may or may not have been applied. */
export class SqlCommitError extends Error {}

/** A pool that runs statements and transactions; two drivers so the bench can compare them. */
export interface SqlExecutor extends SqlStatements {
  readonly driver: SqlDriverName;
  transaction<T>(fn: (tx: SqlStatements) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const SQL_DRIVERS = ['mysql2', 'sequelize'] as const;
export type SqlDriverName = (typeof SQL_DRIVERS)[number];

const asMysqlUrl = (url: string) => url.replace(/^mariadb:/, 'mysql:');

/** mysql2's promise pool, used directly: the baseline's default (measured faster, docs/load-lab.md). */
export function mysql2Executor(url: string, connections: number): SqlExecutor {
  const pool = mysql.createPool({ uri: asMysqlUrl(url), connectionLimit: connections, waitForConnections: true, connectTimeout: 5000 });
  const statements = (conn: mysql.Pool | mysql.PoolConnection): SqlStatements => ({
    select: async (sql, params) => (await conn.query(sql, params))[0] as Row[],
    run: async (sql, params) => void (await conn.query(sql, params)),
  });
  return {
    driver: 'mysql2',
    ...statements(pool),
    async transaction(fn) {
      const conn = await pool.getConnection();
      try {
        await conn.query('START TRANSACTION');
        let result;
        try {
          result = await fn(statements(conn));
        } catch (err) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        try {
          await conn.query('COMMIT');
        } catch (err) {
          throw new SqlCommitError((err as Error).message);
        }
        return result;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The same through Sequelize (ctx.mysql's library), kept for the driver comparison. */
export function sequelizeExecutor(url: string, connections: number): SqlExecutor {
  const sequelize = new Sequelize(asMysqlUrl(url), {
    dialect: 'mysql',
    logging: false,
    pool: { max: connections, min: 0, idle: 10000 },
    dialectOptions: { connectTimeout: 5000 },
  });
  const statements = (transaction?: Transaction): SqlStatements => ({
    select: async (sql, params) => sequelize.query<Row>(sql, { replacements: params, type: QueryTypes.SELECT, ...(transaction ? { transaction } : {}) }),
    run: async (sql, params) => void (await sequelize.query(sql, { replacements: params, type: QueryTypes.RAW, ...(transaction ? { transaction } : {}) })),
  });
  return {
    driver: 'sequelize',
    ...statements(),
    async transaction(fn) {
      const t = await sequelize.transaction();
      let result;
      try {
        result = await fn(statements(t));
      } catch (err) {
        await t.rollback().catch(() => undefined);
        throw err;
      }
      try {
        await t.commit();
      } catch (err) {
        throw new SqlCommitError((err as Error).message);
      }
      return result;
    },
    close: () => sequelize.close(),
  };
}

export function sqlExecutor(driver: SqlDriverName, url: string, connections: number): SqlExecutor {
  return driver === 'mysql2' ? mysql2Executor(url, connections) : sequelizeExecutor(url, connections);
}

/** MySQL error number of a driver error (Sequelize wraps the driver's error in `parent`). */
export function sqlErrno(err: unknown): number | undefined {
  const e = err as { errno?: number; parent?: { errno?: number }; original?: { errno?: number } };
  return e.errno ?? e.parent?.errno ?? e.original?.errno;
}

export const ER_LOCK_DEADLOCK = 1213;
export const ER_LOCK_WAIT_TIMEOUT = 1205;

export type SellResult = { kind: 'sold' } | { kind: 'taken'; offsets: number[] } | { kind: 'sold_out' } | { kind: 'missing_rows' };

/** Seat rows of the baseline: create, populate, sell, read back, delete. */
export class BaselineSeats {
  private readonly populated = new Map<string, Promise<void>>();

  constructor(readonly sql: SqlExecutor) {}

  ensureTable(): Promise<void> {
    return this.sql.run(CREATE_TABLE, []);
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
        const [free] = await tx.select(`SELECT COUNT(*) AS n FROM ${BASELINE_TABLE} WHERE event_id = ? AND zone_id = ? AND ticket_id IS NULL`, [eventId, zoneId]);
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
    return rows.map((r) => ({ zoneId: String(r.zone_id), offset: Number(r.seat_offset), ticketId: String(r.ticket_id), purchaseId: String(r.purchase_id) }));
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
