import type { CachedZone } from '../catalog/cache';

/** What the seat map needs of a zone's live state (the seats route reads it; the change stream keeps it). */
export interface SeatsState {
  capacity: number;
  available: number;
  rowAvailable: number[];
  /** The zone bitmap: bit = held or sold. */
  taken: Buffer;
  /** Bit = held (only meaningful where `taken` is set). */
  held: Buffer;
}

/** The seats route's body; the change stream's snapshot is this plus its `seq`. */
export function seatsBody(eventId: string, zone: CachedZone, st: SeatsState) {
  const bitmap = (bits: Buffer) => ({
    encoding: 'bitmap-msb-base64' as const,
    data: bits.subarray(0, Math.ceil(st.capacity / 8)).toString('base64'),
  });
  return {
    eventId,
    zoneId: zone.zone.zoneId,
    name: zone.zone.name,
    priceCents: zone.zone.priceCents,
    rows: zone.zone.rows,
    seatCounts: zone.zone.seatCounts,
    capacity: st.capacity,
    available: st.available,
    rowAvailable: st.rowAvailable,
    sold: bitmap(st.taken),
    held: bitmap(st.held),
  };
}
