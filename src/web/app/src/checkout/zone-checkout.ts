import type { Purchase, Seat } from '../api';
import { h, setText } from '../dom';
import { plural } from '../format';
import { randomId } from '../ids';
import type { ZoneState } from '../zone-state';
import { checkoutApi, type CancelAnswer, type HoldAnswer, type HoldRequest } from './checkout-api';
import { asProblem, HoldPanel } from './hold-panel';
import { identity } from './identity';
import { PurchasesPanel } from './purchases-panel';

/** What the checkout needs from the zone page: its state, and the ways it draws and talks. */
export interface ZoneBoard {
  readonly state: ZoneState;
  readonly eventId: string;
  readonly zoneId: string;
  readonly currency: string;
  redraw(ks: readonly number[]): void;
  /** Zone and row figures after the state moved them. */
  paintCounts(): void;
  paintSelection(): void;
  showConfirmation(p: Purchase): void;
  purchaseCancelled(purchaseId: string): void;
  nameOfZone(zoneId: string): string | undefined;
  names(ks: number[]): string;
  say(text: string): void;
  warn(text: string): void;
}

/**
 * The zone page's checkout (docs/checkout.md): "Hold" for the selected seats, "Find me N seats"
 * (best available), the hold panel (countdown, extend, release, test payment) and "My
 * purchases" with cancel. It changes the seat map only through the ZoneState's own rules
 * (heldByMe, purchased, freedByMe, holdEnded), so polls and a later live source agree with it.
 */
export class ZoneCheckout {
  readonly holdButton = h('button', { type: 'button', class: 'secondary' });
  readonly findForm: HTMLFormElement;
  readonly holdPanel: HoldPanel;
  readonly purchases: PurchasesPanel;
  private readonly countInput: HTMLInputElement;
  private inFlight = false;
  /** After an unknown outcome the same hold is asked for again under the same key: it is never held twice. */
  private retry?: { key: string; body: string };

  constructor(private readonly board: ZoneBoard) {
    this.holdButton.addEventListener('click', () => void this.holdSelection());
    this.countInput = h('input', {
      type: 'number',
      id: 'find-count',
      min: 1,
      max: board.state.limit,
      value: Math.min(2, board.state.limit),
      inputmode: 'numeric',
      class: 'count',
    });
    this.findForm = h(
      'form',
      { class: 'find-seats', 'aria-label': 'Find seats' },
      h('label', { for: 'find-count' }, 'Find me'),
      ' ',
      this.countInput,
      ' seats ',
      h('button', { type: 'submit', class: 'secondary' }, 'Find seats'),
    );
    this.findForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.holdBest(Number(this.countInput.value));
    });
    this.holdPanel = new HoldPanel({
      paid: (hold, purchase) => this.paid(hold, purchase),
      released: (hold) => {
        board.redraw(board.state.freedByMe(hold.seats, performance.now()));
        board.paintCounts();
      },
      ended: (hold) => board.redraw(board.state.holdEnded(hold.seats)),
      say: (text) => board.say(text),
    });
    this.purchases = new PurchasesPanel({
      eventId: board.eventId,
      currencyOf: () => board.currency,
      zoneName: (_eventId, zoneId) => board.nameOfZone(zoneId),
      title: 'My purchases',
      onCancelled: (a) => this.cancelled(a),
    });
  }

  /** On opening the zone: the buyer's hold in this zone still running (a reload), and the purchases. */
  async start(signal: AbortSignal): Promise<void> {
    void this.purchases.refresh();
    if (!identity.buyer()) return;
    const holds = await checkoutApi.myHolds('HELD').catch(() => []);
    const mine = holds.find((x) => x.eventId === this.board.eventId && x.zoneId === this.board.zoneId);
    if (mine && !signal.aborted && !this.holdPanel.active) this.adopt(mine);
  }

  stop(): void {
    this.holdPanel.close();
  }

  /** The Hold button's label, as the selection and any purchase in flight say. */
  paint(selected: number, busy: boolean): void {
    setText(this.holdButton, this.inFlight ? 'Holding…' : selected === 0 ? 'Hold seats' : `Hold ${plural(selected, 'seat')}`);
    if (busy || selected === 0) this.holdButton.setAttribute('aria-disabled', 'true');
    else this.holdButton.removeAttribute('aria-disabled');
    this.countInput.max = String(this.board.state.limit);
  }

  get busy(): boolean {
    return this.inFlight;
  }

  private async holdSelection(): Promise<void> {
    const { state } = this.board;
    if (!this.mayHold()) return;
    const start = state.startPurchase();
    if (!start.ok) return start.reason === 'empty' ? this.board.say('Select at least one seat first.') : undefined;
    const seats: Seat[] = start.picked.map((k) => {
      const { row, column } = state.layout.seatAt(k);
      return { row, column };
    });
    this.inFlight = true;
    this.board.paintSelection();
    try {
      await this.requestHold({ zoneId: this.board.zoneId, seats }, start.picked);
    } finally {
      this.inFlight = false;
      state.finishPurchase();
      this.board.paintSelection();
    }
  }

  private async holdBest(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 1 || count > this.board.state.limit)
      return this.board.warn(`Ask for 1 to ${this.board.state.limit} seats.`);
    if (!this.mayHold() || this.board.state.busy) return;
    this.inFlight = true;
    this.board.paintSelection();
    try {
      await this.requestHold({ zoneId: this.board.zoneId, best: { count } }, []);
    } finally {
      this.inFlight = false;
      this.board.paintSelection();
    }
  }

  private mayHold(): boolean {
    if (this.inFlight) return false;
    if (!identity.buyer()) {
      this.board.warn('Sign in first (Dev sign-in at the top of the page): holds belong to a buyer.');
      return false;
    }
    if (this.holdPanel.active) {
      this.board.warn('You already hold seats here: pay for them or release them first.');
      return false;
    }
    return true;
  }

  private async requestHold(body: HoldRequest, picked: number[]): Promise<void> {
    const fingerprint = JSON.stringify(body);
    const key = this.retry?.body === fingerprint ? this.retry.key : `web-hold-${randomId(12)}`;
    this.retry = undefined;
    this.board.warn('');
    try {
      const hold = await checkoutApi.hold(this.board.eventId, body, key);
      this.adopt(hold);
      this.board.say(`Held ${plural(hold.seats.length, 'seat')} for you: pay before the countdown ends.`);
    } catch (err) {
      this.holdFailed(asProblem(err), picked, key, fingerprint);
    }
  }

  private adopt(hold: HoldAnswer): void {
    this.board.redraw(this.board.state.heldByMe(hold.seats, performance.now()));
    this.board.paintCounts();
    this.board.paintSelection();
    this.holdPanel.show(hold);
  }

  private holdFailed(p: ReturnType<typeof asProblem>, picked: number[], key: string, fingerprint: string): void {
    const { state } = this.board;
    switch (p.code) {
      case 'SEATS_TAKEN': {
        const taken = state.seatsTaken((p.body.seats as Seat[] | undefined) ?? [], performance.now());
        this.board.redraw(taken);
        this.board.paintCounts();
        const still = picked.length - taken.length;
        return this.board.warn(
          `Sorry, ${taken.length > 0 ? this.board.names(taken) : 'a seat you picked'} ${taken.length === 1 ? 'was' : 'were'} just taken by someone else (now marked). Nothing was held.` +
            (still > 0 ? ' Your other seats are still selected: press Hold again or add a replacement.' : ''),
        );
      }
      case 'NOT_ENOUGH_SEATS':
      case 'ZONE_SOLD_OUT':
        return this.board.warn(`${p.message}. Nothing was held; ask for fewer seats or try another zone.`);
      case 'BUYER_LIMIT_REACHED':
        return this.board.warn(
          `${p.message}. Nothing was held: you may hold or buy ${typeof p.body.left === 'number' ? p.body.left : 'no'} more seats for this event.`,
        );
      case 'TOO_MANY_SEATS':
        state.adoptLimit(Number(p.body.limit));
        return this.board.warn(`${p.message}. Nothing was held; deselect some seats and press Hold again.`);
      case 'UNAUTHENTICATED':
        return this.board.warn(`${p.message}. Sign in again (Dev sign-in at the top of the page), then press Hold.`);
      case 'IDEMPOTENCY_IN_FLIGHT':
      case 'NETWORK':
        this.retry = { key, body: fingerprint };
        return this.board.warn(
          `${p.message}. We could not tell whether the seats were held. Press Hold again to find out: it cannot hold them twice.`,
        );
      default:
        if (p.status >= 500 || p.status === 0) this.retry = { key, body: fingerprint };
        return this.board.warn(`${p.message}. Nothing was held${p.status >= 500 ? '; try again in a moment' : ''}.`);
    }
  }

  private paid(hold: HoldAnswer, purchase: Purchase): void {
    const { state } = this.board;
    this.board.redraw(state.purchased(state.indexesOf(hold.seats), performance.now()));
    this.board.paintCounts();
    this.board.showConfirmation(purchase);
    this.board.say(`Payment accepted, purchase confirmed: ${plural(purchase.tickets.length, 'ticket')}.`);
    void this.purchases.refresh();
  }

  private cancelled(a: CancelAnswer): void {
    this.board.purchaseCancelled(a.purchaseId);
    if (a.eventId === this.board.eventId && a.zoneId === this.board.zoneId) {
      this.board.redraw(this.board.state.freedByMe(a.tickets, performance.now()));
      this.board.paintCounts();
    }
    this.board.say(`Purchase cancelled: ${plural(a.tickets.length, 'seat')} back on sale.`);
  }
}
