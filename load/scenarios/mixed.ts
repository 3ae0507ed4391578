import { seedLayout } from './layout';
import type { PlannedRequest, ScenarioPlan } from './plan';
import { randomInt, seededRandom } from './random';

export interface MixedOptions {
  zones: number;
  requests: number;
  /** Share of seat-map reads; the rest are single-seat purchases of random seats. */
  readShare?: number;
  seed?: number;
}

/** Browsing and buying together: mostly seat-map reads, some purchases (duplicates happen). */
export function mixed(o: MixedOptions): ScenarioPlan {
  const rnd = seededRandom(o.seed ?? 5);
  const layout = seedLayout(o.zones);
  const share = o.readShare ?? 0.8;
  const requests: PlannedRequest[] = [];
  for (let i = 0; i < o.requests; i++) {
    const zone = layout.zones[randomInt(rnd, layout.zones.length)]!;
    if (rnd() < share) {
      requests.push({ route: 'seat_map', zoneId: zone.zoneId, seats: [], userId: `mixed${i}` });
    } else {
      const seat = { row: zone.rows[randomInt(rnd, zone.rows.length)]!, column: randomInt(rnd, zone.seatsPerRow) + 1 };
      requests.push({ route: i % 2 === 0 ? 'tickets' : 'ticket_query', zoneId: zone.zoneId, seats: [seat], userId: `mixed${i}` });
    }
  }
  return {
    name: 'mixed',
    description: `${o.requests} requests over ${layout.zones.length} zone(s): ${Math.round(share * 100)} % seat-map reads, the rest single-seat purchases`,
    layout,
    setup: [],
    requests,
    expect: {},
  };
}
