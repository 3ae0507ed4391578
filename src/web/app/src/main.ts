import { buyerId, newBuyerId } from './buyer';
import { focusHeadingsFromNowOn } from './page';
import './perf';
import { parseHash, type Route } from './router';
import { eventListView } from './views/event-list';
import { eventView } from './views/event-page';
import { venueView } from './views/venue-page';
import { zoneView } from './views/zone-page';
import { h } from './dom';
import { href } from './router';

const main = document.getElementById('main') as HTMLElement;
const buyerEl = document.getElementById('buyer-id') as HTMLElement;
buyerEl.textContent = buyerId();
// The skip link must not change the hash: the hash is the route.
document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.tabIndex = -1;
  main.focus();
});
document.getElementById('new-buyer')?.addEventListener('click', () => {
  buyerEl.textContent = newBuyerId();
});

/** Each view gets a signal that aborts its requests and live updates when the route changes. */
function show(route: Route, signal: AbortSignal): void {
  switch (route.view) {
    case 'events':
      return void eventListView(main, signal);
    case 'event':
      return void eventView(main, signal, route.eventId);
    case 'zone':
      return void zoneView(main, signal, route.eventId, route.zoneId);
    case 'venue':
      return void venueView(main, signal, route.venueId);
    case 'not-found':
      document.title = 'Not found · Seat map';
      main.replaceChildren(
        h('h1', { tabindex: -1 }, 'Page not found'),
        h('p', {}, `Nothing lives at ${route.hash}. `, h('a', { href: href.events() }, 'See all events'), '.'),
      );
  }
}

let current: AbortController | undefined;
function render(): void {
  current?.abort();
  current = new AbortController();
  show(parseHash(location.hash), current.signal);
}

window.addEventListener('hashchange', () => {
  focusHeadingsFromNowOn();
  render();
});
render();
