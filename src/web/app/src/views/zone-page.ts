import { api, ApiProblem, type EventDetail, type Purchase, type Seat, type SeatMap } from '../api';
import { buyerId } from '../buyer';
import { identity } from '../checkout/identity';
import { admissions } from '../admission/admission-store';
import { ZoneCheckout, type ZoneBoard } from '../checkout/zone-checkout';
import { h, nextPaint, setText } from '../dom';
import { count, money, plural, seatName } from '../format';
import { randomId } from '../ids';
import { failure, heading, loading } from '../page';
import { perf } from '../perf';
import { poll } from '../poll';
import { href } from '../router';
import { SeatGrid } from '../seat-grid';
import { openSeatStream } from '../seat-stream';
import { ZoneState, type Merge, type SnapshotResult } from '../zone-state';

/** The seat map is polled at most this far apart (the issue asks for ≤ 1 s). */
const LIVE_EVERY_MS = 1000;
/** How old a stream snapshot may be (the server's coalescing and read intervals, with margin). */
const STREAM_SNAPSHOT_AGE_MS = 1000;
/** After this page's own action, one seat-map read this much later settles what the stream cannot name (paintCounts). */
const RECONCILE_AFTER_MS = 1500;

/** A zone's seat grid with live availability, seat selection, buying, and the checkout (hold, pay, cancel). */
export async function zoneView(root: HTMLElement, signal: AbortSignal, eventId: string, zoneId: string): Promise<void> {
  const opened = performance.now();
  root.replaceChildren(loading(`zone ${zoneId}`));
  let ev: EventDetail;
  let map: SeatMap;
  let fetchMs: number;
  try {
    const f0 = performance.now();
    [ev, map] = await Promise.all([api.event(eventId, signal), api.seats(eventId, zoneId, signal)]);
    fetchMs = performance.now() - f0;
  } catch (err) {
    if (!signal.aborted) root.replaceChildren(failure(err, `zone ${zoneId} of event ${eventId}`));
    return;
  }
  if (signal.aborted) return;
  const session = new ZoneSession(root, ev, map);
  const b0 = performance.now();
  session.render();
  const buildMs = performance.now() - b0;
  await nextPaint();
  if (signal.aborted) return;
  perf.recordLoad({ zoneId, seats: map.capacity, fetchMs, buildMs, firstRenderMs: performance.now() - opened });
  session.startLive(signal);
  session.startCheckout(signal);
}

/** The zone page's DOM and requests; every decision about seats, counts and selection is the ZoneState's. */
class ZoneSession implements ZoneBoard {
  readonly state: ZoneState;
  private readonly checkout: ZoneCheckout;
  private grid!: SeatGrid;
  /** After an unknown outcome the same seats are retried with the same key, so they are never bought twice. */
  private retry?: { key: string; seats: string };
  private readonly zoneName: string;
  private live?: AbortSignal;
  private reconcileTimer?: ReturnType<typeof setTimeout>;
  private readonly priceCents: number;

  private readonly gridSlot = h('div', { class: 'grid-slot' });
  private readonly avail = h('span', { class: 'zone-avail' });
  private readonly liveNote = h('span', { class: 'live-note' }, 'Live');
  private readonly selection = h('p', { class: 'selection' });
  private readonly buyButton = h('button', { type: 'button', class: 'buy' });
  private readonly clearButton = h('button', { type: 'button', class: 'secondary' }, 'Clear selection');
  private readonly status = h('p', { class: 'status', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert' });
  private readonly confirmation = h('div', { class: 'confirmation' });

  constructor(
    private readonly root: HTMLElement,
    private readonly ev: EventDetail,
    private map: SeatMap,
  ) {
    this.state = new ZoneState(map, ev.perUserLimit);
    this.zoneName = map.name;
    this.priceCents = map.priceCents;
    this.buyButton.addEventListener('click', () => void this.buy());
    this.clearButton.addEventListener('click', () => this.clearSelection());
    this.checkout = new ZoneCheckout(this);
  }

  get eventId(): string {
    return this.ev.eventId;
  }

  get zoneId(): string {
    return this.map.zoneId;
  }

  get currency(): string {
    return this.ev.currency;
  }

  render(): void {
    const { ev, map } = this;
    const switcher = h(
      'select',
      { id: 'zone-switch' },
      ...ev.zones.map((z) => {
        const o = h('option', { value: z.zoneId }, z.name);
        o.selected = z.zoneId === map.zoneId;
        return o;
      }),
    );
    switcher.addEventListener('change', () => (location.hash = href.zone(ev.eventId, switcher.value)));
    this.buildGrid();
    this.paintAvailability();
    this.paintSelection();
    this.root.replaceChildren(
      h(
        'nav',
        { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
        h('a', { href: href.events() }, 'Events'),
        ' › ',
        h('a', { href: href.event(ev.eventId) }, ev.name),
        ' › ',
        h('span', { 'aria-current': 'page' }, map.name),
      ),
      h(
        'div',
        { class: 'zone-head' },
        heading(map.name),
        h('p', { class: 'field' }, h('label', { for: 'zone-switch' }, 'Switch zone'), ' ', switcher),
      ),
      h(
        'p',
        { class: 'meta' },
        h('a', { href: href.event(ev.eventId) }, ev.name),
        ' ',
        h('code', {}, ev.eventId),
        ' at ',
        h('a', { href: href.venue(ev.venue.venueId) }, ev.venue.name),
        ` · ${money(map.priceCents, ev.currency)} per seat`,
      ),
      h('p', { class: 'meta live' }, this.avail, ' ', this.liveNote),
      h(
        'div',
        { class: 'zone-layout' },
        h(
          'div',
          { class: 'grid-column' },
          h(
            'p',
            { id: 'seat-help', class: 'help' },
            `Select up to ${this.state.limit} seats. Tab into the seat map, move with the arrow keys (Home/End, Page Up/Down), select with Enter or Space. Buy them at once, or Hold them and pay before the countdown ends.`,
          ),
          legend(),
          h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
          this.gridSlot,
        ),
        // On phones the column is `display: contents`: the buy panel is then a sibling of the
        // grid, so it can stick to the bottom while the seats scroll.
        h(
          'div',
          { class: 'panel-column' },
          h(
            'section',
            { class: 'buy-panel', 'aria-label': 'Your selection' },
            this.selection,
            h('div', { class: 'actions' }, this.buyButton, this.checkout.holdButton, this.clearButton),
            this.status,
            this.alert,
          ),
          // Outside the buy panel, which sticks to the bottom on phones: it stays small there.
          h('section', { class: 'panel find-panel', 'aria-label': 'Best available' }, this.checkout.findForm),
          this.checkout.holdPanel.element,
          this.confirmation,
          this.checkout.purchases.element,
        ),
      ),
    );
  }

  private buildGrid(): void {
    const { state } = this;
    this.grid = new SeatGrid(
      state.layout,
      (k) => state.lookOf(k),
      state.rowAvailable,
      `Seats of ${this.map.name}`,
      (k) => this.toggle(k),
    );
    this.gridSlot.replaceChildren(this.grid.element);
  }

  /**
   * Live updates from the zone change stream (EventSource); while it is down or refused, polling
   * every second, as before the stream existed.
   */
  startLive(signal: AbortSignal): void {
    this.live = signal;
    let stopPolling: (() => void) | undefined;
    const startPolling = () => {
      stopPolling ??= poll((sig, startedAt) => this.refresh(sig, startedAt), {
        everyMs: LIVE_EVERY_MS,
        onError: (err) => setText(this.liveNote, `Live updates paused (${err instanceof Error ? err.message : String(err)}); retrying`),
        onRecover: () => setText(this.liveNote, 'Live (polling)'),
      });
      setText(this.liveNote, 'Live (polling)');
    };
    if (typeof EventSource === 'undefined') {
      startPolling();
      return void signal.addEventListener('abort', () => stopPolling?.(), { once: true });
    }
    const closeStream = openSeatStream(api.seatStreamUrl(this.ev.eventId, this.map.zoneId), {
      // A stream snapshot is up to a coalescing interval old: what the page learned in the last second wins.
      snapshot: (map) => this.merge(map, this.state.applyStreamSnapshot(map, map.seq, performance.now() - STREAM_SNAPSHOT_AGE_MS)),
      change: (change) => {
        const got = performance.now();
        const merged = this.state.applyChange(change, got);
        this.showMerge(merged);
        const timing = {
          zoneId: this.map.zoneId,
          seats: this.map.capacity,
          changed: merged.changed.length,
          fetchMs: 0,
          applyMs: performance.now() - got,
        };
        perf.recordUpdate(timing);
        void nextPaint().then(() => Object.assign(timing, { paintedMs: performance.now() - got }));
      },
      up: () => {
        stopPolling?.();
        stopPolling = undefined;
        setText(this.liveNote, 'Live');
      },
      down: startPolling,
    });
    signal.addEventListener(
      'abort',
      () => {
        closeStream();
        stopPolling?.();
      },
      { once: true },
    );
  }

  startCheckout(signal: AbortSignal): void {
    void this.checkout.start(signal);
    signal.addEventListener('abort', () => this.checkout.stop(), { once: true });
  }

  /** One live update: fetch the seat map, merge it into the state, redraw only the changed seats. */
  private async refresh(signal: AbortSignal, startedAt: number): Promise<void> {
    const next = await api.seats(this.ev.eventId, this.map.zoneId, signal);
    const got = performance.now();
    const changed = this.merge(next, this.state.applySnapshot(next, startedAt));
    if (changed === undefined) return;
    const timing = { zoneId: next.zoneId, seats: next.capacity, changed, fetchMs: got - startedAt, applyMs: performance.now() - got };
    perf.recordUpdate(timing);
    if (changed > 0) void nextPaint().then(() => Object.assign(timing, { paintedMs: performance.now() - got }));
  }

  /** Shows a snapshot's merge (polled or streamed); the seats changed, or undefined when the grid was rebuilt. */
  private merge(next: SeatMap, merged: SnapshotResult): number | undefined {
    if (merged.relaid) {
      this.map = next;
      this.buildGrid();
      this.paintAvailability();
      this.paintSelection();
      this.say('The zone layout changed, so the seat map was redrawn and your selection cleared.');
      return undefined;
    }
    this.showMerge(merged);
    return merged.changed.length;
  }

  /** Shows what a merge changed; a live change source (ZoneState.applyChange) would come through here too. */
  private showMerge({ changed, lost }: Merge): void {
    this.redraw(changed);
    this.paintFigures();
    if (lost.length > 0) {
      this.paintSelection();
      this.warnLost(lost);
    }
  }

  private toggle(k: number): void {
    const r = this.state.toggle(k);
    if (!r.ok) {
      switch (r.reason) {
        case 'busy':
          return this.say('Wait for the current purchase to finish.');
        case 'sold':
          return this.say(`${this.names([k])} is sold; pick a free seat.`);
        case 'held':
          return this.say(
            this.state.lookOf(k).mark === 'mine'
              ? `${this.names([k])} is in your hold; pay for it or release it below.`
              : `${this.names([k])} is held by another buyer; pick a free seat.`,
          );
        case 'limit':
          return this.say(`You can buy up to ${this.state.limit} seats at once; deselect one first.`);
      }
    }
    this.status.textContent = '';
    this.redraw([k]);
    this.paintSelection();
  }

  private clearSelection(): void {
    this.redraw(this.state.clearSelection());
    this.paintSelection();
  }

  private async buy(): Promise<void> {
    const start = this.state.startPurchase();
    if (!start.ok) return start.reason === 'empty' ? this.say('Select at least one seat first.') : undefined;
    const { picked } = start;
    const seats: Seat[] = picked.map((k) => {
      const { row, column } = this.state.layout.seatAt(k);
      return { row, column };
    });
    const fingerprint = JSON.stringify(seats);
    const key = this.retry?.seats === fingerprint ? this.retry.key : `web-${randomId(12)}`;
    this.retry = undefined;
    this.setAlert('');
    this.paintSelection();
    try {
      const userId = identity.buyer() ?? buyerId();
      const purchase = await api.purchase(
        this.ev.eventId,
        { userId, zoneId: this.map.zoneId, seats },
        key,
        // A queued event's purchase carries the admission (docs/admission.md); buying ends it.
        { ...identity.headers(), ...admissions.headers(this.ev.eventId) },
      );
      admissions.ended(this.ev.eventId, 'purchased');
      this.redraw(this.state.purchased(picked, performance.now()));
      this.paintCounts();
      this.showConfirmation(purchase);
      this.say(`Purchase confirmed: ${plural(purchase.tickets.length, 'ticket')}.`);
    } catch (err) {
      this.failed(err, picked, key, fingerprint);
    } finally {
      this.state.finishPurchase();
      this.paintSelection();
    }
  }

  private failed(err: unknown, picked: number[], key: string, fingerprint: string): void {
    const p = err instanceof ApiProblem ? err : new ApiProblem(0, 'NETWORK', String(err));
    switch (p.code) {
      case 'SEATS_TAKEN': {
        const taken = this.state.seatsTaken((p.body.seats as Seat[] | undefined) ?? [], performance.now());
        this.redraw(taken);
        this.paintCounts();
        const still = picked.length - taken.length;
        const one = taken.length === 1;
        return this.warn(
          `Sorry, ${taken.length > 0 ? this.names(taken) : 'a seat you picked'} ${one ? 'was' : 'were'} just taken by someone else (now marked). Nothing was bought. ` +
            (still === 0
              ? 'Pick other seats and press Buy again.'
              : `Your other ${still === 1 ? 'seat is' : `${still} seats are`} still selected: press Buy again or add a replacement.`),
        );
      }
      case 'TOO_MANY_SEATS': {
        this.state.adoptLimit(Number(p.body.limit));
        return this.warn(`${p.message}. Nothing was bought; deselect some seats and press Buy again.`);
      }
      case 'ZONE_SOLD_OUT':
        return this.warn('This zone has just sold out. Nothing was bought; try another zone.');
      case 'ADMISSION_REQUIRED':
        admissions.ended(this.ev.eventId, 'refused');
        return this.warn(`${p.message}. Nothing was bought.`);
      case 'EVENT_NOT_ON_SALE':
      case 'SALES_WINDOW_CLOSED':
        return this.warn(`${p.message}. Nothing was bought; seats can be bought only while the event is on sale.`);
      case 'IDEMPOTENCY_IN_FLIGHT':
      case 'PURCHASE_OUTCOME_UNKNOWN':
      case 'NETWORK':
        this.retry = { key, seats: fingerprint };
        return this.warn(
          `${p.message}. We could not confirm whether your seats were bought. Press Buy again to find out: the same request cannot buy them twice.`,
        );
      default:
        if (p.status >= 500 || p.status === 0) this.retry = { key, seats: fingerprint };
        return this.warn(`${p.message}. ${p.status >= 500 ? 'Nothing was bought; press Buy again in a moment.' : 'Nothing was bought.'}`);
    }
  }

  /** The confirmation on show goes once its purchase is cancelled. */
  purchaseCancelled(purchaseId: string): void {
    if (this.confirmation.querySelector('.purchase-id')?.textContent === purchaseId) this.confirmation.replaceChildren();
  }

  nameOfZone(zoneId: string): string | undefined {
    return this.ev.zones.find((z) => z.zoneId === zoneId)?.name;
  }

  showConfirmation(p: Purchase): void {
    const total = p.tickets.reduce((s, t) => s + t.priceCents, 0);
    const panel = h(
      'section',
      { class: 'panel confirm', 'aria-labelledby': 'confirm-heading' },
      h('h2', { id: 'confirm-heading' }, 'Purchase confirmed'),
      h(
        'p',
        {},
        'Purchase ',
        h('code', { class: 'purchase-id' }, p.purchaseId),
        ` · ${plural(p.tickets.length, 'ticket')} · ${money(total, this.ev.currency)}`,
      ),
      h(
        'ul',
        { class: 'tickets', 'aria-label': 'Your tickets' },
        ...p.tickets.map((t) => h('li', {}, `${seatName(t.row, t.column)}: ticket `, h('code', { class: 'ticket-id' }, t.ticketId))),
      ),
    );
    this.confirmation.replaceChildren(panel);
    panel.scrollIntoView({ block: 'nearest' });
  }

  redraw(ks: readonly number[]): void {
    for (const k of ks) this.grid.draw(k, this.state.lookOf(k));
  }

  /**
   * The row and zone figures after this page's own action moved the state (a purchase, hold,
   * release or cancel answer). The change stream names only seats whose server state changed
   * between two of its pictures, so a seat this page set from an answer, that changed again on the
   * server within one coalescing interval, would never be corrected: one seat-map read a little
   * later settles it (the polling merge rule: what the page learned after that read started wins).
   */
  paintCounts(): void {
    this.paintFigures();
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => {
      if (this.live?.aborted) return;
      void this.refresh(this.live ?? new AbortController().signal, performance.now()).catch(() => undefined);
    }, RECONCILE_AFTER_MS);
  }

  private paintFigures(): void {
    this.grid.setRowAvailable(this.state.rowAvailable);
    this.paintAvailability();
  }

  private paintAvailability(): void {
    const { available, capacity } = this.state;
    setText(
      this.avail,
      available === 0 ? `Sold out: all ${count(capacity)} seats sold` : `${count(available)} of ${count(capacity)} seats available`,
    );
  }

  paintSelection(): void {
    const { busy } = this.state;
    const holding = this.checkout.busy;
    const picked = this.state.selection;
    const n = picked.length;
    setText(
      this.selection,
      n === 0
        ? `No seats selected. Pick up to ${this.state.limit} seats of ${this.zoneName}.`
        : `${plural(n, 'seat')} selected: ${this.names(picked, true)} · ${money(n * this.priceCents, this.ev.currency)}`,
    );
    const label = busy && !holding ? `Buying ${plural(n, 'seat')}…` : n === 0 ? 'Buy seats' : `Buy ${plural(n, 'seat')}`;
    setText(this.buyButton, label);
    if (busy || n === 0) this.buyButton.setAttribute('aria-disabled', 'true');
    else this.buyButton.removeAttribute('aria-disabled');
    if (busy && !holding) this.buyButton.setAttribute('aria-busy', 'true');
    else this.buyButton.removeAttribute('aria-busy');
    if (busy || n === 0) this.clearButton.setAttribute('aria-disabled', 'true');
    else this.clearButton.removeAttribute('aria-disabled');
    this.checkout.paint(n, busy);
  }

  /** Seats lost from the selection to another buyer's sale (or hold), named in one alert. */
  private warnLost(lost: number[]): void {
    const sold = lost.filter((k) => this.state.statusOf(k) === 'sold');
    const held = lost.filter((k) => this.state.statusOf(k) === 'held');
    const say = (ks: number[], what: string) =>
      `${this.names(ks)} ${ks.length === 1 ? 'was' : 'were'} just ${what} and removed from your selection.`;
    this.warn(
      [sold.length > 0 ? say(sold, 'sold to someone else') : '', held.length > 0 ? say(held, 'held by another buyer') : '']
        .filter(Boolean)
        .join(' '),
    );
  }

  names(ks: number[], short = false): string {
    return ks
      .map((k) => {
        const { row, column } = this.state.layout.seatAt(k);
        return short ? `${row}${column}` : seatName(row, column);
      })
      .join(short ? ', ' : ' and ');
  }

  say(text: string): void {
    // Clearing first makes a repeated message announce again.
    this.status.textContent = '';
    requestAnimationFrame(() => (this.status.textContent = text));
  }

  warn(text: string): void {
    this.setAlert(text);
  }

  private setAlert(text: string): void {
    this.alert.textContent = text;
    this.alert.classList.toggle('shown', text !== '');
  }
}

function legend(): HTMLElement {
  const item = (cls: string, text: string) => h('li', {}, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    item('free', 'Free'),
    item('selected', 'Selected'),
    item('sold', 'Sold'),
    item('held', 'Held (checkout in progress)'),
    item('held mine', 'Held for you'),
    item('mine', 'Yours'),
    item('taken', 'Just taken'),
  );
}
