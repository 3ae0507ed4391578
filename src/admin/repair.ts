import { ZoneLayout } from '../inventory/layout';
import type { SeatPosition } from '../inventory/inventory';
import type { AuditReport } from './audit';
import type { CqrsStores } from './stores';

/**
 * Redis lost some writes but kept the zone (an asynchronous failover, AOF's last second): seats
 * the write model holds as sold show free in Redis and could be sold twice. DynamoDB is the
 * truth, so those seats are marked taken again. Nothing is ever freed here. Returns how many.
 */
export async function markLostSales(stores: CqrsStores, report: AuditReport, log: (line: string) => void = () => undefined): Promise<number> {
  const lost = report.drift.filter((d) => d.redis === 'free' && d.dynamodb !== null);
  if (lost.length === 0) return 0;
  const entry = (await stores.catalogEntry(report.eventId))?.entry;
  if (!entry) return 0;
  let marked = 0;
  for (const zone of entry.venue.zones) {
    const layout = ZoneLayout.of(zone);
    const seats = lost.filter((d) => d.zoneId === zone.zoneId).flatMap((d): SeatPosition[] => {
      const pos = layout.locate(d.row, d.column);
      return pos ? [pos] : [];
    });
    if (seats.length === 0) continue;
    const n = await stores.inventory.markSold(report.eventId, zone, seats);
    log(`zone ${zone.zoneId}: ${n} seats sold in DynamoDB but free in Redis marked taken again`);
    marked += n;
  }
  return marked;
}
