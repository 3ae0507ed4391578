/**
 * The slice of the ticketing API the seat map uses. The shapes are the API's own response
 * schemas (src/http/schemas.ts, the source of /openapi.json): type-only imports, so the bundle
 * carries no zod.
 */
import type { EventDetail, EventSummary, Purchase, PurchaseBody, SeatMap, VenueDetail } from '../../../http/schemas';

export type {
  EventDetail,
  EventSummary,
  Purchase,
  Seat,
  SeatMap,
  SeatChange as StreamChange,
  SeatStreamSnapshot,
  Stage,
  VenueDetail,
  ZoneShape,
  ZoneSummary,
} from '../../../http/schemas';

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

/** One API request: the parsed JSON of a 2xx answer, else an ApiProblem. Paths are relative (the app may live under a prefix). */
export async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
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
  /** `revalidate`: past the browser cache (the route allows 2 s), answered 304 by ETag when nothing changed; for live polls. */
  event: (eventId: string, signal?: AbortSignal, opts: { revalidate?: boolean } = {}) =>
    call<EventDetail>(`api/v1/events/${seg(eventId)}`, { signal, ...(opts.revalidate ? { cache: 'no-cache' as const } : {}) }),
  venue: (venueId: string, signal?: AbortSignal) => call<VenueDetail>(`api/v1/venues/${seg(venueId)}`, { signal }),
  seats: (eventId: string, zoneId: string, signal?: AbortSignal) =>
    call<SeatMap>(`api/v1/events/${seg(eventId)}/zones/${seg(zoneId)}/seats`, { signal, cache: 'no-cache' }),
  /** The zone change stream's URL (docs/live-seat-map.md), relative like every path here. */
  seatStreamUrl: (eventId: string, zoneId: string) => `api/v1/events/${seg(eventId)}/zones/${seg(zoneId)}/seats/stream`,
  purchase: (eventId: string, body: PurchaseBody, idempotencyKey: string, headers: Record<string, string> = {}) =>
    call<Purchase>(`api/v1/events/${seg(eventId)}/purchases`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    }),
};
