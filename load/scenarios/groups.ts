import { seedLayout } from './layout';
import type { PlannedRequest, ScenarioPlan, Seat } from './plan';
import { seededRandom, shuffle } from './random';

export interface GroupsOptions {
  zones: number;
  rows?: number;
  seed?: number;
}

/**
 * Overlapping multi-seat purchases: in even rows a chain of adjacent pairs (1-2, 2-3, …), in odd
 * rows a ring of triples that wraps round the row end (…, 29-30-1, 30-1-2). Every group shares
 * seats with its neighbours, so only all-or-nothing purchases keep the seat sets disjoint.
 */
export function groups(o: GroupsOptions): ScenarioPlan {
  const rnd = seededRandom(o.seed ?? 3);
  const layout = seedLayout(o.zones, o.rows);
  const planned: PlannedRequest[] = [];
  for (const zone of layout.zones) {
    zone.rows.forEach((row, r) => {
      const n = zone.seatsPerRow;
      const seat = (c: number): Seat => ({ row, column: ((c - 1) % n) + 1 });
      if (r % 2 === 0) {
        for (let c = 1; c < n; c++) planned.push({ route: 'purchases', zoneId: zone.zoneId, seats: [seat(c), seat(c + 1)], userId: '' });
      } else {
        for (let c = 1; c <= n; c++)
          planned.push({ route: 'purchases', zoneId: zone.zoneId, seats: [seat(c), seat(c + 1), seat(c + 2)], userId: '' });
      }
    });
  }
  shuffle(planned, rnd);
  planned.forEach((p, i) => (p.userId = `group${i}`));
  return {
    name: 'groups',
    description: `${planned.length} overlapping pair and ring-of-three purchases in ${layout.zones.length} zone(s) over POST /api/v1/events/{id}/purchases`,
    layout,
    setup: [],
    requests: planned,
    expect: {},
  };
}
