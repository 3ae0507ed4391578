import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { BaselineSeats, SQL_DRIVERS, sqlExecutor, type SqlDriverName } from '../src/purchase/sql-store';

export interface SqlDriverFigure {
  driver: SqlDriverName;
  connections: number;
  sales: number;
  throughput: number;
  p50: number;
  p99: number;
}

/**
 * mysql2's promise pool against Sequelize for the baseline's sale transaction (lock rows in key
 * order, check, update, commit), without HTTP: the figures that chose the baseline's driver.
 */
export async function compareSqlDrivers(url: string, runId: string, sales: number, inFlight = 200, connections = 32): Promise<SqlDriverFigure[]> {
  const figures: SqlDriverFigure[] = [];
  for (const driver of SQL_DRIVERS) {
    const seats = new BaselineSeats(sqlExecutor(driver, url, connections));
    const eventId = `BenchSqlDriver${runId}${driver}`;
    try {
      await seats.ensureTable();
      await seats.ensureZone(eventId, '1', sales);
      const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          for (let i = next++; i < sales; i = next++) {
            const t = performance.now();
            const r = await seats.sell(eventId, '1', `p${i}`, [{ offset: i, ticketId: `p${i}.1` }]);
            if (r.kind !== 'sold') throw new Error(`driver comparison: seat ${i} was not sold (${r.kind})`);
            h.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
          }
        }),
      );
      const ms = performance.now() - start;
      figures.push({
        driver,
        connections,
        sales,
        throughput: Math.round((sales * 1000) / ms),
        p50: h.getValueAtPercentile(50) / 1000,
        p99: h.getValueAtPercentile(99) / 1000,
      });
      h.destroy();
    } finally {
      await seats.deleteEvent(eventId).catch(() => undefined);
      await seats.sql.close();
    }
  }
  return figures;
}

if (require.main === module) {
  const [sales = '3000', inFlight = '200', connections = '32'] = process.argv.slice(2);
  compareSqlDrivers(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/ticketing', String(Date.now()), Number(sales), Number(inFlight), Number(connections)).then(
    (f) => console.log(JSON.stringify(f, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
