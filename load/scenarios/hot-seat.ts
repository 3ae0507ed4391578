import { seedLayout } from './layout';
import type { PlannedRequest, ScenarioPlan } from './plan';
import { randomInt, seededRandom, shuffle } from './random';

export interface HotSeatOptions {
  buyers: number;
  seats?: number;
  seed?: number;
}

/** A storm on a handful of seats: many buyers, each for one of the first seats of row A. */
export function hotSeat(o: HotSeatOptions): ScenarioPlan {
  const rnd = seededRandom(o.seed ?? 2);
  const hot = o.seats ?? 10;
  const layout = seedLayout(1);
  // The first buyers cover every hot seat, so exactly `hot` purchases can succeed.
  const columns = Array.from({ length: o.buyers }, (_, i) => (i < hot ? i + 1 : randomInt(rnd, hot) + 1));
  shuffle(columns, rnd);
  const requests: PlannedRequest[] = columns.map((column, i) => ({
    route: 'tickets',
    zoneId: '1',
    seats: [{ row: 'A', column }],
    userId: `hot${i}`,
  }));
  return {
    name: 'hot-seat',
    description: `${o.buyers} buyers for ${hot} seats (zone 1, row A) over POST /api/v1/tickets`,
    layout,
    setup: [],
    requests,
    expect: { confirmed: hot, conflicts: o.buyers - hot },
  };
}
