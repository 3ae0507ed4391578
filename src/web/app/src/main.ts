import { identity, loadAuthConfig } from './checkout/identity';
import { renderBuyerArea } from './checkout/identity-widget';
import { myPurchasesView } from './checkout/my-page';
import { focusHeadingsFromNowOn } from './page';
import './perf';
import { parseHash, type Route } from './router';
import { eventListView } from './views/event-list';
import { eventView } from './views/event-page';
import { venueView } from './views/venue-page';
import { zoneView } from './views/zone-page';
import { h } from './dom';
import { withAdmission } from './admission/admission-gate';
import { href } from './router';

const main = document.getElementById('main') as HTMLElement;
const buyerArea = document.getElementById('buyer-area') as HTMLElement;
const admissionArea = document.getElementById('admission-area') as HTMLElement;
// The skip link must not change the hash: the hash is the route.
document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.tabIndex = -1;
  main.focus();
});

/** Each view gets a signal that aborts its requests and live updates when the route changes. */
function show(route: Route, signal: AbortSignal): void {
  if (route.view !== 'event' && route.view !== 'zone') admissionArea.replaceChildren();
  switch (route.view) {
    case 'events':
      return void eventListView(main, signal);
    // A queued event's pages open through its waiting room (docs/admission.md).
    case 'event':
      return void withAdmission(main, admissionArea, signal, route.eventId, undefined, () => void eventView(main, signal, route.eventId));
    case 'zone':
      return void withAdmission(
        main,
        admissionArea,
        signal,
        route.eventId,
        route.zoneId,
        () => void zoneView(main, signal, route.eventId, route.zoneId),
      );
    case 'venue':
      return void venueView(main, signal, route.venueId);
    case 'me':
      return void myPurchasesView(main, signal);
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
// The auth mode decides how every buyer route names the buyer, so it is read before the first view.
void loadAuthConfig().then(() => {
  renderBuyerArea(buyerArea);
  // Another buyer sees other holds and purchases: the header and the view follow the change.
  identity.onChange(() => {
    renderBuyerArea(buyerArea);
    render();
  });
  render();
});
