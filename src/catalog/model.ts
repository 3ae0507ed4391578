/** The catalog as the purchase path sees it: events denormalised with their venue. */
export interface ZoneDef {
  zoneId: string;
  name: string;
  rows: string[];
  /** Seats in each row, same order as `rows`. */
  seatCounts: number[];
  priceCents: number;
  category?: string;
  /** Where the zone is drawn on the venue map; without it the page arranges the zone itself. Display only. */
  map?: ZoneShape;
}

/**
 * The venue map's coordinate space: a square SVG viewBox of MAP_SIZE units, x to the right,
 * y down. Angles are degrees clockwise from 12 o'clock (0 = up, 90 = right).
 */
export const MAP_SIZE = 1000;

/**
 * A zone's outline on the venue map. A rect is centred on (x, y), turned by `rotation` about
 * its centre. An arc is a ring sector around (x, y) (usually the stage's centre), from
 * startAngle to endAngle, between innerRadius and outerRadius.
 */
export type ZoneShape =
  | { shape: 'rect'; x: number; y: number; width: number; height: number; rotation?: number }
  | { shape: 'arc'; x: number; y: number; innerRadius: number; outerRadius: number; startAngle: number; endAngle: number };

/** The stage on the venue map: a rect centred on (x, y). */
export interface StageDef {
  x: number;
  y: number;
  width: number;
  height: number;
  label?: string;
}

export interface VenueDef {
  venueId: string;
  /** The Kubernetes resource name (metadata.name). */
  resourceName: string;
  name: string;
  zones: ZoneDef[];
  /** The stage on the venue map (display only). */
  stage?: StageDef;
}

export const EVENT_STATES = ['Draft', 'OnSale', 'Closed'] as const;
export type EventState = (typeof EVENT_STATES)[number];

export interface EventDef {
  eventId: string;
  resourceName: string;
  venueId: string;
  name: string;
  startsAt: string;
  salesOpensAt?: string;
  salesClosesAt?: string;
  state: EventState;
  perUserLimit: number;
  currency: string;
  /** The Event's spec.admission (docs/admission.md); absent = open. */
  admission?: AdmissionDef;
}

/** An event's admission settings as the catalog holds them (src/catalog/resources.ts `admissionSchema`). */
export interface AdmissionDef {
  mode: 'open' | 'queue';
  activeBuyers: number;
  sessionSeconds: number;
  /** ISO 8601; joins from then until the sales opening are put in a random order at the opening. */
  prequeueOpensAt?: string;
}

/** The admission settings of an event in queue mode, or undefined when anyone may buy (open). */
export const queuedAdmission = (event: Pick<EventDef, 'admission'>): AdmissionDef | undefined =>
  event.admission?.mode === 'queue' ? event.admission : undefined;

/** An event with the venue it happens in, as stored in the catalog snapshot. */
export interface CatalogEntry {
  event: EventDef;
  venue: VenueDef;
  /** Which controller source owns the entry (e.g. `file:/abs/seeds`), so one source never deletes another's. */
  source?: string;
}

/**
 * A zone that left the catalog (its event or the zone itself was removed) while its inventory
 * had to stay: seats sold, or purchases pending. It is fenced in Redis (no sale lands on it),
 * and stays known to the recovery sweep and the audit until settled, and by its layout, which
 * is the layout in force should the zone come back.
 */
export interface ClosedZone {
  eventId: string;
  /** The zone as its inventory was created: the layout in force in Redis. */
  zone: ZoneDef;
  closedAt: string;
  /** When the audit found nothing pending and compared the zone once more; the sweep and the audit skip it from then on. */
  settledAt?: string;
}

/** What the controller last reported on an event (file source; the cluster writes the resources' /status). */
export interface EventStatus {
  source: string;
  conditions: { type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime: string }[];
  seatsSold?: number;
  seatsAvailable?: number;
  updatedAt: string;
}

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_SEATS_PER_ZONE = 100_000;

/**
 * Whether `now` (ms since the epoch) lies in the event's sales window: from salesOpensAt
 * (inclusive) to salesClosesAt (exclusive); a missing end leaves that side open.
 */
export function inSalesWindow(event: Pick<EventDef, 'salesOpensAt' | 'salesClosesAt'>, now: number): boolean {
  return (!event.salesOpensAt || now >= Date.parse(event.salesOpensAt)) && (!event.salesClosesAt || now < Date.parse(event.salesClosesAt));
}
