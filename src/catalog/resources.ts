import { z } from 'zod';
import { ID_PATTERN, MAP_SIZE, MAX_SEATS_PER_ZONE, type AdmissionDef, type EventDef, type VenueDef, type ZoneShape } from './model';
import { intOrString, listAtomic, listMap, listSet, withCel } from './structural-schema';

/**
 * The Venue and Event custom resources (ticketing.dev/v1alpha1), as they come from a YAML
 * file or the Kubernetes API. These zod schemas are the one source of the resources' rules:
 * `npm run gen` writes the CRDs' openAPIV3Schema in k8s/crds from them (src/catalog/crds.ts),
 * CEL rules included, and a test fails when the committed CRDs differ from a fresh generation.
 * Descriptions here become the CRDs' (what `kubectl explain` shows).
 */
export const API_GROUP = 'ticketing.dev';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

const id = (what: string) => z.string().max(64).regex(ID_PATTERN).describe(`API id of the ${what}.`);
/** A Kubernetes object name (DNS subdomain), as the API server requires of metadata.name. */
const kubeName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase Kubernetes name')
  .max(253);
const metadata = z.looseObject({
  name: kubeName,
  namespace: z.string().optional(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
});
const int64 = (n: z.ZodNumber) => n.meta({ format: 'int64' });
const dateTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time such as 2027-06-01T19:00:00Z' });
const seatCount = z.number().int().min(1).max(65535);

/*
 * The venue map (display only: no sale depends on it). Coordinates are in a MAP_SIZE × MAP_SIZE
 * SVG viewBox, x to the right, y down; angles in degrees clockwise from 12 o'clock. The web page
 * fits its drawing to the shapes, so a shape may reach past the edge.
 */
const coordinate = (what: string) => z.number().min(0).max(MAP_SIZE).describe(`${what}, 0..${MAP_SIZE} (viewBox units, y down).`);
const extent = (what: string) => z.number().min(1).max(MAP_SIZE).describe(`${what}, 1..${MAP_SIZE} viewBox units.`);
const angle = (what: string) => z.number().min(-360).max(360).describe(`${what}, degrees clockwise.`);
const ARC = "has(self.shape) && self.shape == 'arc'";

const zoneMap = withCel(
  z
    .object({
      shape: z
        .enum(['rect', 'arc'])
        .optional()
        .describe('rect (the default): x, y, width, height, rotation. arc: a ring sector around x, y: radii and angles.'),
      x: coordinate('Centre of the rect, or of the circle an arc is part of'),
      y: coordinate('Centre of the rect, or of the circle an arc is part of'),
      width: extent('Rect width').optional(),
      height: extent('Rect height').optional(),
      rotation: angle('Rect turn about its centre').optional(),
      innerRadius: z.number().min(0).max(MAP_SIZE).optional().describe(`Arc inner radius, 0..${MAP_SIZE} (0 draws a pie slice).`),
      outerRadius: extent('Arc outer radius').optional(),
      startAngle: angle("Arc start, from 12 o'clock").optional(),
      endAngle: angle("Arc end, from 12 o'clock, after startAngle and at most 360 past it").optional(),
    })
    .describe('Where the zone is drawn on the venue map. Optional: without it the page arranges the zone itself.'),
  [
    {
      rule: `(${ARC}) || (has(self.width) && has(self.height) && !has(self.innerRadius) && !has(self.outerRadius) && !has(self.startAngle) && !has(self.endAngle))`,
      message: 'a rect zone map needs width and height, and takes no radii or angles (for a ring sector set shape: arc)',
    },
    {
      rule: `!(${ARC}) || (has(self.outerRadius) && has(self.startAngle) && has(self.endAngle) && !has(self.width) && !has(self.height) && !has(self.rotation))`,
      message: 'an arc zone map needs outerRadius, startAngle and endAngle, and takes no width, height or rotation',
    },
    {
      rule: '!has(self.outerRadius) || !has(self.innerRadius) || self.innerRadius < self.outerRadius',
      message: 'an arc zone map needs innerRadius below outerRadius',
    },
    {
      rule: '!has(self.startAngle) || !has(self.endAngle) || (self.startAngle < self.endAngle && self.endAngle - self.startAngle <= 360.0)',
      message: 'an arc zone map needs endAngle after startAngle, at most 360 degrees past it',
    },
  ],
);

const stage = z
  .object({
    x: coordinate('Centre of the stage'),
    y: coordinate('Centre of the stage'),
    width: extent('Stage width'),
    height: extent('Stage height'),
    label: z.string().min(1).max(40).optional().describe('Text on the stage; "Stage" when absent.'),
  })
  .describe('The stage on the venue map (display only), a rect centred on x, y.');

const zone = withCel(
  z.object({
    zoneId: intOrString(z.string().max(64).regex(ID_PATTERN), z.number().int().min(0)).describe(
      'Zone id, an integer or a string matching ^[A-Za-z0-9_-]{1,64}$.',
    ),
    name: z.string().min(1).max(200),
    rows: listSet(
      z
        .array(
          z
            .string()
            .max(8)
            .regex(/^[A-Za-z0-9]{1,8}$/),
        )
        .min(1)
        .max(1000),
      'row labels must be unique',
    ).describe('Row labels, unique, in display order.'),
    seatsPerRow: seatCount.optional().describe('Seats in every row (exclusive with seatCounts).'),
    seatCounts: listAtomic(z.array(seatCount).min(1).max(1000))
      .optional()
      .describe('Seats per row, one entry per row (exclusive with seatsPerRow).'),
    priceCents: int64(z.number().int().min(0)),
    category: z.string().min(1).max(64).optional(),
    map: zoneMap.optional(),
  }),
  [
    { rule: 'has(self.seatsPerRow) != has(self.seatCounts)', message: 'exactly one of seatsPerRow or seatCounts must be set' },
    { rule: '!has(self.seatCounts) || size(self.seatCounts) == size(self.rows)', message: 'seatCounts must have one entry per row' },
    {
      rule: `!has(self.seatsPerRow) || size(self.rows) * self.seatsPerRow <= ${MAX_SEATS_PER_ZONE}`,
      message: `a zone holds at most ${MAX_SEATS_PER_ZONE.toLocaleString('en-US')} seats`,
    },
    {
      rule: `!has(self.seatCounts) || self.seatCounts.sum() <= ${MAX_SEATS_PER_ZONE}`,
      message: `a zone holds at most ${MAX_SEATS_PER_ZONE.toLocaleString('en-US')} seats`,
    },
  ],
);

export const venueSpecSchema = z.object({
  venueId: id('venue'),
  name: z.string().min(1).max(200).describe('Display name.'),
  // At most 100 zones: a bound the API server's CEL cost estimator needs for the zone rules.
  zones: listMap(z.array(zone).min(1).max(100), ['zoneId'], 'zone ids must be unique').describe(
    'Priced seating zones; zoneId is unique within the venue.',
  ),
  stage: stage.optional(),
});

/**
 * Without closesAt the window stays open until the event's state changes: a seed that must stay
 * on sale (the demo) gives only opensAt, so no date turns it into a time bomb.
 */
const salesWindow = withCel(
  z.object({
    opensAt: dateTime,
    closesAt: dateTime.optional().describe('When sales stop; without it they run until the state is Closed.'),
  }),
  [{ rule: '!has(self.closesAt) || self.opensAt < self.closesAt', message: 'salesWindow.opensAt must be before salesWindow.closesAt' }],
);

/**
 * On-sale admission (docs/admission.md): `open` sells to whoever asks, as always; `queue` puts
 * buyers in a waiting room and lets at most `activeBuyers` of them hold an admission at once.
 * The bounds keep one event's queue cheap for the pump (src/admission/pump.ts) and a session long
 * enough to choose and pay.
 */
export const admissionSchema = z
  .object({
    mode: z
      .enum(['open', 'queue'])
      .default('open')
      .describe('open: no waiting room (the default); queue: buyers join a waiting room and buy only once admitted.'),
    activeBuyers: z.number().int().min(1).max(100_000).default(100).describe('queue mode: the most buyers who hold an admission at once.'),
    sessionSeconds: z
      .number()
      .int()
      .min(5)
      .max(7200)
      .default(600)
      .describe('queue mode: how long an admission lasts at most; a purchase or the end of its holds ends it sooner.'),
    prequeueOpensAt: dateTime
      .optional()
      .describe(
        'queue mode: from when buyers may join before salesWindow.opensAt; everyone who joins before the opening gets a uniformly random place at it. Without it the queue opens with the sales.',
      ),
  })
  .describe('Waiting room and admission of buyers (docs/admission.md).');

const eventSpecFields = z.object({
  eventId: id('event'),
  venueRef: z
    .object({ name: kubeName.describe('metadata.name of the Venue.') })
    .describe('The Venue resource (same namespace) this event takes place in.'),
  name: z.string().min(1).max(200),
  startsAt: dateTime,
  salesWindow: salesWindow.optional(),
  state: z.enum(['Draft', 'OnSale', 'Closed']),
  perUserLimit: z.number().int().min(1).max(100),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD')
    .describe('ISO 4217 code.'),
  admission: admissionSchema.optional(),
});

export const eventSpecSchema = withCel(eventSpecFields, [
  {
    rule: '!has(self.admission) || !has(self.admission.prequeueOpensAt) || (has(self.salesWindow) && self.admission.prequeueOpensAt < self.salesWindow.opensAt)',
    message: 'admission.prequeueOpensAt needs a salesWindow and must be before salesWindow.opensAt',
  },
]);

const count = int64(z.number().int().min(0));
const condition = z.object({
  type: z
    .string()
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().max(1024).optional(),
  message: z.string().max(32768).optional(),
  lastTransitionTime: dateTime,
  observedGeneration: count.optional(),
});

/** What the controller writes to the /status subresource of both kinds (src/controller/status.ts). */
export const resourceStatusSchema = z.object({
  observedGeneration: count.optional(),
  seatsSold: count.optional(),
  seatsAvailable: count.optional(),
  conditions: listMap(z.array(condition).max(16), ['type'], 'condition types must be unique')
    .optional()
    .describe('Seeded, OnSale, SoldOut, Degraded.'),
});

export const venueResourceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Venue'),
  metadata,
  spec: venueSpecSchema,
});
export const eventResourceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Event'),
  metadata,
  spec: eventSpecSchema,
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
      ...(zn.map ? { map: toZoneShape(zn.map) } : {}),
    })),
    ...(r.spec.stage ? { stage: r.spec.stage } : {}),
  };
}

/** The map block as the model holds it: the shape named, only its own fields (the CEL rules above guarantee them). */
function toZoneShape(m: NonNullable<VenueResource['spec']['zones'][number]['map']>): ZoneShape {
  if (m.shape === 'arc') {
    return {
      shape: 'arc',
      x: m.x,
      y: m.y,
      innerRadius: m.innerRadius ?? 0,
      outerRadius: m.outerRadius ?? 0,
      startAngle: m.startAngle ?? 0,
      endAngle: m.endAngle ?? 0,
    };
  }
  return {
    shape: 'rect',
    x: m.x,
    y: m.y,
    width: m.width ?? 0,
    height: m.height ?? 0,
    ...(m.rotation ? { rotation: m.rotation } : {}),
  };
}

export function toEventDef(r: EventResource, venueId: string): EventDef {
  return {
    eventId: r.spec.eventId,
    resourceName: r.metadata.name,
    venueId,
    name: r.spec.name,
    startsAt: r.spec.startsAt,
    ...(r.spec.salesWindow ? { salesOpensAt: r.spec.salesWindow.opensAt } : {}),
    ...(r.spec.salesWindow?.closesAt ? { salesClosesAt: r.spec.salesWindow.closesAt } : {}),
    state: r.spec.state,
    perUserLimit: r.spec.perUserLimit,
    currency: r.spec.currency,
    ...(r.spec.admission ? { admission: admissionOf(r.spec.admission) } : {}),
  };
}

function admissionOf(a: z.infer<typeof admissionSchema>): AdmissionDef {
  return {
    mode: a.mode,
    activeBuyers: a.activeBuyers,
    sessionSeconds: a.sessionSeconds,
    ...(a.prequeueOpensAt ? { prequeueOpensAt: a.prequeueOpensAt } : {}),
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
    } else if (r.data.kind === 'Venue') out.venues.push(r.data);
    else out.events.push(r.data);
  }
  return out;
}
