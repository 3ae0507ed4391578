import { h } from '../dom';
import { money, plural, seatName } from '../format';
import { checkoutApi, type CancelAnswer, type MyPurchase } from './checkout-api';
import { asProblem } from './hold-panel';
import { refundText } from './refund-text';
import { identity } from './identity';

/**
 * "My purchases" (`GET /api/v1/me/purchases`), each confirmed one with a Cancel button
 * (`POST /api/v1/purchases/{id}/cancel`) and, once cancelled, the refund the answer carried.
 * The list may still call a cancelled purchase CONFIRMED (the purchase lookup does not read
 * cancellations yet: docs/purchase-state-machine.md, "Known limits"), so the cancel answers this
 * page saw are kept here and win; the read model's CANCELLED tickets count too.
 */

/** Cancel answers by purchase id, for this page's life (a repeat cancel answers the same, so a reload loses nothing real). */
const cancelled = new Map<string, CancelAnswer>();

const STATUS_TEXT: Record<string, string> = {
  CONFIRMED: 'Confirmed',
  CANCELLED: 'Cancelled',
  PENDING: 'Being confirmed',
  PAYMENT_PENDING: 'Payment pending',
  PAYMENT_DECLINED: 'Payment declined',
  PAYMENT_FAILED: 'Payment failed',
  REFUNDED: 'Refunded (paid after the hold ended)',
};

export interface PurchasesPanelOptions {
  /** Only this event's purchases (the zone page); all of them when absent. */
  eventId?: string;
  /** The currency of an event's prices, when the purchase does not say. */
  currencyOf: (eventId: string) => string | undefined;
  /** A zone's name (the purchases name zones by id). */
  zoneName?: (eventId: string, zoneId: string) => string | undefined;
  /** A heading of the panel's own (the zone page); none when the page's h1 says it. */
  title?: string;
  onCancelled?: (answer: CancelAnswer) => void;
}

export class PurchasesPanel {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'my-purchases', 'aria-label': 'My purchases' });
  private readonly note = h('p', { class: 'help', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert' });
  private loading?: Promise<void>;

  constructor(private readonly opts: PurchasesPanelOptions) {
    const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.element = h(
      'section',
      { class: 'panel purchases-panel', 'aria-label': opts.title ?? 'My purchases' },
      opts.title ? h('h2', {}, opts.title, ' ', refresh) : h('p', {}, refresh),
      this.note,
      this.alert,
      this.list,
    );
  }

  /** Reads the list again (one read at a time: a refresh during a read waits for it, then reads). */
  async refresh(): Promise<void> {
    await this.loading;
    this.loading = this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    if (!identity.buyer()) {
      this.list.replaceChildren();
      this.note.textContent = 'Sign in (Dev sign-in at the top) to see your purchases.';
      return;
    }
    try {
      const all = await checkoutApi.myPurchases();
      const mine = all.filter((p) => !this.opts.eventId || p.eventId === this.opts.eventId);
      this.setAlert('');
      this.note.textContent = mine.length === 0 ? 'No purchases yet.' : '';
      this.list.replaceChildren(...mine.map((p) => this.item(p)));
    } catch (err) {
      this.setAlert(`Your purchases could not be read: ${asProblem(err).message}. Press Refresh to try again.`);
    }
  }

  private item(p: MyPurchase): HTMLElement {
    const tickets = p.tickets as { row: string; column: number; priceCents?: number; currency?: string; status?: string }[];
    const currency = (typeof p.currency === 'string' ? p.currency : tickets[0]?.currency) ?? this.opts.currencyOf(p.eventId) ?? '';
    const cents = typeof p.amountCents === 'number' ? p.amountCents : tickets.reduce((s, t) => s + (t.priceCents ?? 0), 0);
    const seats = (p.seats as { row: string; column: number }[] | undefined) ?? tickets;
    const answer = cancelled.get(p.purchaseId);
    const allCancelled = tickets.length > 0 && tickets.every((t) => t.status === 'CANCELLED');
    const status = answer || allCancelled ? 'CANCELLED' : p.status;
    const li = h(
      'li',
      { class: 'purchase', 'data-purchase-id': p.purchaseId },
      h(
        'p',
        {},
        h('code', { class: 'purchase-id' }, p.purchaseId),
        ' · ',
        h('span', { class: `purchase-status status-${status.toLowerCase()}` }, STATUS_TEXT[status] ?? status),
        ` · ${plural(seats.length, 'seat')} · ${money(cents, currency)}`,
      ),
      h(
        'p',
        { class: 'meta' },
        `${this.opts.zoneName?.(p.eventId, p.zoneId) ?? `Zone ${p.zoneId}`}${this.opts.eventId ? '' : ` of ${p.eventId}`}: `,
        seats.map((s) => seatName(s.row, s.column)).join(', '),
      ),
    );
    if (answer) li.append(h('p', { class: 'refund' }, refundText(answer, currency)));
    else if (status === 'CONFIRMED') {
      const button = h('button', { type: 'button', class: 'secondary small' }, 'Cancel purchase');
      button.addEventListener('click', () => void this.cancel(p, li, button));
      li.append(h('div', { class: 'actions' }, button));
    }
    return li;
  }

  private async cancel(p: MyPurchase, li: HTMLElement, button: HTMLButtonElement): Promise<void> {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    button.textContent = 'Cancelling…';
    try {
      const answer = await checkoutApi.cancel(p.purchaseId);
      cancelled.set(p.purchaseId, answer);
      li.replaceWith(this.item(p));
      this.setAlert('');
      this.opts.onCancelled?.(answer);
    } catch (err) {
      const e = asProblem(err);
      button.removeAttribute('aria-disabled');
      button.textContent = 'Cancel purchase';
      if (e.code === 'PURCHASE_NOT_CONFIRMED')
        return this.setAlert('This purchase is still being confirmed; press Cancel again in a moment.');
      if (e.status === 503 && e.body.status === 'CANCELLED')
        return this.setAlert(
          'Cancelled, and the seats are on sale again, but the refund did not complete. Press Cancel again to retry the refund: it never refunds twice.',
        );
      this.setAlert(`${e.message}. ${e.status >= 500 || e.status === 0 ? 'Press Cancel again in a moment.' : 'Nothing was cancelled.'}`);
    }
  }

  private setAlert(text: string): void {
    this.alert.textContent = text;
    this.alert.classList.toggle('shown', text !== '');
  }
}
