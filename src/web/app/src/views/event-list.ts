import { api } from '../api';
import { h } from '../dom';
import { count, when } from '../format';
import { failure, heading, loading } from '../page';
import { href } from '../router';

/** Every event with its id, venue, date, state and size. */
export async function eventListView(root: HTMLElement, signal: AbortSignal): Promise<void> {
  root.replaceChildren(loading('events'));
  try {
    const events = await api.events(signal);
    events.sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.eventId.localeCompare(b.eventId));
    const list = h('ul', { class: 'event-list', 'aria-label': 'Events' });
    for (const e of events) {
      list.appendChild(
        h(
          'li',
          { class: 'event-card' },
          h(
            'a',
            { class: 'event-link', href: href.event(e.eventId) },
            h('span', { class: 'event-name' }, e.name),
            ' ',
            h('code', { class: 'event-id' }, e.eventId),
          ),
          h(
            'p',
            { class: 'meta' },
            'at ',
            h('a', { href: href.venue(e.venueId) }, e.venueName),
            ' · ',
            h('time', { datetime: e.startsAt }, when(e.startsAt)),
          ),
          h(
            'p',
            { class: 'meta' },
            h('span', { class: `state state-${e.state.toLowerCase()}` }, e.state === 'OnSale' ? 'On sale' : e.state),
            ` · ${count(e.zoneCount)} zones · ${count(e.capacity)} seats`,
          ),
        ),
      );
    }
    root.replaceChildren(
      heading('Events'),
      events.length === 0
        ? h('p', {}, 'No events yet. Add Event and Venue YAML to the seeds folder and the controller publishes them.')
        : list,
    );
  } catch (err) {
    if (!signal.aborted) root.replaceChildren(failure(err, 'the events'));
  }
}
