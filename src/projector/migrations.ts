import type { SqlClient } from '../shared/sql';

/**
 * Versioned migrations of the MySQL read model. Append only: never edit a migration that has
 * shipped, add the next version. Ids and row labels are case-sensitive (`ascii_bin`): "Event1"
 * and "event1" are different events, and purchase ids are base64url.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

const ID = 'VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL';
const LONG_ID = 'VARCHAR(160) CHARACTER SET ascii COLLATE ascii_bin NOT NULL';
const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'catalog: venues, events, zones',
    statements: [
      `CREATE TABLE IF NOT EXISTS venues (
        venue_id ${ID} PRIMARY KEY,
        resource_name VARCHAR(253) NOT NULL,
        name VARCHAR(200) NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS events (
        event_id ${ID} PRIMARY KEY,
        venue_id ${ID},
        resource_name VARCHAR(253) NOT NULL,
        name VARCHAR(200) NOT NULL,
        starts_at VARCHAR(40) NOT NULL,
        sales_opens_at VARCHAR(40) NULL,
        sales_closes_at VARCHAR(40) NULL,
        state VARCHAR(16) NOT NULL,
        per_user_limit INT NOT NULL,
        currency CHAR(3) NOT NULL,
        source VARCHAR(300) NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        KEY ix_events_venue (venue_id)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS zones (
        event_id ${ID},
        zone_id ${ID},
        venue_id ${ID},
        position INT NOT NULL,
        name VARCHAR(200) NOT NULL,
        category VARCHAR(64) NULL,
        price_cents BIGINT NOT NULL,
        capacity INT NOT NULL,
        row_labels TEXT NOT NULL,
        seat_counts TEXT NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (event_id, zone_id)
      ) ${TABLE}`,
    ],
  },
  {
    version: 2,
    name: 'sales: tickets, purchases',
    statements: [
      `CREATE TABLE IF NOT EXISTS tickets (
        ticket_id ${LONG_ID} PRIMARY KEY,
        purchase_id ${LONG_ID},
        event_id ${ID},
        zone_id ${ID},
        venue_id ${ID},
        row_label VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        seat_number INT UNSIGNED NOT NULL,
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        price_cents BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        created_on DATETIME(3) NOT NULL,
        projected_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_tickets_seat (event_id, zone_id, row_label, seat_number),
        KEY ix_tickets_user (user_id, created_on, ticket_id),
        KEY ix_tickets_purchase (purchase_id)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS purchases (
        purchase_id ${LONG_ID} PRIMARY KEY,
        event_id ${ID},
        zone_id ${ID},
        venue_id ${ID},
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        seat_count INT NOT NULL,
        total_cents BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        created_on DATETIME(3) NOT NULL,
        projected_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY ix_purchases_event (event_id, zone_id),
        KEY ix_purchases_user (user_id, created_on)
      ) ${TABLE}`,
    ],
  },
  {
    // A cancelled ticket moves from tickets to cancelled_tickets (same columns, plus when), so
    // tickets keeps one live ticket per seat (its unique seat key) and every query of sold
    // seats and revenue reads only live ones; the seat can be sold again with a new ticket id.
    // New tables only: re-running after a crash is safe, on MySQL and MariaDB alike.
    version: 3,
    name: 'cancellations: cancelled_tickets, cancellations',
    statements: [
      `CREATE TABLE IF NOT EXISTS cancelled_tickets (
        ticket_id ${LONG_ID} PRIMARY KEY,
        purchase_id ${LONG_ID},
        event_id ${ID},
        zone_id ${ID},
        venue_id ${ID},
        row_label VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        seat_number INT UNSIGNED NOT NULL,
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        price_cents BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        created_on DATETIME(3) NOT NULL,
        cancelled_at DATETIME(3) NOT NULL,
        projected_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY ix_cancelled_seat (event_id, zone_id, row_label, seat_number),
        KEY ix_cancelled_user (user_id, created_on, ticket_id),
        KEY ix_cancelled_purchase (purchase_id)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS cancellations (
        purchase_id ${LONG_ID} PRIMARY KEY,
        event_id ${ID},
        zone_id ${ID},
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        seat_count INT NOT NULL,
        total_cents BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        cancelled_at DATETIME(3) NOT NULL,
        projected_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY ix_cancellations_event (event_id, zone_id)
      ) ${TABLE}`,
    ],
  },
  {
    version: 4,
    name: 'reset fences (src/reset/fence.ts)',
    statements: [
      `CREATE TABLE IF NOT EXISTS reset_lock (id INT PRIMARY KEY) ENGINE=InnoDB`,
      `INSERT IGNORE INTO reset_lock (id) VALUES (1)`,
      `CREATE TABLE IF NOT EXISTS event_resets (
        event_id ${ID} PRIMARY KEY,
        generation INT NOT NULL,
        fence TEXT NOT NULL,
        reset_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
      ) ${TABLE}`,
    ],
  },
];

const LOCK = 'ticketing.schema_migrations';

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, under a named
 * lock so concurrent start-ups (projector, controller, several replicas) apply each once.
 * Returns the versions applied by this call.
 */
export async function migrate(sql: SqlClient, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  // A transaction pins one connection, which GET_LOCK needs (DDL commits implicitly anyway).
  return sql.transaction(async (tx) => {
    const [lock] = await tx.select<{ got: number | null }>('SELECT GET_LOCK(?, 60) AS got', [LOCK]);
    if (lock?.got !== 1) throw new Error('Could not take the schema migration lock within 60 s; another start-up holds it. Retry shortly.');
    try {
      await tx.run(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
          version INT PRIMARY KEY,
          name VARCHAR(200) NOT NULL,
          applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
        ) ENGINE=InnoDB`,
      );
      const done = new Set((await tx.select<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
        applied.push(m.version);
      }
      return applied;
    } finally {
      await tx.select('SELECT RELEASE_LOCK(?) AS released', [LOCK]);
    }
  });
}
