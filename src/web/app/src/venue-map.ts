import { h } from './dom';
import { count } from './format';
import {
  AVAILABILITY_LEGEND,
  availabilityOf,
  labelSpot,
  layoutVenue,
  shapePath,
  zoneMapName,
  zoneShortName,
  type Stage,
  type ZoneShape,
} from './venue-layout';

const SVG = 'http://www.w3.org/2000/svg';

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export interface MapZone {
  zoneId: string;
  name: string;
  map?: ZoneShape | undefined;
  available?: number | undefined;
  capacity?: number | undefined;
}

export interface VenueMap {
  element: HTMLElement;
  /** Recolours and renames one zone (a live update); a zone whose numbers did not change is not touched. */
  paint(zone: Pick<MapZone, 'zoneId' | 'name' | 'available' | 'capacity'>): void;
}

/**
 * The venue as an SVG: the stage and each zone where the venue's `map` blocks place them (or
 * the automatic arrangement), coloured by availability. With `linkTo`, each zone is a link
 * (`<a href>`, keyboard-focusable) named "Zone N, x of y seats available"; without it, the
 * map is one labelled picture (the venue page, which has no event to link to).
 */
export function venueMap(opts: {
  venueName: string;
  zones: MapZone[];
  stage?: Stage | undefined;
  linkTo?: (zoneId: string) => string;
}): VenueMap {
  const layout = layoutVenue(opts.zones, opts.stage);
  const { x, y, width, height } = layout.viewBox;
  const svg = s('svg', { class: 'venue-map-svg', viewBox: `${x} ${y} ${width} ${height}`, 'data-placement': layout.placement });
  if (opts.linkTo) {
    svg.setAttribute('role', 'group');
    svg.setAttribute('aria-label', `Map of ${opts.venueName}`);
  } else {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `Map of ${opts.venueName}: ${count(opts.zones.length)} zones around the stage`);
  }
  // Sold out is drawn hatched, so it reads without colour vision too (one map per page: a fixed id).
  svg.append(
    s(
      'defs',
      {},
      s(
        'pattern',
        { id: 'map-sold-out', width: 14, height: 14, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { class: 'hatch-bg', width: 14, height: 14 }),
        s('rect', { class: 'hatch-line', width: 5, height: 14 }),
      ),
    ),
  );
  if (layout.stage) {
    const st = layout.stage;
    const label = st.label ?? 'Stage';
    const spot = labelSpot({ shape: 'rect', x: st.x, y: st.y, width: st.width, height: st.height }, label.length);
    svg.append(
      s(
        'g',
        { class: 'map-stage', 'aria-hidden': 'true' },
        s('rect', { x: st.x - st.width / 2, y: st.y - st.height / 2, width: st.width, height: st.height, rx: 6 }),
        s('text', { x: spot.x, y: spot.y, 'font-size': spot.fontSize }, label),
      ),
    );
  }
  const drawn = new Map<string, { node: SVGElement; title: SVGTitleElement; key: string }>();
  layout.zones.forEach((placed, i) => {
    const zone = opts.zones[i]!;
    const short = zoneShortName(zone.name);
    const spot = labelSpot(placed.shape, short.length);
    const title = s('title');
    const body = [
      title,
      s('path', { d: shapePath(placed.shape) }),
      s('text', { x: spot.x, y: spot.y, 'font-size': spot.fontSize, 'aria-hidden': 'true' }, short),
    ];
    const node = opts.linkTo ? s('a', { href: opts.linkTo(zone.zoneId) }, ...body) : s('g', {}, ...body);
    node.setAttribute('class', 'map-zone');
    node.setAttribute('data-zone-id', zone.zoneId);
    svg.append(node);
    drawn.set(zone.zoneId, { node, title, key: '' });
    paint(zone);
  });

  function paint(zone: Pick<MapZone, 'zoneId' | 'name' | 'available' | 'capacity'>): void {
    const d = drawn.get(zone.zoneId);
    if (!d) return;
    const key = `${zone.available}/${zone.capacity}`;
    if (d.key === key) return;
    d.key = key;
    const name = zoneMapName(zone.name, zone.available, zone.capacity, count);
    d.node.setAttribute('class', `map-zone avail-${availabilityOf(zone.available, zone.capacity)}`);
    if (opts.linkTo) d.node.setAttribute('aria-label', name);
    d.title.textContent = name;
  }

  const live = opts.zones.some((z) => z.available !== undefined);
  const legend =
    live &&
    h(
      'ul',
      { class: 'map-legend', 'aria-label': 'Map colours' },
      ...AVAILABILITY_LEGEND.map((l) => h('li', {}, h('span', { class: `swatch avail-${l.bucket}`, 'aria-hidden': 'true' }), l.text)),
    );
  const note =
    layout.placement === 'venue'
      ? undefined
      : h(
          'p',
          { class: 'map-note' },
          layout.placement === 'automatic'
            ? 'Arranged automatically: this venue gives no map coordinates.'
            : 'Zones without map coordinates are shown below the venue.',
        );
  const element = h('figure', { class: 'venue-map' }, svg, h('figcaption', {}, legend, note));
  return { element, paint };
}
