import { seedLayout, zoneSeats } from './layout';
import type { PlannedRequest, ScenarioPlan, Seat } from './plan';
import { randomInt, seededRandom, shuffle } from './random';

export interface SeedReplayOptions {
  zones: number;
  rows?: number;
  seatsPerRow?: number;
  /** Duplicate requests as a share of the seats: 1.1 sends 110 % extra requests for taken seats. */
  duplicateRatio?: number;
  seed?: number;
}

/**
 * The prototype's load test: every seat of the event once plus random duplicates, shuffled,
 * alternating between the two seed-compatible routes. Exactly one 201 per seat, 409 for every
 * duplicate, nothing else.
 */
export function seedReplay(o: SeedReplayOptions): ScenarioPlan {
  const rnd = seededRandom(o.seed ?? 1);
  const layout = seedLayout(o.zones, o.rows, o.seatsPerRow);
  const seats: { zoneId: string; seat: Seat }[] = [];
  for (const zone of layout.zones) for (const seat of zoneSeats(zone)) seats.push({ zoneId: zone.zoneId, seat });
  const duplicates = Math.round(seats.length * (o.duplicateRatio ?? 1.1));
  const all = seats.slice();
  for (let i = 0; i < duplicates; i++) all.push(seats[randomInt(rnd, seats.length)]!);
  shuffle(all, rnd);
  const requests: PlannedRequest[] = all.map((s, i) => ({
    route: i % 2 === 0 ? 'ticket_query' : 'tickets',
    zoneId: s.zoneId,
    seats: [s.seat],
    userId: `replay${i}`,
  }));
  return {
    name: 'seed-replay',
    description: `every seat of ${layout.zones.length} zone(s) once (${seats.length}) plus ${duplicates} duplicates, shuffled, over POST /ticket and POST /api/v1/tickets`,
    layout,
    setup: [],
    requests,
    expect: { confirmed: seats.length, conflicts: duplicates },
  };
}
