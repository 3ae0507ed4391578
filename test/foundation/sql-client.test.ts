import { createSqlClient, type SqlClient } from '../../src/shared/sql';
import { testConfig, uid } from '../support/env';

/**
 * The platform's MySQL client (src/shared/sql.ts, mysql2 without Sequelize) keeps what the read
 * model relied on when it ran through Sequelize: UTC sessions, DATETIME as UTC, lists for
 * `IN (?)`, affected-row counts, all-or-nothing transactions and a per-transaction isolation.
 */
describe('SQL client (mysql2 pool)', () => {
  let sql: SqlClient;
  const table = `sqlclient_${uid('t').toLowerCase()}`;
  beforeAll(async () => {
    sql = createSqlClient(testConfig().MYSQL_URL, { connections: 2 });
    await sql.run(`CREATE TABLE ${table} (id INT PRIMARY KEY, at DATETIME(3) NULL, n BIGINT NULL) ENGINE=InnoDB`);
  });
  afterAll(async () => {
    await sql.run(`DROP TABLE IF EXISTS ${table}`);
    await sql.close();
  });

  test('every connection works in UTC: NOW() and DATETIME columns read back as the same UTC instant', async () => {
    const sessions = await Promise.all([1, 2, 3].map(() => sql.select<{ tz: string }>('SELECT @@session.time_zone AS tz')));
    expect(sessions.flat().map((r) => r.tz)).toEqual(['+00:00', '+00:00', '+00:00']);
    await sql.run(`INSERT INTO ${table} (id, at) VALUES (?, ?)`, [1, '2026-01-01 10:00:00.123']);
    const [row] = await sql.select<{ at: Date; now: Date }>(`SELECT at, NOW(3) AS now FROM ${table} WHERE id = ?`, [1]);
    expect(row!.at.toISOString()).toBe('2026-01-01T10:00:00.123Z');
    expect(Math.abs(row!.now.getTime() - Date.now())).toBeLessThan(60_000);
  });

  test('an array fills IN (?) with a list; run reports the rows it changed; BIGINT stays exact', async () => {
    await sql.run(`INSERT INTO ${table} (id, n) VALUES (?, ?), (?, ?)`, [2, 5, 3, '9007199254740993']);
    const rows = await sql.select<{ id: number; n: number | string }>(`SELECT id, n FROM ${table} WHERE id IN (?) ORDER BY id`, [
      [2, 3, 99],
    ]);
    expect(rows).toEqual([
      { id: 2, n: 5 },
      { id: 3, n: '9007199254740993' },
    ]);
    expect(await sql.run(`DELETE FROM ${table} WHERE id IN (?)`, [[2, 3]])).toEqual({ affectedRows: 2 });
  });

  test('a transaction that throws leaves nothing behind; one that returns is committed', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.run(`INSERT INTO ${table} (id) VALUES (?)`, [10]);
        throw new Error('abandoned');
      }),
    ).rejects.toThrow('abandoned');
    expect(await sql.select(`SELECT id FROM ${table} WHERE id = 10`)).toEqual([]);
    await sql.transaction((tx) => tx.run(`INSERT INTO ${table} (id) VALUES (?)`, [11]));
    expect(await sql.select(`SELECT id FROM ${table} WHERE id = 11`)).toEqual([{ id: 11 }]);
  });

  test('the isolation level applies to the one transaction that asked for it', async () => {
    // READ COMMITTED sees a row another connection committed after the transaction's first
    // read; the default REPEATABLE READ keeps its first snapshot.
    const seesLaterCommit = (opts?: { isolation: 'READ COMMITTED' }) =>
      sql.transaction(async (tx) => {
        const id = 100 + Math.floor(Math.random() * 1e6);
        await tx.select(`SELECT COUNT(*) AS n FROM ${table}`);
        await sql.run(`INSERT INTO ${table} (id) VALUES (?)`, [id]);
        return (await tx.select(`SELECT id FROM ${table} WHERE id = ?`, [id])).length === 1;
      }, opts);
    expect(await seesLaterCommit({ isolation: 'READ COMMITTED' })).toBe(true);
    expect(await seesLaterCommit()).toBe(false);
    expect(await seesLaterCommit()).toBe(false);
  });
});
