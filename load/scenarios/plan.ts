/**
 * What a load scenario is: a venue layout, requests to send before measuring (setup), the
 * measured requests, and what the outcome must be. Event-agnostic: the target event id is
 * given when a request is turned into HTTP, so one plan runs against any event with the layout.
 */
export type Route = 'ticket_query' | 'tickets' | 'purchases' | 'seat_map';

export interface Seat {
  row: string;
  column: number;
}

export interface PlannedRequest {
  route: Route;
  zoneId: string;
  /** The seats to buy; empty for a seat-map read. */
  seats: Seat[];
  userId: string;
}

export interface ZoneLayout {
  zoneId: string;
  rows: string[];
  seatsPerRow: number;
}

export interface VenueLayout {
  zones: ZoneLayout[];
}

export interface Expectation {
  /** Exact number of 201 answers among the measured requests, when the scenario fixes it. */
  confirmed?: number;
  /** Exact number of 409 answers among the measured requests. */
  conflicts?: number;
  /** Zones that must be sold out when the run ends. */
  soldOutZones?: string[];
}

export const SCENARIO_NAMES = ['seed-replay', 'hot-seat', 'groups', 'sellout', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioPlan {
  name: ScenarioName;
  description: string;
  layout: VenueLayout;
  /** Sent (and checked) before the measured run, e.g. the sales that leave a zone almost sold out. */
  setup: PlannedRequest[];
  requests: PlannedRequest[];
  expect: Expectation;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface Target {
  eventId: string;
  venueId: string;
}

const q = encodeURIComponent;

/** The HTTP request for a planned request against one event. */
export function toHttp(req: PlannedRequest, target: Target): HttpCall {
  const seat = req.seats[0];
  switch (req.route) {
    case 'seat_map':
      return { method: 'GET', path: `/api/v1/events/${q(target.eventId)}/zones/${q(req.zoneId)}/seats` };
    case 'ticket_query':
      return {
        method: 'POST',
        path: `/ticket?venueId=${q(target.venueId)}&eventId=${q(target.eventId)}&zoneId=${q(req.zoneId)}&row=${q(seat?.row ?? '')}&column=${seat?.column ?? 0}&userId=${q(req.userId)}`,
      };
    case 'tickets':
      return {
        method: 'POST',
        path: '/api/v1/tickets',
        body: JSON.stringify({
          venueId: target.venueId,
          eventId: target.eventId,
          zoneId: req.zoneId,
          row: seat?.row,
          column: seat?.column,
          userId: req.userId,
        }),
      };
    case 'purchases':
      return {
        method: 'POST',
        path: `/api/v1/events/${q(target.eventId)}/purchases`,
        body: JSON.stringify({ userId: req.userId, zoneId: req.zoneId, venueId: target.venueId, seats: req.seats }),
      };
  }
}

export const isPurchase = (req: PlannedRequest): boolean => req.route !== 'seat_map';

export const seatKey = (zoneId: string, seat: Seat): string => `${zoneId}/${seat.row}/${seat.column}`;

/** The statuses a request of the plan may get: anything else makes the run incorrect. */
export const allowedStatuses = (req: PlannedRequest): readonly number[] => (isPurchase(req) ? [201, 409] : [200]);
