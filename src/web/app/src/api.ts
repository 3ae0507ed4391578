/** The slice of the ticketing API the seat map uses (shapes from src/http/routes/reads.ts). */

export interface EventSummary {
  eventId: string;
  name: string;
  venueId: string;
  venueName: string;
  state: string;
  startsAt: string;
  perUserLimit: number;
  currency: string;
  zoneCount: number;
  capacity: number;
}

export interface ZoneSummary {
  zoneId: string;
  name: string;
  category?: string;
  priceCents: number;
  rows: number;
  capacity?: number;
  available?: number;
}

export interface EventDetail extends Omit<EventSummary, 'venueName' | 'zoneCount' | 'capacity'> {
  salesOpensAt?: string;
  salesClosesAt?: string;
  venue: { venueId: string; name: string };
  zones: ZoneSummary[];
}

export interface VenueDetail {
  venueId: string;
  name: string;
  zones: { zoneId: string; name: string; category?: string; rows: string[]; seatCounts: number[]; priceCents: number }[];
  events: string[];
}

export interface SeatMap {
  eventId: string;
  zoneId: string;
  name: string;
  priceCents: number;
  rows: string[];
  seatCounts: number[];
  capacity: number;
  available: number;
  rowAvailable: number[];
  sold: { encoding: 'bitmap-msb-base64'; data: string };
}

export interface Seat {
  row: string;
  column: number;
}

export interface Purchase {
  purchaseId: string;
  status: string;
  tickets: { ticketId: string; row: string; column: number; priceCents: number; status: string }[];
}

/** An RFC 9457 problem answer (or a network failure, with status 0 and code NETWORK). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiProblem(0, 'NETWORK', 'The ticketing API could not be reached; check the connection and try again');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const p = (body ?? {}) as Record<string, unknown>;
    const detail = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : `HTTP ${res.status}`;
    throw new ApiProblem(res.status, typeof p.code === 'string' ? p.code : `HTTP_${res.status}`, detail, p);
  }
  return body as T;
}

const seg = encodeURIComponent;

export const api = {
  events: (signal?: AbortSignal) => call<{ events: EventSummary[] }>('api/v1/events', { signal }).then((r) => r.events),
  event: (eventId: string, signal?: AbortSignal) => call<EventDetail>(`api/v1/events/${seg(eventId)}`, { signal }),
  venue: (venueId: string, signal?: AbortSignal) => call<VenueDetail>(`api/v1/venues/${seg(venueId)}`, { signal }),
  seats: (eventId: string, zoneId: string, signal?: AbortSignal) =>
    call<SeatMap>(`api/v1/events/${seg(eventId)}/zones/${seg(zoneId)}/seats`, { signal, cache: 'no-store' }),
  purchase: (eventId: string, body: { userId: string; zoneId: string; seats: Seat[] }, idempotencyKey: string) =>
    call<Purchase>(`api/v1/events/${seg(eventId)}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    }),
};
