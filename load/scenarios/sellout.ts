import { seedLayout, zoneSeats } from './layout';
import type { PlannedRequest, ScenarioPlan, Seat } from './plan';
import { randomInt, seededRandom, shuffle } from './random';

export interface SelloutOptions {
  zones: number;
  /** Seats left free in each zone after the setup sales. */
  remaining: number;
  buyersPerZone: number;
  seed?: number;
}

const MAX_SEATS = 10;

/**
 * The race for the last seats: setup sells every seat but `remaining` per zone, then many
 * buyers each go for one of the seats still shown free. Exactly `remaining` win per zone;
 * the others hear SEATS_TAKEN or ZONE_SOLD_OUT, and every zone ends sold out.
 */
export function sellout(o: SelloutOptions): ScenarioPlan {
  const rnd = seededRandom(o.seed ?? 4);
  const layout = seedLayout(o.zones);
  const setup: PlannedRequest[] = [];
  const requests: PlannedRequest[] = [];
  for (const zone of layout.zones) {
    const seats = shuffle(zoneSeats(zone), rnd);
    const free = seats.slice(0, o.remaining);
    const freeKeys = new Set(free.map((s) => `${s.row}/${s.column}`));
    // Sell the rest in purchases of up to MAX_SEATS seats of one row.
    for (const row of zone.rows) {
      let batch: Seat[] = [];
      const flush = () => {
        if (batch.length > 0) setup.push({ route: 'purchases', zoneId: zone.zoneId, seats: batch, userId: `presale${setup.length}` });
        batch = [];
      };
      for (let c = 1; c <= zone.seatsPerRow; c++) {
        if (freeKeys.has(`${row}/${c}`)) continue;
        batch.push({ row, column: c });
        if (batch.length === MAX_SEATS) flush();
      }
      flush();
    }
    for (let b = 0; b < o.buyersPerZone; b++) {
      // The first buyers cover every free seat, so the zone does sell out.
      const seat = b < free.length ? free[b]! : free[randomInt(rnd, free.length)]!;
      requests.push({ route: b % 2 === 0 ? 'tickets' : 'purchases', zoneId: zone.zoneId, seats: [seat], userId: '' });
    }
  }
  shuffle(requests, rnd);
  requests.forEach((r, i) => (r.userId = `last${i}`));
  const winners = o.zones * Math.min(o.remaining, o.buyersPerZone);
  return {
    name: 'sellout',
    description: `${layout.zones.length} zone(s) with ${o.remaining} seats left each, ${o.buyersPerZone} buyers per zone`,
    layout,
    setup,
    requests,
    expect: {
      confirmed: winners,
      conflicts: requests.length - winners,
      ...(o.buyersPerZone >= o.remaining ? { soldOutZones: layout.zones.map((z) => z.zoneId) } : {}),
    },
  };
}
