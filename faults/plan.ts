/**
 * What the buyers of the fault suite send: the prototype's seed replay (every seat once plus
 * ~110 % duplicates, shuffled, over both seed routes) plus a share of multi-seat purchases, each
 * request with its own Idempotency-Key as a browser would generate per click.
 */
import { toHttp, type HttpCall, type PlannedRequest, type Route, type Seat, type Target, type VenueLayout } from '../load/scenarios';
import { randomInt, seededRandom, shuffle } from '../load/scenarios/random';
import { seedReplay } from '../load/scenarios/seed-replay';

/** One answer a buyer got (or the connection error instead of one). */
export interface Attempt {
  at: number;
  /** HTTP status; 0 when the request failed without an answer. */
  status: number;
  code?: string;
  purchaseId?: string;
  tickets?: { ticketId: string; row: string; column: number }[];
  error?: string;
}

/** One buyer's click: the request, its key, and every attempt (the first and the retries). */
export interface Buy {
  index: number;
  route: Route;
  zoneId: string;
  seats: Seat[];
  /** Absent for anonymous buyers of the single-seat routes (their Idempotency-Key scope is "anonymous"). */
  userId?: string;
  idempotencyKey: string;
  call: HttpCall;
  /** The fault phase during which the first attempt was sent (-1 until then). */
  phase: number;
  attempts: Attempt[];
}

export interface PlanOptions {
  zones: number;
  seed: number;
  runId: string;
  target: Target;
  /** Multi-seat purchases as a share of the single-seat requests. */
  multiShare?: number;
}

export interface BuyPlan {
  layout: VenueLayout;
  buys: Buy[];
  seats: number;
}

/** Drops the userId from a seed-route call: an anonymous buyer, as the prototype's JMeter plan sends. */
function anonymous(call: HttpCall): HttpCall {
  if (call.body !== undefined) {
    const { userId: _dropped, ...rest } = JSON.parse(call.body) as Record<string, unknown>;
    return { ...call, body: JSON.stringify(rest) };
  }
  return { ...call, path: call.path.replace(/&userId=[^&]*/, '') };
}

export function buildPlan(o: PlanOptions): BuyPlan {
  const replay = seedReplay({ zones: o.zones, seed: o.seed });
  const rnd = seededRandom(o.seed * 7919 + 1);
  const requests: PlannedRequest[] = replay.requests.slice();
  // Groups of 2–4 adjacent seats in one row, on the all-or-nothing route, always with a userId.
  const groups = Math.round(requests.length * (o.multiShare ?? 0.05));
  for (let g = 0; g < groups; g++) {
    const zone = replay.layout.zones[randomInt(rnd, replay.layout.zones.length)]!;
    const n = 2 + randomInt(rnd, 3);
    const start = 1 + randomInt(rnd, zone.seatsPerRow - n + 1);
    const row = zone.rows[randomInt(rnd, zone.rows.length)]!;
    requests.push({
      route: 'purchases',
      zoneId: zone.zoneId,
      seats: Array.from({ length: n }, (_, i) => ({ row, column: start + i })),
      userId: `group${g}`,
    });
  }
  shuffle(requests, rnd);
  const buys = requests.map((req, index): Buy => {
    // Half of the single-seat buyers are anonymous; every buyer with a userId has one of its own,
    // so a sale in the stores can be traced back to its request even when no answer arrived.
    const anon = req.route !== 'purchases' && rnd() < 0.5;
    const userId = `${o.runId}-u${index}`;
    const call = toHttp({ ...req, userId }, o.target);
    return {
      index,
      route: req.route,
      zoneId: req.zoneId,
      seats: req.seats,
      ...(anon ? {} : { userId }),
      idempotencyKey: `${o.runId}-k${index}`,
      call: anon ? anonymous(call) : call,
      phase: -1,
      attempts: [],
    };
  });
  return { layout: replay.layout, buys, seats: replay.layout.zones.reduce((s, z) => s + z.rows.length * z.seatsPerRow, 0) };
}
