import type { ZoneDef } from '../catalog/model';
import { ZoneLayout } from '../catalog/layout';
import type { SeatPosition } from '../inventory/inventory';
import { zonesOfEvent, type AuditReport } from './audit';
import type { CqrsStores } from './stores';

/**
 * Redis lost some writes but kept the zone (an asynchronous failover, AOF's last second): seats
 * the write model holds as sold show free in Redis and could be sold twice. DynamoDB is the
 * truth, so those seats are marked taken again. Nothing is ever freed here. Returns how many.
 * Every zone is tried; if some could not be repaired, the error names them after the others are done.
 */
export async function markLostSales(
  stores: CqrsStores,
  report: AuditReport,
  log: (line: string) => void = () => undefined,
  zones?: ZoneDef[],
): Promise<number> {
  const lost = report.drift.filter((d) => d.redis === 'free' && d.dynamodb !== null);
  if (lost.length === 0) return 0;
  let marked = 0;
  const failed: string[] = [];
  for (const zone of zones ?? (await zonesOfEvent(stores, report.eventId))) {
    const layout = ZoneLayout.of(zone);
    const drifted = lost.filter((d) => d.zoneId === zone.zoneId);
    if (drifted.length === 0) continue;
    try {
      // Still sold in DynamoDB now, in the event's current tables: a load-test reset between the
      // audit's reads and this repair dropped the old sale and re-created the zone empty, and
      // marking the old seats would refuse them to the next buyers. (The window left is this
      // read and the mark below, against the reset's fence write, drop and re-creation.)
      const stillSold = new Set((await stores.writeModel.soldSeats(report.eventId, zone.zoneId)).map((s) => `${s.row}/${s.column}`));
      const seats = drifted
        .filter((d) => stillSold.has(`${d.row}/${d.column}`))
        .flatMap((d): SeatPosition[] => {
          const pos = layout.locate(d.row, d.column);
          return pos ? [pos] : [];
        });
      if (seats.length === 0) continue;
      const n = await stores.inventory.markSold(report.eventId, zone, seats);
      log(`zone ${zone.zoneId}: ${n} seats sold in DynamoDB but free in Redis marked taken again`);
      marked += n;
    } catch (err) {
      failed.push(`${zone.zoneId} (${(err as Error).message})`);
    }
  }
  if (failed.length)
    throw new Error(`${report.eventId}: ${marked} seats taken again, but zones ${failed.join(', ')} could not be repaired`);
  return marked;
}
