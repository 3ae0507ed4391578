import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseResources, toVenueDef } from '../../src/catalog/resources';
import {
  automaticShapes,
  availabilityOf,
  labelSpot,
  layoutVenue,
  polar,
  shapeBounds,
  shapePath,
  zoneMapName,
  zoneShortName,
  type Box,
  type Point,
  type ZoneShape,
} from '../../src/web/app/src/venue-layout';

/**
 * The venue map's geometry (src/web/app/src/venue-layout.ts): the automatic arrangement, the
 * placement of a venue's own shapes, the SVG paths and bounds, and the seeded venues' maps.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const seededVenue = (file: string) => {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'seeds', file), 'utf8')).map((d, i) => ({
    where: `${file}#${i}`,
    doc: d.toJS(),
  }));
  return toVenueDef(parseResources(docs).venues[0]!);
};

/** Whether a point lies inside a shape (the test's own geometry, independent of the paths). */
function inside(s: ZoneShape, p: Point): boolean {
  if (s.shape === 'rect') {
    const a = (-(s.rotation ?? 0) * Math.PI) / 180;
    const dx = p.x - s.x;
    const dy = p.y - s.y;
    const u = dx * Math.cos(a) - dy * Math.sin(a);
    const v = dx * Math.sin(a) + dy * Math.cos(a);
    return Math.abs(u) <= s.width / 2 && Math.abs(v) <= s.height / 2;
  }
  const r = Math.hypot(p.x - s.x, p.y - s.y);
  if (r < s.innerRadius || r > s.outerRadius) return false;
  let deg = (Math.atan2(p.x - s.x, s.y - p.y) * 180) / Math.PI; // clockwise from 12 o'clock
  while (deg < s.startAngle) deg += 360;
  return deg <= s.endAngle;
}

/** Points (on a grid) that lie in more than one of the shapes. */
function overlaps(shapes: ZoneShape[], box: Box, step = 4): Point[] {
  const out: Point[] = [];
  const boxed = shapes.map((s) => ({ s, b: shapeBounds(s) }));
  for (let x = box.x; x <= box.x + box.width; x += step)
    for (let y = box.y; y <= box.y + box.height; y += step) {
      let n = 0;
      for (const { s, b } of boxed) {
        if (x < b.x || y < b.y || x > b.x + b.width || y > b.y + b.height) continue;
        if (inside(s, { x, y }) && ++n > 1) break;
      }
      if (n > 1) out.push({ x, y });
    }
  return out;
}

const within = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 1e-6 &&
  inner.y >= outer.y - 1e-6 &&
  inner.x + inner.width <= outer.x + outer.width + 1e-6 &&
  inner.y + inner.height <= outer.y + outer.height + 1e-6;

describe('automatic arrangement', () => {
  test.each([1, 3, 7, 10, 40, 100])('%i zones: one ring sector each, around the stage, none overlapping', (n) => {
    const shapes = automaticShapes(n);
    expect(shapes).toHaveLength(n);
    for (const s of shapes) {
      expect(s.shape).toBe('arc');
      if (s.shape !== 'arc') continue;
      expect(s.innerRadius).toBeLessThan(s.outerRadius);
      expect(s.startAngle).toBeLessThan(s.endAngle);
      // Fanned out below the stage: between 4 and 8 o'clock.
      expect(s.startAngle).toBeGreaterThanOrEqual(120);
      expect(s.endAngle).toBeLessThanOrEqual(240);
    }
    const layout = layoutVenue(
      shapes.map((_, i) => ({ zoneId: String(i + 1) })),
      undefined,
    );
    expect(layout.placement).toBe('automatic');
    expect(layout.stage).toMatchObject({ label: 'Stage' });
    const stage = { shape: 'rect' as const, ...layout.stage!, label: undefined };
    expect(overlaps([...layout.zones.map((z) => z.shape), stage], layout.viewBox, 6)).toEqual([]);
    for (const z of layout.zones) expect(within(shapeBounds(z.shape), layout.viewBox)).toBe(true);
  });

  test('zones keep their order: nearest ring first, clockwise within a ring; outer rings hold more zones', () => {
    const shapes = automaticShapes(100) as Extract<ZoneShape, { shape: 'arc' }>[];
    const rings = [...new Set(shapes.map((s) => s.innerRadius))];
    expect(rings).toEqual([...rings].sort((a, b) => a - b));
    expect(rings.length).toBe(4);
    const perRing = rings.map((r) => shapes.filter((s) => s.innerRadius === r).length);
    expect(perRing.reduce((a, b) => a + b, 0)).toBe(100);
    for (let k = 1; k < perRing.length; k++) expect(perRing[k]!).toBeGreaterThan(perRing[k - 1]!);
    for (let i = 1; i < shapes.length; i++) {
      if (shapes[i]!.innerRadius === shapes[i - 1]!.innerRadius) expect(shapes[i]!.startAngle).toBeGreaterThan(shapes[i - 1]!.endAngle);
      else expect(shapes[i]!.innerRadius).toBeGreaterThan(shapes[i - 1]!.outerRadius);
    }
  });

  test('a venue stage label survives the automatic arrangement; no zones draws just the stage', () => {
    expect(layoutVenue([{ zoneId: 'a' }], { x: 1, y: 1, width: 10, height: 10, label: 'Ring' }).stage).toMatchObject({
      label: 'Ring',
      x: 500,
    });
    expect(layoutVenue([], undefined)).toMatchObject({ zones: [], placement: 'automatic' });
  });
});

describe("a venue's own shapes", () => {
  const rect: ZoneShape = { shape: 'rect', x: 500, y: 300, width: 200, height: 100 };
  const arc: ZoneShape = { shape: 'arc', x: 500, y: 100, innerRadius: 300, outerRadius: 400, startAngle: 150, endAngle: 210 };

  test('are used as given, with the venue stage (or none); the viewBox holds them with a margin', () => {
    const stage = { x: 500, y: 100, width: 300, height: 60 };
    const layout = layoutVenue(
      [
        { zoneId: 'a', map: rect },
        { zoneId: 'b', map: arc },
      ],
      stage,
    );
    expect(layout).toMatchObject({
      placement: 'venue',
      stage,
      zones: [
        { zoneId: 'a', shape: rect },
        { zoneId: 'b', shape: arc },
      ],
    });
    expect(layout.viewBox).toEqual({ x: 280, y: 50, width: 440, height: 470 });
    expect(layoutVenue([{ zoneId: 'a', map: rect }]).stage).toBeUndefined();
  });

  test('zones without a shape, next to ones with, are tiled below the drawing', () => {
    const layout = layoutVenue([{ zoneId: 'a', map: rect }, { zoneId: 'b' }, { zoneId: 'c' }]);
    expect(layout.placement).toBe('mixed');
    const [, b, c] = layout.zones.map((z) => shapeBounds(z.shape));
    expect(b!.y).toBeGreaterThan(350);
    expect(c!.y).toBeGreaterThan(350);
    expect(
      overlaps(
        layout.zones.map((z) => z.shape),
        layout.viewBox,
      ),
    ).toEqual([]);
  });

  test('paths: a turned rect, a ring sector, a pie slice, a full ring (two half arcs, a hole)', () => {
    expect(shapePath({ shape: 'rect', x: 100, y: 100, width: 40, height: 20, rotation: 90 })).toBe('M110 80 L110 120 L90 120 L90 80 Z');
    expect(shapePath({ shape: 'arc', x: 0, y: 0, innerRadius: 10, outerRadius: 20, startAngle: 0, endAngle: 90 })).toBe(
      'M0 -20 A20 20 0 0 1 20 0 L10 0 A10 10 0 0 0 0 -10 Z',
    );
    expect(shapePath({ shape: 'arc', x: 0, y: 0, innerRadius: 0, outerRadius: 20, startAngle: 90, endAngle: 330 })).toBe(
      'M20 0 A20 20 0 1 1 -10 -17.32 L0 0 Z',
    );
    expect(shapePath({ shape: 'arc', x: 0, y: 0, innerRadius: 10, outerRadius: 20, startAngle: 0, endAngle: 360 })).toBe(
      'M0 -20 A20 20 0 0 1 0 20 A20 20 0 0 1 0 -20 Z M0 -10 A10 10 0 0 0 0 10 A10 10 0 0 0 0 -10 Z',
    );
  });

  test('bounds: a sector reaching past a quarter turn, a turned rect', () => {
    const b = shapeBounds({ shape: 'arc', x: 500, y: 500, innerRadius: 50, outerRadius: 100, startAngle: 45, endAngle: 135 });
    expect(b.x + b.width).toBeCloseTo(600);
    expect(b.x).toBeCloseTo(500 + 50 * Math.sin(Math.PI / 4));
    const turned = shapeBounds({ shape: 'rect', x: 100, y: 100, width: 40, height: 20, rotation: 90 });
    expect([turned.x, turned.y, turned.width, turned.height].map(Math.round)).toEqual([90, 80, 20, 40]);
    expect(polar(0, 0, 10, 90)).toEqual({ x: 10, y: expect.closeTo(0) });
  });

  test('labels sit inside their shape and shrink to fit', () => {
    const small = labelSpot({ shape: 'arc', x: 500, y: 500, innerRadius: 310, outerRadius: 400, startAngle: 0.5, endAngle: 8.5 }, 2);
    expect(inside({ shape: 'arc', x: 500, y: 500, innerRadius: 310, outerRadius: 400, startAngle: 0.5, endAngle: 8.5 }, small)).toBe(true);
    expect(small.fontSize).toBeLessThan(28);
    expect(labelSpot(rect, 7).fontSize).toBe(28);
    expect(labelSpot(rect, 60).fontSize).toBeLessThan(labelSpot(rect, 6).fontSize);
  });
});

describe('the seeded venues', () => {
  test.each([
    ['venue1.yaml', 100],
    ['demo-hall.yaml', 3],
  ])('%s places its %i zones and a stage, none overlapping, in the 1000 × 1000 box', (file, n) => {
    const venue = seededVenue(file);
    const layout = layoutVenue(venue.zones, venue.stage);
    expect(layout.placement).toBe('venue');
    expect(layout.zones).toHaveLength(n);
    const stage = { shape: 'rect' as const, ...venue.stage!, label: undefined };
    const square = { x: 0, y: 0, width: 1000, height: 1000 };
    for (const s of [...layout.zones.map((z) => z.shape), stage]) expect(within(shapeBounds(s), square)).toBe(true);
    expect(overlaps([...layout.zones.map((z) => z.shape), stage], square, 3)).toEqual([]);
  });
});

test('availability buckets and the names a screen reader hears', () => {
  expect([
    availabilityOf(780, 780),
    availabilityOf(390, 780),
    availabilityOf(389, 780),
    availabilityOf(78, 780),
    availabilityOf(77, 780),
    availabilityOf(0, 780),
    availabilityOf(undefined, 780),
    availabilityOf(0, 0),
  ]).toEqual(['many', 'many', 'some', 'some', 'few', 'none', 'unknown', 'unknown']);
  const fmt = (n: number) => n.toLocaleString('en-US');
  expect(zoneMapName('Zone 1', 120, 780, fmt)).toBe('Zone 1, 120 of 780 seats available');
  expect(zoneMapName('Zone Mega', 0, 10_000, fmt)).toBe('Zone Mega, sold out (10,000 seats)');
  expect(zoneMapName('Zone 2', undefined, 780, fmt)).toBe('Zone 2, 780 seats');
  expect(zoneMapName('Zone 3', undefined, undefined, fmt)).toBe('Zone 3, availability unknown');
  expect(zoneMapName('Zone 4', 0, 0, fmt)).toBe('Zone 4, availability unknown');
  expect([zoneShortName('Zone 12'), zoneShortName('Zone Floor'), zoneShortName('Balcony'), zoneShortName('Zone ')]).toEqual([
    '12',
    'Floor',
    'Balcony',
    'Zone ',
  ]);
});
