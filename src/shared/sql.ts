import mysql from 'mysql2/promise';

/**
 * The platform's one MySQL/MariaDB client: mysql2's promise pool, used directly, for the read
 * model, the catalog mirror, the migrations and the load lab's row-locking baseline. Sequelize
 * was dropped: it only ran raw SQL here, and it was measured 1.5× slower than mysql2 on the
 * sale transaction (docs/cqrs.md, "Read model: why mysql2 and not Sequelize").
 *
 * Statements use `?` placeholders, filled in on the client (mysql2's `query`, not prepared
 * statements): an array fills `IN (?)` with a list.
 */
export type Row = Record<string, unknown>;

export interface SqlStatements {
  /** The rows of a SELECT. */
  select<T extends object = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A statement that returns no rows; how many rows it changed. */
  run(sql: string, params?: unknown[]): Promise<{ affectedRows: number }>;
}

/** The COMMIT itself failed: the transaction may or may not have been applied. */
export class SqlCommitError extends Error {}

export interface TransactionOptions {
  /** Isolation of this one transaction; the server's default (REPEATABLE READ) otherwise. */
  isolation?: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';
}

/** A pool that runs statements, and transactions on one connection it pins for their length. */
export interface SqlClient extends SqlStatements {
  /** Runs `fn` in a transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlStatements) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

const asMysqlUrl = (url: string) => url.replace(/^mariadb:/, 'mysql:');

function statementsOf(conn: mysql.Pool | mysql.PoolConnection): SqlStatements {
  return {
    select: async <T extends object = Row>(sql: string, params: unknown[] = []) => (await conn.query(sql, params))[0] as T[],
    run: async (sql, params = []) => {
      const [result] = await conn.query(sql, params);
      return { affectedRows: (result as mysql.ResultSetHeader).affectedRows ?? 0 };
    },
  };
}

/**
 * Opens a pool on MYSQL_URL (`mysql://` or `mariadb://`). Every connection works in UTC
 * (`time_zone = '+00:00'`, DATETIME read and written as UTC), and BIGINT values that fit a
 * JavaScript number come back as numbers, larger ones as strings.
 */
export function createSqlClient(url: string, opts: { connections?: number } = {}): SqlClient {
  const pool = mysql.createPool({
    uri: asMysqlUrl(url),
    connectionLimit: opts.connections ?? 10,
    waitForConnections: true,
    connectTimeout: 5000,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
  });
  // Runs before any statement of the new connection (a connection runs its queries in order).
  pool.on('connection', (conn) => void conn.query("SET time_zone = '+00:00'"));
  return {
    ...statementsOf(pool),
    async transaction(fn, txOpts = {}) {
      const conn = await pool.getConnection();
      try {
        if (txOpts.isolation) await conn.query(`SET TRANSACTION ISOLATION LEVEL ${txOpts.isolation}`);
        await conn.query('START TRANSACTION');
        let result;
        try {
          result = await fn(statementsOf(conn));
        } catch (err) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        try {
          await conn.query('COMMIT');
        } catch (err) {
          throw new SqlCommitError((err as Error).message, { cause: err });
        }
        return result;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

/** MySQL error number of a driver error (e.g. ER_LOCK_DEADLOCK), undefined for any other error. */
export function sqlErrno(err: unknown): number | undefined {
  return (err as { errno?: number }).errno;
}

export const ER_LOCK_DEADLOCK = 1213;
export const ER_LOCK_WAIT_TIMEOUT = 1205;
