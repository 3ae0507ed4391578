import { api, type EventDetail, type ZoneSummary } from '../api';
import { h, setText } from '../dom';
import { count, money, when } from '../format';
import { failure, heading, loading } from '../page';
import { poll } from '../poll';
import { href } from '../router';
import { venueMap } from '../venue-map';

/**
 * How often the map and the cards re-read availability: one event read (revalidated by ETag,
 * a 304 when nothing sold), so a sale elsewhere shows within about a second.
 */
const REFRESH_MS = 1000;

const availability = (z: ZoneSummary) =>
  z.available === undefined || z.capacity === undefined
    ? 'availability unknown'
    : z.available === 0
      ? `sold out (${count(z.capacity)} seats)`
      : `${count(z.available)} of ${count(z.capacity)} available`;

/** An event, its venue as a map and its zones as cards; the availability of both refreshes live. */
export async function eventView(root: HTMLElement, signal: AbortSignal, eventId: string): Promise<void> {
  root.replaceChildren(loading(`event ${eventId}`));
  let ev: EventDetail;
  try {
    ev = await api.event(eventId, signal);
  } catch (err) {
    if (!signal.aborted) root.replaceChildren(failure(err, `event ${eventId}`));
    return;
  }
  const map = venueMap({
    venueName: ev.venue.name,
    zones: ev.zones,
    stage: ev.venue.stage,
    linkTo: (zoneId) => href.zone(ev.eventId, zoneId),
  });
  const cards = new Map<string, { avail: HTMLElement; bar: HTMLElement; card: HTMLElement }>();
  const list = h('ul', { class: 'zone-list', 'aria-label': `Zones of ${ev.venue.name}` });
  for (const z of ev.zones) {
    const avail = h('span', { class: 'zone-avail' }, availability(z));
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill' }));
    // The link text starts with the zone's name, so "Zone 1 …" finds it by role and name.
    const link = h(
      'a',
      { class: 'zone-card', href: href.zone(ev.eventId, z.zoneId) },
      h('span', { class: 'zone-name' }, z.name),
      ' ',
      h('span', { class: 'zone-price' }, money(z.priceCents, ev.currency), z.category ? ` · ${z.category}` : ''),
      ' ',
      avail,
      bar,
    );
    cards.set(z.zoneId, { avail, bar, card: link });
    list.appendChild(h('li', {}, link));
    paint(z);
  }
  function paint(z: ZoneSummary) {
    map.paint(z);
    const c = cards.get(z.zoneId);
    if (!c) return;
    setText(c.avail, availability(z));
    const share = z.capacity ? (z.available ?? 0) / z.capacity : 0;
    (c.bar.firstElementChild as HTMLElement).style.width = `${(share * 100).toFixed(1)}%`;
    c.card.classList.toggle('sold-out', z.available === 0);
  }

  const skip = h('button', { type: 'button', class: 'map-skip' }, 'Skip the map to the zone list');
  skip.addEventListener('click', () => list.querySelector('a')?.focus());

  const total = (zs: ZoneSummary[]) => zs.reduce((s, z) => s + (z.available ?? 0), 0);
  const summary = h('span', {}, `${count(total(ev.zones))} seats available`);
  const liveNote = h('span', { class: 'live-note' }, 'Live');
  root.replaceChildren(
    h(
      'nav',
      { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: href.events() }, 'Events'),
      ' › ',
      h('span', { 'aria-current': 'page' }, ev.name),
    ),
    heading(ev.name, ' ', h('code', { class: 'event-id' }, ev.eventId)),
    h(
      'p',
      { class: 'meta' },
      'at ',
      h('a', { href: href.venue(ev.venue.venueId) }, ev.venue.name),
      ' (',
      h('code', {}, ev.venue.venueId),
      ') · ',
      h('time', { datetime: ev.startsAt }, when(ev.startsAt)),
      ` · ${ev.state === 'OnSale' ? 'On sale' : ev.state} · up to ${ev.perUserLimit} seats per purchase`,
    ),
    h('p', { class: 'meta' }, summary, ' ', liveNote),
    h('h2', {}, 'Venue map'),
    // Keyboard users reach every zone on the map; this lets them jump past it to the cards.
    skip,
    map.element,
    h('h2', {}, 'Zones'),
    list,
  );

  const stop = poll(
    async (sig) => {
      const fresh = await api.event(eventId, sig, { revalidate: true });
      fresh.zones.forEach(paint);
      setText(summary, `${count(total(fresh.zones))} seats available`);
    },
    {
      everyMs: REFRESH_MS,
      onError: () => setText(liveNote, 'Live updates paused (the API did not answer); retrying'),
      onRecover: () => setText(liveNote, 'Live'),
    },
  );
  signal.addEventListener('abort', stop, { once: true });
}
