import { api } from '../api';
import { h } from '../dom';
import { count, money } from '../format';
import { failure, heading, loading } from '../page';
import { href } from '../router';
import { venueMap } from '../venue-map';

/** A venue's layout: its map, its zones (rows, seats, base price) and the events held there. */
export async function venueView(root: HTMLElement, signal: AbortSignal, venueId: string): Promise<void> {
  root.replaceChildren(loading(`venue ${venueId}`));
  try {
    const [venue, events] = await Promise.all([api.venue(venueId, signal), api.events(signal)]);
    const here = events.filter((e) => e.venueId === venue.venueId);
    const currency = here[0]?.currency ?? 'USD';
    const capacity = venue.zones.reduce((s, z) => s + z.seatCounts.reduce((a, b) => a + b, 0), 0);
    const zoneRows = venue.zones.map((z) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, z.name),
        h('td', {}, z.category ?? '—'),
        h('td', { class: 'num' }, count(z.rows.length)),
        h('td', { class: 'num' }, count(z.seatCounts.reduce((a, b) => a + b, 0))),
        h('td', { class: 'num' }, money(z.priceCents, currency)),
      ),
    );
    root.replaceChildren(
      h(
        'nav',
        { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
        h('a', { href: href.events() }, 'Events'),
        ' › ',
        h('span', { 'aria-current': 'page' }, venue.name),
      ),
      heading(venue.name),
      h('p', { class: 'meta' }, 'Venue ', h('code', {}, venue.venueId), ` · ${count(venue.zones.length)} zones · ${count(capacity)} seats`),
      h('h2', {}, 'Events here'),
      here.length === 0
        ? h('p', {}, 'No events at this venue yet.')
        : h(
            'ul',
            { class: 'plain-list', 'aria-label': 'Events at this venue' },
            ...here.map((e) => h('li', {}, h('a', { href: href.event(e.eventId) }, e.name, ' ', h('code', {}, e.eventId)))),
          ),
      h('h2', {}, 'Venue map'),
      venueMap({
        venueName: venue.name,
        stage: venue.stage,
        zones: venue.zones.map((z) => ({ ...z, capacity: z.seatCounts.reduce((a, b) => a + b, 0) })),
      }).element,
      h('h2', {}, 'Zones'),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'zones-table' },
          h('caption', { class: 'visually-hidden' }, `Zones of ${venue.name}`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Zone'),
              h('th', { scope: 'col' }, 'Category'),
              h('th', { scope: 'col' }, 'Rows'),
              h('th', { scope: 'col' }, 'Seats'),
              h('th', { scope: 'col' }, 'Base price'),
            ),
          ),
          h('tbody', {}, ...zoneRows),
        ),
      ),
    );
  } catch (err) {
    if (!signal.aborted) root.replaceChildren(failure(err, `venue ${venueId}`));
  }
}
