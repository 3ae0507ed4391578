import type { CatalogCache } from '../catalog/cache';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import { metrics } from '../observability/metrics';
import { ApiError } from '../shared/errors';
import { conflict, purchaseRecord, resolveSale, type PurchaseRequest, type PurchaseService } from './engine';
import { ticketIdOf } from './ids';
import type { TicketPurchased } from './record';
import { createSqlClient, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, SqlCommitError, sqlErrno } from '../shared/sql';
import { BaselineSeats } from './sql-store';

type SqlEngineConfig = Pick<
  Config,
  'MYSQL_URL' | 'MAX_SEATS_PER_PURCHASE' | 'PURCHASE_TIMEOUT_MS' | 'PURCHASE_RECORD_TTL_SECONDS'
>;

export interface SqlEngineOptions {
  connections?: number;
}

const DEADLOCK_RETRIES = 3;

/**
 * The load lab's baseline (INVENTORY_BACKEND=sql): the same purchase API decided by MariaDB
 * row locks instead of the Redis script. The COMMIT is the confirmation, so nothing goes to
 * Kafka: it is the classic design the Redis engine is measured against, not a second way to
 * run production.
 */
export class SqlPurchaseEngine implements PurchaseService {
  private constructor(
    readonly seats: BaselineSeats,
    private readonly catalog: CatalogCache,
    private readonly cfg: SqlEngineConfig,
    private readonly log: Logger,
  ) {}

  /** Opens its own pool and creates the seat table when absent. */
  static async start(cfg: SqlEngineConfig, catalog: CatalogCache, log: Logger, opts: SqlEngineOptions = {}): Promise<SqlPurchaseEngine> {
    const sql = createSqlClient(cfg.MYSQL_URL, { connections: opts.connections ?? 16 });
    const seats = new BaselineSeats(sql);
    try {
      await seats.ensureTable();
    } catch (err) {
      await sql.close().catch(() => undefined);
      throw new Error(`INVENTORY_BACKEND=sql needs MariaDB at MYSQL_URL: ${(err as Error).message}. Check npm run services:status.`);
    }
    return new SqlPurchaseEngine(seats, catalog, cfg, log);
  }

  async purchase(req: PurchaseRequest): Promise<TicketPurchased> {
    const { event, zone, seats } = await resolveSale(this.catalog, req, this.cfg);
    await this.unavailableOnError(() => this.seats.ensureZone(req.eventId, req.zoneId, zone.layout.capacity));
    const record = purchaseRecord(req, event, zone);
    const { purchaseId } = record;
    const tickets = seats.map((s, i) => ({ offset: s.offset, ticketId: ticketIdOf(purchaseId, i + 1) }));

    const result = await this.sellWithRetry(req, purchaseId, tickets);
    switch (result.kind) {
      case 'sold':
        return record;
      case 'taken': {
        metrics.purchaseConflicts.inc({ reason: 'seat_taken' });
        const takenSet = new Set(result.offsets);
        const taken = req.seats.filter((_, i) => takenSet.has(seats[i]!.offset));
        throw conflict('SEATS_TAKEN', `Already taken: ${taken.map((s) => `row ${s.row} seat ${s.column}`).join(', ')}`, { seats: taken });
      }
      case 'sold_out':
        metrics.purchaseConflicts.inc({ reason: 'zone_sold_out' });
        throw conflict('ZONE_SOLD_OUT', `Zone ${req.zoneId} of ${req.eventId} is sold out`);
      case 'missing_rows':
        throw new ApiError('INVENTORY_REBUILDING', `Zone ${req.zoneId} of ${req.eventId} has no seat rows yet; try again shortly`);
    }
  }

  private async sellWithRetry(req: PurchaseRequest, purchaseId: string, tickets: { offset: number; ticketId: string }[]) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.seats.sell(req.eventId, req.zoneId, purchaseId, tickets);
      } catch (err) {
        if (err instanceof SqlCommitError) {
          this.log.warn({ err, purchaseId }, 'commit failed');
          throw new ApiError('PURCHASE_OUTCOME_UNKNOWN', `The database did not confirm the commit of ${purchaseId}; check the seat map before buying again`, { purchaseId });
        }
        const errno = sqlErrno(err);
        // Rows are locked in key order, so deadlocks should not happen; retry if one does.
        if (errno === ER_LOCK_DEADLOCK && attempt < DEADLOCK_RETRIES) continue;
        this.log.warn({ err, purchaseId, errno }, 'baseline sale failed');
        const why = errno === ER_LOCK_WAIT_TIMEOUT ? 'the seats stayed locked too long' : 'the database did not answer';
        throw new ApiError('INVENTORY_UNAVAILABLE', `Nothing was sold: ${why}; try again`);
      }
    }
  }

  private async unavailableOnError(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.warn({ err }, 'baseline zone rows could not be created');
      throw new ApiError('INVENTORY_UNAVAILABLE', 'The seat table is unreachable; nothing was sold, try again');
    }
  }

  close(): Promise<void> {
    return this.seats.sql.close();
  }
}
