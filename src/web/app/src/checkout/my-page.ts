import { api } from '../api';
import { h } from '../dom';
import { heading } from '../page';
import { href } from '../router';
import { identity } from './identity';
import { PurchasesPanel } from './purchases-panel';

/** `#/me`: every purchase of the buyer, across events, with cancel and the refund. */
export async function myPurchasesView(root: HTMLElement, signal: AbortSignal): Promise<void> {
  // Prices carry no currency in every source; the events say it.
  const currencies = new Map<string, string>();
  const panel = new PurchasesPanel({ currencyOf: (eventId) => currencies.get(eventId) });
  root.replaceChildren(
    h(
      'nav',
      { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: href.events() }, 'Events'),
      ' › ',
      h('span', { 'aria-current': 'page' }, 'My purchases'),
    ),
    heading('My purchases'),
    h(
      'p',
      { class: 'meta' },
      `As ${identity.buyer() ?? 'nobody yet (sign in at the top)'}. Cancelling refunds the payment and puts the seats on sale again.`,
    ),
    panel.element,
  );
  const events = await api.events(signal).catch(() => []);
  for (const e of events) currencies.set(e.eventId, e.currency);
  if (!signal.aborted) await panel.refresh();
}
