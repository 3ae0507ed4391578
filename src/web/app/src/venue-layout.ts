/**
 * The venue map's geometry, as pure functions (no DOM: test/web/venue-layout.unit.test.ts).
 * Shapes come from the Venue resource's optional `map` blocks (src/catalog/resources.ts): a
 * 1000 × 1000 viewBox, y down, angles in degrees clockwise from 12 o'clock. A venue without
 * them gets an automatic arrangement: ring sectors fanned out below a stage.
 */
import type { Stage, ZoneShape } from './api';

export type { Stage, ZoneShape };

export interface Point {
  x: number;
  y: number;
}
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedZone {
  zoneId: string;
  shape: ZoneShape;
}

export interface VenueLayout {
  /** undefined when the venue places its zones but draws no stage. */
  stage: Stage | undefined;
  zones: PlacedZone[];
  /** The drawing's viewBox: every shape and the stage, with a margin. */
  viewBox: Box;
  /** How the zones were placed: all by the venue, all by the page, or some of each. */
  placement: 'venue' | 'automatic' | 'mixed';
}

const MAP_SIZE = 1000;
const MARGIN = 20;
/** The automatic arrangement: a stage at the top, zones in rings of sectors fanned out below it. */
const AUTO_STAGE: Stage = { x: 500, y: 90, width: 360, height: 70, label: 'Stage' };
const AUTO_FAN = { from: 120, to: 240, firstRadius: 130, lastRadius: 770, maxDepth: 150, ringGap: 12, sectorGap: 6 };

const rad = (deg: number) => (deg * Math.PI) / 180;
const round = (n: number) => Math.round(n * 100) / 100;

/** The point at `deg` (clockwise from 12 o'clock) and distance `r` from the centre. */
export function polar(cx: number, cy: number, r: number, deg: number): Point {
  return { x: cx + r * Math.sin(rad(deg)), y: cy - r * Math.cos(rad(deg)) };
}

/** The corners of a rect (centred, turned about its centre), clockwise from top-left. */
function rectCorners(s: Extract<ZoneShape, { shape: 'rect' }>): Point[] {
  const hw = s.width / 2;
  const hh = s.height / 2;
  const cos = Math.cos(rad(s.rotation ?? 0));
  const sin = Math.sin(rad(s.rotation ?? 0));
  return [
    [-hw, -hh],
    [hw, -hh],
    [hw, hh],
    [-hw, hh],
  ].map(([dx, dy]) => ({ x: s.x + dx! * cos - dy! * sin, y: s.y + dx! * sin + dy! * cos }));
}

/** The SVG path of a shape (absolute coordinates, rounded to 0.01). */
export function shapePath(s: ZoneShape): string {
  const p = (pt: Point) => `${round(pt.x)} ${round(pt.y)}`;
  if (s.shape === 'rect') {
    const [a, b, c, d] = rectCorners(s) as [Point, Point, Point, Point];
    return `M${p(a)} L${p(b)} L${p(c)} L${p(d)} Z`;
  }
  const sweep = Math.min(360, s.endAngle - s.startAngle);
  // An SVG arc cannot start and end on the same point: a full ring is drawn as two halves.
  const stops = sweep >= 360 ? [s.startAngle, s.startAngle + 180, s.startAngle + 360] : [s.startAngle, s.endAngle];
  const large = sweep > 180 && sweep < 360 ? 1 : 0;
  const outer = stops.map((a) => polar(s.x, s.y, s.outerRadius, a));
  const ro = round(s.outerRadius);
  let d = `M${p(outer[0]!)}`;
  for (const pt of outer.slice(1)) d += ` A${ro} ${ro} 0 ${large} 1 ${p(pt)}`;
  if (s.innerRadius <= 0) return sweep >= 360 ? `${d} Z` : `${d} L${round(s.x)} ${round(s.y)} Z`;
  const inner = [...stops].reverse().map((a) => polar(s.x, s.y, s.innerRadius, a));
  const ri = round(s.innerRadius);
  d += sweep >= 360 ? ` Z M${p(inner[0]!)}` : ` L${p(inner[0]!)}`;
  for (const pt of inner.slice(1)) d += ` A${ri} ${ri} 0 ${large} 0 ${p(pt)}`;
  return `${d} Z`;
}

/** The smallest upright box around a shape. */
export function shapeBounds(s: ZoneShape): Box {
  let pts: Point[];
  if (s.shape === 'rect') pts = rectCorners(s);
  else {
    // The arc's ends on both radii, plus every quarter turn the arc passes.
    const angles = [s.startAngle, s.endAngle];
    for (let q = Math.ceil(s.startAngle / 90) * 90; q < s.endAngle; q += 90) angles.push(q);
    pts = angles.flatMap((a) => [polar(s.x, s.y, s.outerRadius, a), polar(s.x, s.y, s.innerRadius, a)]);
  }
  return boxAround(pts);
}

function boxAround(pts: Point[]): Box {
  const xs = pts.map((q) => q.x);
  const ys = pts.map((q) => q.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

export function union(boxes: Box[]): Box {
  if (boxes.length === 0) return { x: 0, y: 0, width: MAP_SIZE, height: MAP_SIZE };
  return boxAround(boxes.flatMap((b) => [b, { x: b.x + b.width, y: b.y + b.height }]));
}

const stageShape = (st: Stage): ZoneShape => ({ shape: 'rect', x: st.x, y: st.y, width: st.width, height: st.height });

/**
 * Where a zone's label goes, and how big it may be: the shape's middle, with a font size that
 * keeps `chars` characters inside the shape.
 */
export function labelSpot(s: ZoneShape, chars: number): Point & { fontSize: number } {
  let at: Point;
  let across: number; // room for the label's width
  let tall: number; // room for its height
  if (s.shape === 'rect') {
    at = { x: s.x, y: s.y };
    const upright = Math.abs(s.rotation ?? 0) % 180 < 20 || Math.abs(s.rotation ?? 0) % 180 > 160;
    across = upright ? s.width : Math.min(s.width, s.height);
    tall = upright ? s.height : Math.min(s.width, s.height);
  } else {
    const mid = (s.innerRadius + s.outerRadius) / 2;
    const sweep = Math.min(360, s.endAngle - s.startAngle);
    at = sweep >= 360 && s.innerRadius <= 0 ? { x: s.x, y: s.y } : polar(s.x, s.y, mid, (s.startAngle + s.endAngle) / 2);
    const chord = sweep >= 180 ? 2 * mid : 2 * mid * Math.sin(rad(sweep / 2));
    const depth = s.outerRadius - s.innerRadius;
    across = Math.min(chord, depth * 1.5);
    tall = Math.min(chord, depth);
  }
  const fontSize = Math.max(8, Math.min(28, tall * 0.45, (across * 0.85) / Math.max(1, chars * 0.62)));
  return { x: round(at.x), y: round(at.y), fontSize: round(fontSize) };
}

/**
 * The automatic arrangement of `n` zones, in the zones' order: rings of sectors fanned out below
 * AUTO_STAGE, nearest ring first, each ring holding zones in proportion to its length.
 */
export function automaticShapes(n: number): ZoneShape[] {
  if (n <= 0) return [];
  const { from, to, firstRadius, lastRadius, maxDepth, ringGap, sectorGap } = AUTO_FAN;
  const rings = n <= 4 ? 1 : Math.min(8, Math.ceil(Math.sqrt(n) / 2.5));
  const depth = Math.min(maxDepth, (lastRadius - firstRadius - ringGap * (rings - 1)) / rings);
  const inner = Array.from({ length: rings }, (_, k) => firstRadius + k * (depth + ringGap));
  const mids = inner.map((r) => r + depth / 2);
  const total = mids.reduce((a, b) => a + b, 0);
  // Zones per ring by length (largest remainders), at least one each.
  const exact = mids.map((m) => (n * m) / total);
  const counts = exact.map((e) => Math.max(1, Math.floor(e)));
  while (counts.reduce((a, b) => a + b, 0) > n) counts[counts.indexOf(Math.max(...counts))]!--;
  const order = exact.map((e, k) => ({ k, rest: e - Math.floor(e) })).sort((a, b) => b.rest - a.rest || b.k - a.k);
  for (let i = 0; counts.reduce((a, b) => a + b, 0) < n; i++) counts[order[i % rings]!.k]!++;
  const shapes: ZoneShape[] = [];
  counts.forEach((count, k) => {
    const step = (to - from) / count;
    const gapDeg = ((sectorGap / mids[k]!) * 180) / Math.PI / 2;
    for (let i = 0; i < count; i++) {
      shapes.push({
        shape: 'arc',
        x: AUTO_STAGE.x,
        y: AUTO_STAGE.y,
        innerRadius: round(inner[k]!),
        outerRadius: round(inner[k]! + depth),
        startAngle: round(from + i * step + gapDeg),
        endAngle: round(from + (i + 1) * step - gapDeg),
      });
    }
  });
  return shapes;
}

/**
 * Places a venue's zones: by their `map` when the venue gives one; all automatically when no
 * zone has one; and, when only some have, the others in a row of tiles below the drawing.
 */
export function layoutVenue(zones: { zoneId: string; map?: ZoneShape | undefined }[], stage?: Stage): VenueLayout {
  const given = zones.filter((z) => z.map);
  let placed: PlacedZone[];
  let shownStage: Stage | undefined;
  let placement: VenueLayout['placement'];
  if (given.length === 0) {
    const auto = automaticShapes(zones.length);
    placed = zones.map((z, i) => ({ zoneId: z.zoneId, shape: auto[i]! }));
    shownStage = { ...AUTO_STAGE, label: stage?.label ?? AUTO_STAGE.label };
    placement = 'automatic';
  } else {
    shownStage = stage;
    const drawn = union([...given.map((z) => shapeBounds(z.map!)), ...(stage ? [shapeBounds(stageShape(stage))] : [])]);
    const tiles = tileRow(zones.length - given.length, drawn);
    let t = 0;
    placed = zones.map((z) => ({ zoneId: z.zoneId, shape: z.map ?? tiles[t++]! }));
    placement = given.length === zones.length ? 'venue' : 'mixed';
  }
  const all = union([...placed.map((z) => shapeBounds(z.shape)), ...(shownStage ? [shapeBounds(stageShape(shownStage))] : [])]);
  const viewBox = {
    x: round(all.x - MARGIN),
    y: round(all.y - MARGIN),
    width: round(all.width + 2 * MARGIN),
    height: round(all.height + 2 * MARGIN),
  };
  return { stage: shownStage, zones: placed, viewBox, placement };
}

/** `n` tiles in rows under `above`, as wide as it (at least one per row). */
function tileRow(n: number, above: Box): ZoneShape[] {
  const w = 120;
  const h = 60;
  const gap = 12;
  const perRow = Math.max(1, Math.floor((above.width + gap) / (w + gap)));
  return Array.from({ length: n }, (_, i) => ({
    shape: 'rect' as const,
    x: round(above.x + (i % perRow) * (w + gap) + w / 2),
    y: round(above.y + above.height + 40 + Math.floor(i / perRow) * (h + gap) + h / 2),
    width: w,
    height: h,
  }));
}

export type Availability = 'many' | 'some' | 'few' | 'none' | 'unknown';

/** The colour bucket of a zone: half or more free, a tenth or more, fewer, none, or not known. */
export function availabilityOf(available: number | undefined, capacity: number | undefined): Availability {
  if (available === undefined || capacity === undefined || capacity <= 0) return 'unknown';
  if (available <= 0) return 'none';
  const share = available / capacity;
  return share >= 0.5 ? 'many' : share >= 0.1 ? 'some' : 'few';
}

export const AVAILABILITY_LEGEND: { bucket: Availability; text: string }[] = [
  { bucket: 'many', text: 'Half or more free' },
  { bucket: 'some', text: 'Filling up (10–50 % free)' },
  { bucket: 'few', text: 'Last seats (under 10 % free)' },
  { bucket: 'none', text: 'Sold out' },
];

/** A zone link's accessible name: "Zone 1, 120 of 780 seats available" (the venue page, without an event: "Zone 1, 780 seats"). */
export function zoneMapName(
  name: string,
  available: number | undefined,
  capacity: number | undefined,
  fmt = (n: number) => n.toLocaleString(),
): string {
  // Capacity 0: the zone's inventory is not seeded yet (the event route answers 0 of 0), not a sold-out zone.
  if (capacity !== undefined && capacity <= 0) return `${name}, availability unknown`;
  if (available === undefined) return capacity === undefined ? `${name}, availability unknown` : `${name}, ${fmt(capacity)} seats`;
  if (capacity === undefined) return `${name}, ${fmt(available)} seats available`;
  if (available <= 0) return `${name}, sold out (${fmt(capacity)} seats)`;
  return `${name}, ${fmt(available)} of ${fmt(capacity)} seats available`;
}

/** The short text drawn in a zone: its name without a leading "Zone " ("Zone 12" → "12"). */
export const zoneShortName = (name: string) => name.replace(/^zone\s+/i, '') || name;
