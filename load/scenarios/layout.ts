import type { Seat, VenueLayout, ZoneLayout } from './plan';

export const ROW_LABELS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

/**
 * The seed venue's layout (Venue1: zones "1".."100", rows A–Z, 30 seats a row), or a slice
 * of it for smaller runs.
 */
export function seedLayout(zones = 100, rows = 26, seatsPerRow = 30): VenueLayout {
  const labels = ROW_LABELS.slice(0, rows);
  return { zones: Array.from({ length: zones }, (_, i) => ({ zoneId: String(i + 1), rows: labels, seatsPerRow })) };
}

export function zoneSeats(zone: ZoneLayout): Seat[] {
  const seats: Seat[] = [];
  for (const row of zone.rows) for (let c = 1; c <= zone.seatsPerRow; c++) seats.push({ row, column: c });
  return seats;
}

export const capacityOf = (layout: VenueLayout): number => layout.zones.reduce((s, z) => s + z.rows.length * z.seatsPerRow, 0);
