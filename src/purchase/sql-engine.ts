import type { CatalogCache } from '../catalog/cache';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import { purchaseRecord, resolveSale, type PurchaseOutcome, type PurchaseRequest, type PurchaseService, type Unconfirmed } from './engine';
import { ticketIdOf } from './ids';
import { createSqlClient, ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, SqlCommitError, sqlErrno } from '../shared/sql';
import { BaselineSeats, type SellResult } from './sql-store';

type SqlEngineConfig = Pick<Config, 'MYSQL_URL' | 'MAX_SEATS_PER_PURCHASE' | 'PURCHASE_TIMEOUT_MS' | 'PURCHASE_RECORD_TTL_SECONDS'>;

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
      throw new Error(`INVENTORY_BACKEND=sql needs MariaDB at MYSQL_URL: ${(err as Error).message}. Check npm run services:status.`, {
        cause: err,
      });
    }
    return new SqlPurchaseEngine(seats, catalog, cfg, log);
  }

  async purchase(req: PurchaseRequest): Promise<PurchaseOutcome> {
    const sale = await resolveSale(this.catalog, req, this.cfg);
    if (sale.kind !== 'sale') return sale;
    const { event, zone, seats } = sale;
    const noTable = await this.unavailableOnError(() => this.seats.ensureZone(req.eventId, req.zoneId, zone.layout.capacity));
    if (noTable) return noTable;
    const record = purchaseRecord(req, event, zone);
    const { purchaseId } = record;
    const tickets = seats.map((s, i) => ({ offset: s.offset, ticketId: ticketIdOf(purchaseId, i + 1) }));

    const result = await this.sellWithRetry(req, purchaseId, tickets);
    switch (result.kind) {
      case 'sold':
        return { kind: 'confirmed', record };
      case 'taken': {
        const takenSet = new Set(result.offsets);
        return { kind: 'seats-taken', seats: req.seats.filter((_, i) => takenSet.has(seats[i]!.offset)) };
      }
      case 'sold_out':
        return { kind: 'zone-sold-out', eventId: req.eventId, zoneId: req.zoneId };
      case 'missing_rows':
        return { kind: 'inventory-rebuilding', eventId: req.eventId, zoneId: req.zoneId };
      default:
        return result; // the database failed: sellWithRetry's outcome
    }
  }

  /** The sale's result, or what became of the purchase when the database failed. */
  private async sellWithRetry(
    req: PurchaseRequest,
    purchaseId: string,
    tickets: { offset: number; ticketId: string }[],
  ): Promise<SellResult | Unconfirmed> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.seats.sell(req.eventId, req.zoneId, purchaseId, tickets);
      } catch (err) {
        if (err instanceof SqlCommitError) {
          this.log.warn({ err, purchaseId }, 'commit failed');
          // Nothing of the baseline reaches the stores, so the purchase cannot be looked up.
          return {
            kind: 'unknown',
            purchaseId,
            why: `The database did not confirm the commit of ${purchaseId}`,
            next: 'check the seat map before buying again',
          };
        }
        const errno = sqlErrno(err);
        // Rows are locked in key order, so deadlocks should not happen; retry if one does.
        if (errno === ER_LOCK_DEADLOCK && attempt < DEADLOCK_RETRIES) continue;
        this.log.warn({ err, purchaseId, errno }, 'baseline sale failed');
        const why = errno === ER_LOCK_WAIT_TIMEOUT ? 'the seats stayed locked too long' : 'the database did not answer';
        return { kind: 'inventory-unavailable', why: `Nothing was sold: ${why}; try again` };
      }
    }
  }

  private async unavailableOnError(fn: () => Promise<void>): Promise<Unconfirmed | undefined> {
    try {
      await fn();
      return undefined;
    } catch (err) {
      this.log.warn({ err }, 'baseline zone rows could not be created');
      return { kind: 'inventory-unavailable', why: 'The seat table is unreachable; nothing was sold, try again' };
    }
  }

  close(): Promise<void> {
    return this.seats.sql.close();
  }
}
