import { ApiProblem, type Purchase } from '../api';
import { h, setText } from '../dom';
import { money, plural, seatName } from '../format';
import { randomId } from '../ids';
import { checkoutApi, isPending, TEST_TOKENS, type HoldAnswer, type PaymentPending, type TestToken } from './checkout-api';
import { Countdown, formatRemaining } from './countdown';

/** What "Extend" adds; the API caps a hold at HOLD_MAX_SECONDS in total (409 HOLD_LIMIT_REACHED). */
export const EXTEND_SECONDS = 300;

/** What the zone page does when the hold changes hands or ends. */
export interface HoldPanelHost {
  /** The hold was paid: its purchase, with the tickets. */
  paid(hold: HoldAnswer, purchase: Purchase): void;
  /** The buyer released it: its seats are on sale again. */
  released(hold: HoldAnswer): void;
  /** It ran out (or the API says it is no longer held): its seats are no longer this buyer's. */
  ended(hold: HoldAnswer): void;
  /** Announces a short message (a status region). */
  say(text: string): void;
}

type Phase = 'held' | 'paying' | 'pending' | 'ended';

/**
 * The buyer's hold: its seats, a countdown to expiresAt, Extend, Release, and paying it with
 * one of the test provider's tokens. A decline (402) leaves the hold as it is, so the buyer
 * picks another token and pays again; a pending payment (202) is checked on demand.
 */
export class HoldPanel {
  readonly element = h('section', { class: 'panel hold-panel', 'aria-labelledby': 'hold-heading', hidden: true });
  private hold?: HoldAnswer;
  private phase: Phase = 'ended';
  private token: TestToken = 'tok_visa';
  /** After an unknown outcome the same payment is retried under the same key, so it never charges twice. */
  private retry?: { key: string; token: TestToken };
  private pending?: PaymentPending;

  private readonly seats = h('p', { class: 'hold-seats' });
  private readonly holdId = h('code', { class: 'hold-id' });
  private readonly timer = h('span', { role: 'timer', class: 'time' });
  private readonly countdownLine = h('p', { class: 'countdown' }, 'Held for ', this.timer);
  private readonly extendButton = h('button', { type: 'button', class: 'secondary' }, `Extend by ${EXTEND_SECONDS / 60} minutes`);
  private readonly releaseButton = h('button', { type: 'button', class: 'secondary' }, 'Release seats');
  private readonly payButton = h('button', { type: 'button', class: 'buy' });
  private readonly checkButton = h('button', { type: 'button', class: 'secondary' }, 'Check payment');
  private readonly choices: HTMLFieldSetElement;
  private readonly pendingNote = h('p', { class: 'pending-note' });
  private readonly status = h('p', { class: 'status', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert' });
  private readonly countdown = new Countdown(
    (left) => setText(this.timer, formatRemaining(left)),
    () => this.expired(),
    (s) => this.say(s >= 60 ? `${plural(s / 60, 'minute')} left on your hold.` : `${s} seconds left on your hold.`),
  );

  constructor(private readonly host: HoldPanelHost) {
    this.choices = h(
      'fieldset',
      { class: 'test-payment' },
      h('legend', {}, 'Test payment'),
      h('p', { class: 'help' }, 'No real money: the API’s built-in test provider answers as its token says.'),
      ...TEST_TOKENS.map((t) => {
        const id = `token-${t.token}`;
        const input = h('input', { type: 'radio', name: 'test-token', value: t.token, id, 'aria-describedby': `${id}-detail` });
        input.checked = t.token === this.token;
        input.addEventListener('change', () => input.checked && (this.token = t.token));
        return h(
          'div',
          { class: 'choice' },
          input,
          h('label', { for: id }, `${t.label} `, h('code', {}, t.token)),
          h('p', { class: 'help', id: `${id}-detail` }, t.detail),
        );
      }),
    );
    this.extendButton.addEventListener('click', () => void this.extend());
    this.releaseButton.addEventListener('click', () => void this.release());
    this.payButton.addEventListener('click', () => void this.pay());
    this.checkButton.addEventListener('click', () => void this.checkPending());
    this.element.append(
      h('h2', { id: 'hold-heading' }, 'Your hold'),
      this.seats,
      h('p', { class: 'meta' }, 'Hold ', this.holdId),
      this.countdownLine,
      h('div', { class: 'actions' }, this.extendButton, this.releaseButton),
      this.choices,
      h('div', { class: 'actions' }, this.payButton),
      this.pendingNote,
      h('div', { class: 'actions' }, this.checkButton),
      this.status,
      this.alert,
    );
  }

  /** The hold on show while it can still be paid. */
  get active(): HoldAnswer | undefined {
    return this.phase === 'ended' ? undefined : this.hold;
  }

  show(hold: HoldAnswer): void {
    this.hold = hold;
    this.pending = undefined;
    this.retry = undefined;
    this.phase = 'held';
    const names = hold.seats.map((s) => seatName(s.row, s.column)).join(' and ');
    setText(
      this.seats,
      `${plural(hold.seats.length, 'seat')}: ${names} · ${money(hold.amountCents, hold.currency)}${hold.nextToEachOther ? '' : ' (not next to each other)'}`,
    );
    setText(this.holdId, hold.holdId);
    setText(this.payButton, `Pay ${money(hold.amountCents, hold.currency)}`);
    this.setAlert('');
    this.countdown.start(Date.parse(hold.expiresAt));
    this.element.hidden = false;
    this.paint();
  }

  /** Stops the countdown and hides the panel (the page is leaving, or the hold was paid or released). */
  close(): void {
    this.countdown.stop();
    this.phase = 'ended';
    this.hold = undefined;
    this.element.hidden = true;
  }

  private async extend(): Promise<void> {
    const hold = this.hold;
    if (!hold || this.phase !== 'held') return;
    try {
      const next = await checkoutApi.extend(hold.holdId, EXTEND_SECONDS);
      if (this.hold?.holdId !== hold.holdId) return;
      this.hold = next;
      this.countdown.start(Date.parse(next.expiresAt));
      this.setAlert('');
      this.say(`Extended: your seats are held for ${formatRemaining(Date.parse(next.expiresAt) - Date.now())} more.`);
    } catch (err) {
      const p = asProblem(err);
      if (p.code === 'HOLD_LIMIT_REACHED')
        return this.setAlert(
          `This hold cannot be extended further: a hold lives until ${new Date(hold.maxExpiresAt).toLocaleTimeString()} at most. Pay before the countdown ends.`,
        );
      if (p.code === 'HOLD_EXPIRED' || p.code === 'HOLD_NOT_ACTIVE') return this.endWith(`${p.message}. Hold the seats again to buy them.`);
      this.setAlert(`${p.message}. The hold is unchanged; try Extend again.`);
    }
  }

  private async release(): Promise<void> {
    const hold = this.hold;
    if (!hold || this.phase !== 'held') return;
    try {
      await checkoutApi.release(hold.holdId);
      this.close();
      this.host.released(hold);
      this.host.say(`Released ${plural(hold.seats.length, 'seat')}: they are on sale again.`);
    } catch (err) {
      const p = asProblem(err);
      if (p.code === 'HOLD_EXPIRED' || p.code === 'HOLD_NOT_ACTIVE') return this.endWith(`${p.message}.`);
      this.setAlert(`${p.message}. The seats are still held; try Release again.`);
    }
  }

  private async pay(): Promise<void> {
    const hold = this.hold;
    if (!hold || this.phase !== 'held') return;
    const token = this.token;
    const key = this.retry?.token === token ? this.retry.key : `web-pay-${randomId(12)}`;
    this.retry = undefined;
    this.phase = 'paying';
    this.setAlert('');
    this.paint();
    try {
      const answer = await checkoutApi.pay(hold.holdId, token, key);
      if (isPending(answer)) {
        this.pending = answer;
        this.phase = 'pending';
        setText(
          this.pendingNote,
          `Payment pending (purchase ${answer.purchaseId}). It completes when the payment provider confirms it (its webhook); your seats stay held meanwhile. Press Check payment to see where it stands.`,
        );
        this.say('Payment pending: waiting for the payment provider.');
        return;
      }
      this.close();
      this.host.paid(hold, answer);
    } catch (err) {
      this.phase = 'held';
      this.payFailed(asProblem(err), key, token);
    } finally {
      this.paint();
    }
  }

  private payFailed(p: ApiProblem, key: string, token: TestToken): void {
    switch (p.code) {
      case 'PAYMENT_DECLINED': {
        const why = typeof p.body.declineCode === 'string' ? ` (${p.body.declineCode})` : '';
        return this.setAlert(
          `Payment declined${why}: nothing was charged. Your seats are still held until the countdown ends; choose another test payment and press Pay again.`,
        );
      }
      case 'HOLD_EXPIRED':
      case 'HOLD_NOT_ACTIVE':
        return this.endWith(`${p.message}. Nothing was charged; hold the seats again to buy them.`);
      case 'PAYMENT_REFUNDED':
        return this.endWith(`${p.message}. The payment came too late for these seats and was refunded.`);
      case 'PURCHASE_OUTCOME_UNKNOWN':
      case 'IDEMPOTENCY_IN_FLIGHT':
      case 'NETWORK':
        this.retry = { key, token };
        return this.setAlert(
          `${p.message}. We could not confirm the payment. Press Pay again to find out: the same request cannot charge or sell twice.`,
        );
      default:
        if (p.status >= 500 || p.status === 0) this.retry = { key, token };
        this.setAlert(`${p.message}. ${p.status >= 500 ? 'Nothing was sold; press Pay again in a moment.' : 'Nothing was sold.'}`);
    }
  }

  private async checkPending(): Promise<void> {
    const hold = this.hold;
    const pending = this.pending;
    if (!hold || !pending || this.phase !== 'pending') return;
    try {
      const p = await checkoutApi.purchase(pending.purchaseId);
      switch (p.status) {
        case 'CONFIRMED':
          this.close();
          return this.host.paid(hold, p);
        case 'PAYMENT_FAILED':
        case 'PAYMENT_DECLINED':
          this.phase = 'held';
          this.pending = undefined;
          setText(this.pendingNote, '');
          this.paint();
          return this.setAlert(
            'The payment failed: nothing was charged. Your seats are still held; choose a test payment and press Pay again.',
          );
        case 'REFUNDED':
          return this.endWith('The payment completed after the hold ended and the seats were gone, so it was refunded.');
        default:
          return this.say(
            `Still ${p.status === 'PENDING' ? 'being confirmed' : 'waiting for the payment provider'}; check again in a moment.`,
          );
      }
    } catch (err) {
      this.setAlert(`${asProblem(err).message}. Press Check payment again in a moment.`);
    }
  }

  private expired(): void {
    if (this.phase === 'pending') return this.say('The hold’s time is up; the pending payment still decides whether the seats are yours.');
    this.endWith('Your hold expired: the seats are back on sale. Hold them again to buy them.');
  }

  /** The hold can no longer be paid: say why, keep the panel (the message stays readable), tell the page. */
  private endWith(text: string): void {
    const hold = this.hold;
    this.countdown.stop();
    setText(this.timer, formatRemaining(0));
    this.phase = 'ended';
    this.setAlert(text);
    this.paint();
    if (hold) this.host.ended(hold);
  }

  private paint(): void {
    const can = (el: HTMLElement, ok: boolean) => (ok ? el.removeAttribute('aria-disabled') : el.setAttribute('aria-disabled', 'true'));
    const held = this.phase === 'held';
    can(this.extendButton, held);
    can(this.releaseButton, held);
    can(this.payButton, held);
    this.choices.disabled = !held;
    if (this.phase === 'paying') this.payButton.setAttribute('aria-busy', 'true');
    else this.payButton.removeAttribute('aria-busy');
    this.checkButton.hidden = this.phase !== 'pending';
    this.pendingNote.hidden = this.phase !== 'pending';
  }

  private say(text: string): void {
    this.status.textContent = '';
    requestAnimationFrame(() => (this.status.textContent = text));
  }

  private setAlert(text: string): void {
    this.alert.textContent = text;
    this.alert.classList.toggle('shown', text !== '');
  }
}

export const asProblem = (err: unknown): ApiProblem => (err instanceof ApiProblem ? err : new ApiProblem(0, 'NETWORK', String(err)));
