import { z } from 'zod';
import { ID_PATTERN, MAX_SEATS_PER_ZONE, type EventDef, type VenueDef } from './model';

/**
 * The Venue and Event custom resources (ticketing.dev/v1alpha1), as they come from a YAML
 * file or the Kubernetes API. k8s/crds holds the same rules as openAPIV3Schema.
 */
export const API_GROUP = 'ticketing.dev';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

const id = z.string().regex(ID_PATTERN);
// The same bounds as the CRDs in k8s/crds (a test checks every seed against both).
const metadata = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase Kubernetes name').max(253),
  namespace: z.string().optional(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
}).passthrough();

const zone = z
  .object({
    zoneId: z.union([id, z.number().int().nonnegative()]).transform(String),
    name: z.string().min(1).max(200),
    rows: z.array(z.string().regex(/^[A-Za-z0-9]{1,8}$/)).min(1).max(1000),
    seatsPerRow: z.number().int().min(1).max(65535).optional(),
    seatCounts: z.array(z.number().int().min(1).max(65535)).optional(),
    priceCents: z.number().int().min(0),
    category: z.string().min(1).max(64).optional(),
  })
  .superRefine((zn, ctx) => {
    if ((zn.seatsPerRow === undefined) === (zn.seatCounts === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of seatsPerRow or seatCounts' });
    }
    if (zn.seatCounts && zn.seatCounts.length !== zn.rows.length) {
      ctx.addIssue({ code: 'custom', message: 'seatCounts needs one count per row' });
    }
    if (new Set(zn.rows).size !== zn.rows.length) ctx.addIssue({ code: 'custom', message: 'row labels must be unique' });
    const seats = zn.seatCounts ? zn.seatCounts.reduce((a, b) => a + b, 0) : (zn.seatsPerRow ?? 0) * zn.rows.length;
    if (seats > MAX_SEATS_PER_ZONE) ctx.addIssue({ code: 'custom', message: `a zone holds at most ${MAX_SEATS_PER_ZONE} seats` });
  });

export const venueResourceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Venue'),
  metadata,
  spec: z
    .object({ venueId: id, name: z.string().min(1).max(200), zones: z.array(zone).min(1).max(100) })
    .superRefine((v, ctx) => {
      if (new Set(v.zones.map((zn) => zn.zoneId)).size !== v.zones.length) ctx.addIssue({ code: 'custom', message: 'zone ids must be unique' });
    }),
});

const isoDate = z.string().refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success, 'must be an RFC 3339 date-time such as 2027-06-01T19:00:00Z');

export const eventResourceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Event'),
  metadata,
  spec: z.object({
    eventId: id,
    venueRef: z.object({ name: metadata.shape.name }),
    name: z.string().min(1).max(200),
    startsAt: isoDate,
    salesWindow: z
      .object({ opensAt: isoDate, closesAt: isoDate })
      .refine((w) => Date.parse(w.opensAt) < Date.parse(w.closesAt), 'salesWindow.opensAt must be before closesAt')
      .optional(),
    state: z.enum(['Draft', 'OnSale', 'Closed']),
    perUserLimit: z.number().int().min(1).max(100),
    currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  }),
});

export type VenueResource = z.infer<typeof venueResourceSchema>;
export type EventResource = z.infer<typeof eventResourceSchema>;

export function toVenueDef(r: VenueResource): VenueDef {
  return {
    venueId: r.spec.venueId,
    resourceName: r.metadata.name,
    name: r.spec.name,
    zones: r.spec.zones.map((zn) => ({
      zoneId: zn.zoneId,
      name: zn.name,
      rows: zn.rows,
      seatCounts: zn.seatCounts ?? zn.rows.map(() => zn.seatsPerRow ?? 0),
      priceCents: zn.priceCents,
      ...(zn.category ? { category: zn.category } : {}),
    })),
  };
}

export function toEventDef(r: EventResource, venueId: string): EventDef {
  return {
    eventId: r.spec.eventId,
    resourceName: r.metadata.name,
    venueId,
    name: r.spec.name,
    startsAt: r.spec.startsAt,
    ...(r.spec.salesWindow?.opensAt ? { salesOpensAt: r.spec.salesWindow.opensAt } : {}),
    ...(r.spec.salesWindow?.closesAt ? { salesClosesAt: r.spec.salesWindow.closesAt } : {}),
    state: r.spec.state,
    perUserLimit: r.spec.perUserLimit,
    currency: r.spec.currency,
  };
}

export interface ParsedResources {
  venues: VenueResource[];
  events: EventResource[];
  errors: { where: string; message: string }[];
}

/** Sorts raw documents into valid venues and events; invalid ones are reported, not thrown. */
export function parseResources(docs: { where: string; doc: unknown }[]): ParsedResources {
  const out: ParsedResources = { venues: [], events: [], errors: [] };
  for (const { where, doc } of docs) {
    const kind = (doc as { kind?: unknown } | null)?.kind;
    const schema = kind === 'Venue' ? venueResourceSchema : kind === 'Event' ? eventResourceSchema : undefined;
    if (!schema) {
      out.errors.push({ where, message: `kind must be Venue or Event (apiVersion ${API_VERSION}), got ${String(kind)}` });
      continue;
    }
    const r = schema.safeParse(doc);
    if (!r.success) {
      out.errors.push({ where, message: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    } else if (r.data.kind === 'Venue') out.venues.push(r.data as VenueResource);
    else out.events.push(r.data as EventResource);
  }
  return out;
}
