import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { inSalesWindow } from '../../src/catalog/model';
import { parseResources, toEventDef, toVenueDef } from '../../src/catalog/resources';
import { loadFolder } from '../../src/controller/file-source';
import { crdValidators, validateCr } from '../delivery/support/crd-validation';

const ROOT = path.resolve(__dirname, '..', '..');
const yamlFiles = (dir: string) =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

const seedDocs = yamlFiles('seeds').flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(ROOT, 'seeds', file), 'utf8'))
    .filter((d) => d.contents !== null)
    .map((d, i) => ({
      where: `seeds/${file}#${i}`,
      doc: d.toJS() as {
        apiVersion: string;
        kind: string;
        metadata: { name: string };
        spec: { zones?: Record<string, unknown>[]; [field: string]: unknown };
      },
    })),
);

/**
 * The seeds against both forms of the one schema: the zod schemas of src/catalog/resources.ts
 * and the CRDs generated from them (k8s/crds, with their CEL rules run by the CEL library).
 */
describe('seeds/*.yaml against src/catalog/resources.ts and the CRDs in k8s/crds', () => {
  const validators = crdValidators();

  test('the seeds hold Venues and Events, and the CRDs serve both kinds', () => {
    expect(seedDocs.length).toBeGreaterThanOrEqual(4);
    expect([...validators.keys()].sort()).toEqual(['ticketing.dev/v1alpha1/Event', 'ticketing.dev/v1alpha1/Venue']);
  });

  test('every seed document parses with resources.ts, and the seed folder loads without errors', async () => {
    const parsed = parseResources(seedDocs);
    expect(parsed.errors).toEqual([]);
    expect(parsed.venues.length + parsed.events.length).toBe(seedDocs.length);
    const folder = await loadFolder(path.join(ROOT, 'seeds'));
    expect(folder.errors).toEqual([]);
    // Every event's venueRef names a seeded Venue.
    const venues = new Set(folder.venues.map((v) => v.metadata.name));
    expect(folder.events.filter((e) => !venues.has(e.spec.venueRef.name))).toEqual([]);
  });

  test.each(seedDocs.map((d) => [d.where, d] as const))(
    '%s validates against its CRD openAPIV3Schema (with the CEL rules)',
    (_where, { doc }) => {
      expect(validateCr(validators, doc)).toEqual([]);
    },
  );

  test('zod and the CRD both refuse what the API server would: the check can fail', () => {
    const venue = seedDocs.find((d) => d.doc.kind === 'Venue')!.doc;
    const event = seedDocs.find((d) => d.doc.kind === 'Event')!.doc;
    const zone0 = venue.spec.zones?.[0];
    const bad = [
      ['both seatsPerRow and seatCounts (CEL)', { ...venue, spec: { ...venue.spec, zones: [{ ...zone0, seatCounts: [1] }] } }],
      ['duplicate zoneId', { ...venue, spec: { ...venue.spec, zones: [zone0, zone0] } }],
      ['more than 100,000 seats (CEL)', { ...venue, spec: { ...venue.spec, zones: [{ ...zone0, rows: ['A', 'B'], seatsPerRow: 50001 }] } }],
      ['perUserLimit 0', { ...event, spec: { ...event.spec, perUserLimit: 0 } }],
      ['state Open', { ...event, spec: { ...event.spec, state: 'Open' } }],
      [
        'window closing before it opens (CEL compares timestamps, not strings)',
        { ...event, spec: { ...event.spec, salesWindow: { opensAt: '2030-01-01T00:30:00Z', closesAt: '2030-01-01T01:00:00+02:00' } } },
      ],
      [
        'admission.prequeueOpensAt after the sales opening (CEL)',
        {
          ...event,
          spec: {
            ...event.spec,
            salesWindow: { opensAt: '2030-01-01T00:00:00Z' },
            admission: { mode: 'queue', activeBuyers: 5, sessionSeconds: 600, prequeueOpensAt: '2030-01-01T00:30:00Z' },
          },
        },
      ],
      ['admission.activeBuyers 0', { ...event, spec: { ...event.spec, admission: { mode: 'queue', activeBuyers: 0 } } }],
      ['admission.mode unknown', { ...event, spec: { ...event.spec, admission: { mode: 'lottery' } } }],
    ] as const;
    for (const [what, doc] of bad) {
      expect([what, validateCr(validators, doc).length > 0]).toEqual([what, true]);
      expect([what, parseResources([{ where: what, doc }]).errors.length]).toEqual([what, 1]);
    }
    // The CRD prunes unknown fields (zod strips them); kubectl's strict validation refuses them.
    expect(validateCr(validators, { ...venue, spec: { ...venue.spec, surprise: true } }).length).toBeGreaterThan(0);
  });

  test('no seed goes off sale by itself: every OnSale seed is on sale on 2027-04-01 and ten years on', () => {
    const { events } = parseResources(seedDocs);
    const onSale = events.filter((e) => e.spec.state === 'OnSale');
    expect(onSale.map((e) => e.spec.eventId)).toEqual(expect.arrayContaining(['DemoNight', 'Event1']));
    for (const now of [Date.parse('2027-04-01T00:00:00Z'), Date.now() + 10 * 365 * 24 * 3600_000]) {
      const closed = onSale
        .filter((e) => !inSalesWindow(toEventDef(e, e.spec.venueRef.name), now))
        .map((e) => `${e.spec.eventId} at ${new Date(now).toISOString()}`);
      expect(closed).toEqual([]);
    }
  });

  test('Demo Night has a queued twin on the same venue: its own eventId, admission.mode queue with activeBuyers 5', () => {
    const { events } = parseResources(seedDocs);
    const night = events.find((e) => e.spec.eventId === 'DemoNight')!;
    const twin = events.find((e) => e.spec.eventId === 'DemoNightQueued')!;
    expect(night.spec.admission?.mode ?? 'open').toBe('open');
    expect(twin.spec).toMatchObject({ venueRef: night.spec.venueRef, state: 'OnSale', admission: { mode: 'queue', activeBuyers: 5 } });
    expect(toEventDef(twin, 'DemoHall').admission).toEqual({ mode: 'queue', activeBuyers: 5, sessionSeconds: 600 });
  });
});

describe('the venue map block (zones[].map, stage): zod and the CRD agree, the model gets one shape per zone', () => {
  const validators = crdValidators();
  const venue = seedDocs.find((d) => d.doc.kind === 'Venue' && d.doc.metadata.name === 'demo-hall')!.doc;
  const zone0 = venue.spec.zones![0]!;
  const withMap = (map: Record<string, unknown>, stage?: Record<string, unknown>) => ({
    ...venue,
    spec: { ...venue.spec, ...(stage ? { stage } : {}), zones: [{ ...zone0, map }] },
  });

  test('the seeded venues place every zone and a stage', () => {
    const { venues } = parseResources(seedDocs);
    expect(venues.map((v) => v.spec.venueId).sort()).toEqual(['DemoHall', 'Venue1']);
    for (const v of venues.map(toVenueDef)) {
      expect([v.venueId, v.zones.filter((z) => !z.map).map((z) => z.zoneId)]).toEqual([v.venueId, []]);
      expect(v.stage).toMatchObject({ label: 'Stage' });
    }
  });

  test('good shapes pass both; a rect is the default shape, and the model names it', () => {
    const good = [
      withMap({ x: 500, y: 300, width: 200, height: 100 }),
      withMap({ shape: 'rect', x: 0, y: 1000, width: 1, height: 1000, rotation: -45.5 }, { x: 500, y: 50, width: 300, height: 60 }),
      withMap({ shape: 'arc', x: 500, y: 500, outerRadius: 200, startAngle: -90, endAngle: 90 }),
      withMap({ shape: 'arc', x: 500, y: 500, innerRadius: 100, outerRadius: 200, startAngle: 0, endAngle: 360 }),
    ];
    for (const doc of good) {
      expect(validateCr(validators, doc)).toEqual([]);
      expect(parseResources([{ where: 'good', doc }]).errors).toEqual([]);
    }
    const [rect, , pie] = good.map((doc) => toVenueDef(parseResources([{ where: 'good', doc }]).venues[0]!).zones[0]!.map);
    expect(rect).toEqual({ shape: 'rect', x: 500, y: 300, width: 200, height: 100 });
    expect(pie).toEqual({ shape: 'arc', x: 500, y: 500, innerRadius: 0, outerRadius: 200, startAngle: -90, endAngle: 90 });
  });

  test('bad shapes fail both', () => {
    const bad = [
      ['rect without height', withMap({ x: 500, y: 300, width: 200 })],
      ['rect with an arc field', withMap({ x: 500, y: 300, width: 200, height: 100, outerRadius: 50 })],
      ['arc without angles', withMap({ shape: 'arc', x: 500, y: 500, outerRadius: 200 })],
      ['arc with a width', withMap({ shape: 'arc', x: 500, y: 500, outerRadius: 200, startAngle: 0, endAngle: 90, width: 10 })],
      ['arc inside out', withMap({ shape: 'arc', x: 500, y: 500, innerRadius: 300, outerRadius: 200, startAngle: 0, endAngle: 90 })],
      ['arc angles reversed', withMap({ shape: 'arc', x: 500, y: 500, outerRadius: 200, startAngle: 90, endAngle: 0 })],
      ['arc past a full turn', withMap({ shape: 'arc', x: 500, y: 500, outerRadius: 200, startAngle: -180, endAngle: 190 })],
      ['x outside the viewBox', withMap({ x: 1001, y: 300, width: 200, height: 100 })],
      ['unknown shape', withMap({ shape: 'star', x: 500, y: 300, width: 200, height: 100 })],
      ['stage without a height', withMap({ x: 500, y: 300, width: 200, height: 100 }, { x: 500, y: 50, width: 300 })],
      [
        'stage label too long',
        withMap({ x: 500, y: 300, width: 200, height: 100 }, { x: 5, y: 5, width: 3, height: 3, label: 'x'.repeat(41) }),
      ],
    ] as const;
    for (const [what, doc] of bad) {
      expect([what, validateCr(validators, doc).length > 0]).toEqual([what, true]);
      expect([what, parseResources([{ where: what, doc }]).errors.length]).toEqual([what, 1]);
    }
  });
});
