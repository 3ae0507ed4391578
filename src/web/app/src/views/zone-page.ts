import { api, ApiProblem, type EventDetail, type Purchase, type Seat, type SeatMap } from '../api';
import { buyerId } from '../buyer';
import { h, nextPaint, setText } from '../dom';
import { count, money, plural, seatName } from '../format';
import { randomId } from '../ids';
import { failure, heading, loading } from '../page';
import { perf } from '../perf';
import { poll } from '../poll';
import { href } from '../router';
import { decodeBitmap, SeatLayout, setSold } from '../seat-bits';
import { SeatGrid } from '../seat-grid';

/** The seat map is polled at most this far apart (the issue asks for ≤ 1 s). */
const LIVE_EVERY_MS = 1000;

/** A zone's seat grid with live availability, seat selection and buying. */
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
}

class ZoneSession {
  private layout: SeatLayout;
  private grid!: SeatGrid;
  private readonly selected = new Set<number>();
  /** Seats this page knows are sold before a poll can say so: seat → when we learned it. */
  private readonly knownSold = new Map<number, number>();
  private lastLearnedAt = 0;
  private limit: number;
  private busy = false;
  /** After an unknown outcome the same seats are retried with the same key, so they are never bought twice. */
  private retry?: { key: string; seats: string };
  private readonly zoneName: string;
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
    this.layout = new SeatLayout(map.rows, map.seatCounts);
    this.limit = ev.perUserLimit;
    this.zoneName = map.name;
    this.priceCents = map.priceCents;
    this.buyButton.addEventListener('click', () => void this.buy());
    this.clearButton.addEventListener('click', () => this.clearSelection());
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
        h('a', { href: href.event(ev.eventId) }, ev.name), ' ', h('code', {}, ev.eventId),
        ' at ', h('a', { href: href.venue(ev.venue.venueId) }, ev.venue.name),
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
            `Select up to ${this.limit} seats. Tab into the seat map, move with the arrow keys (Home/End, Page Up/Down), select with Enter or Space.`,
          ),
          legend(),
          h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
          this.gridSlot,
        ),
        // A sibling of the grid, so on phones it can stick to the bottom while the seats scroll.
        h(
          'section',
          { class: 'buy-panel', 'aria-label': 'Your selection' },
          this.selection,
          h('div', { class: 'actions' }, this.buyButton, this.clearButton),
          this.status,
          this.alert,
        ),
        this.confirmation,
      ),
    );
  }

  private buildGrid(): void {
    const sold = decodeBitmap(this.map.sold.data, this.map.capacity);
    this.grid = new SeatGrid(this.layout, sold, this.map.rowAvailable, `Seats of ${this.map.name}`, (k) => this.toggle(k));
    this.gridSlot.replaceChildren(this.grid.element);
  }

  startLive(signal: AbortSignal): void {
    const stop = poll((sig, startedAt) => this.refresh(sig, startedAt), {
      everyMs: LIVE_EVERY_MS,
      onError: (err) => setText(this.liveNote, `Live updates paused (${err instanceof Error ? err.message : String(err)}); retrying`),
      onRecover: () => setText(this.liveNote, 'Live'),
    });
    signal.addEventListener('abort', stop, { once: true });
  }

  /** One live update: fetch the bitmap, diff it against the grid, touch only the changed seats. */
  private async refresh(signal: AbortSignal, startedAt: number): Promise<void> {
    const next = await api.seats(this.ev.eventId, this.map.zoneId, signal);
    const got = performance.now();
    if (!this.layout.sameAs(next.rows, next.seatCounts)) {
      this.map = next;
      this.layout = new SeatLayout(next.rows, next.seatCounts);
      this.selected.clear();
      this.knownSold.clear();
      this.buildGrid();
      this.paintAvailability();
      this.paintSelection();
      this.say('The zone layout changed, so the seat map was redrawn and your selection cleared.');
      return;
    }
    // An answer started before this page's last sale keeps the page's (newer) counts.
    if (startedAt >= this.lastLearnedAt) this.map = next;
    const bits = decodeBitmap(next.sold.data, next.capacity);
    for (const [k, learnedAt] of this.knownSold) {
      // An answer older than what this page learned must not flip a just-bought seat back to free.
      if (startedAt < learnedAt) setSold(bits, k, true);
      else this.knownSold.delete(k);
    }
    const changed = this.grid.applySold(bits);
    this.grid.setRowAvailable(this.map.rowAvailable);
    this.paintAvailability();
    // While a purchase is in flight its own seats may show sold already; its answer settles them.
    const lost = this.busy ? [] : changed.filter((k) => this.selected.has(k) && this.grid.isSold(k));
    if (lost.length > 0) {
      for (const k of lost) this.unselect(k);
      this.paintSelection();
      this.warn(`${this.names(lost)} ${lost.length === 1 ? 'was' : 'were'} just sold to someone else and removed from your selection.`);
    }
    const timing = { zoneId: next.zoneId, seats: next.capacity, changed: changed.length, fetchMs: got - startedAt, applyMs: performance.now() - got };
    perf.recordUpdate(timing);
    if (changed.length > 0) void nextPaint().then(() => Object.assign(timing, { paintedMs: performance.now() - got }));
  }

  private toggle(k: number): void {
    if (this.busy) return this.say('Wait for the current purchase to finish.');
    const { row, column } = this.layout.seatAt(k);
    if (this.grid.isSold(k)) return this.say(`${seatName(row, column)} is sold; pick a free seat.`);
    this.status.textContent = '';
    if (this.selected.has(k)) {
      this.unselect(k);
    } else {
      if (this.selected.size >= this.limit) return this.say(`You can buy up to ${this.limit} seats at once; deselect one first.`);
      this.selected.add(k);
      this.grid.setSelected(k, true);
    }
    this.paintSelection();
  }

  private unselect(k: number): void {
    this.selected.delete(k);
    this.grid.setSelected(k, false);
  }

  private clearSelection(): void {
    if (this.busy) return;
    for (const k of [...this.selected]) this.unselect(k);
    this.paintSelection();
  }

  private async buy(): Promise<void> {
    if (this.busy) return;
    if (this.selected.size === 0) return this.say('Select at least one seat first.');
    const picked = [...this.selected].sort((a, b) => a - b);
    const seats: Seat[] = picked.map((k) => {
      const { row, column } = this.layout.seatAt(k);
      return { row, column };
    });
    const fingerprint = JSON.stringify(seats);
    const key = this.retry?.seats === fingerprint ? this.retry.key : `web-${randomId(12)}`;
    this.retry = undefined;
    this.busy = true;
    this.setAlert('');
    this.paintSelection();
    try {
      const purchase = await api.purchase(this.ev.eventId, { userId: buyerId(), zoneId: this.map.zoneId, seats }, key);
      const learnedAt = performance.now();
      for (const k of picked) {
        this.selected.delete(k);
        this.grid.setSelected(k, false);
        this.grid.mark(k, 'mine');
        this.knownSold.set(k, learnedAt);
      }
      this.countSold(picked);
      this.showConfirmation(purchase);
      this.say(`Purchase confirmed: ${plural(purchase.tickets.length, 'ticket')}.`);
    } catch (err) {
      this.failed(err, picked, key, fingerprint);
    } finally {
      this.busy = false;
      this.paintSelection();
    }
  }

  private failed(err: unknown, picked: number[], key: string, fingerprint: string): void {
    const p = err instanceof ApiProblem ? err : new ApiProblem(0, 'NETWORK', String(err));
    switch (p.code) {
      case 'SEATS_TAKEN': {
        const learnedAt = performance.now();
        const taken = ((p.body.seats as Seat[] | undefined) ?? [])
          .map((s) => this.layout.indexOf(s.row, Number(s.column)))
          .filter((k): k is number => k !== undefined);
        const fresh = taken.filter((k) => !this.grid.isSold(k));
        for (const k of taken) {
          this.unselect(k);
          this.grid.mark(k, 'taken');
          this.knownSold.set(k, learnedAt);
        }
        this.countSold(fresh);
        const still = picked.length - taken.length;
        const one = taken.length === 1;
        return this.warn(
          `Sorry, ${taken.length > 0 ? this.names(taken) : 'a seat you picked'} ${one ? 'was' : 'were'} just taken by someone else (now marked). Nothing was bought. ` +
            (still === 0 ? 'Pick other seats and press Buy again.' : `Your other ${still === 1 ? 'seat is' : `${still} seats are`} still selected: press Buy again or add a replacement.`),
        );
      }
      case 'TOO_MANY_SEATS': {
        const limit = Number(p.body.limit);
        if (Number.isInteger(limit) && limit > 0) this.limit = limit;
        return this.warn(`${p.message}. Nothing was bought; deselect some seats and press Buy again.`);
      }
      case 'ZONE_SOLD_OUT':
        return this.warn('This zone has just sold out. Nothing was bought; try another zone.');
      case 'EVENT_NOT_ON_SALE':
      case 'SALES_WINDOW_CLOSED':
        return this.warn(`${p.message}. Nothing was bought; seats can be bought only while the event is on sale.`);
      case 'IDEMPOTENCY_IN_FLIGHT':
      case 'PURCHASE_OUTCOME_UNKNOWN':
      case 'NETWORK':
        this.retry = { key, seats: fingerprint };
        return this.warn(`${p.message}. We could not confirm whether your seats were bought. Press Buy again to find out: the same request cannot buy them twice.`);
      default:
        if (p.status >= 500 || p.status === 0) this.retry = { key, seats: fingerprint };
        return this.warn(`${p.message}. ${p.status >= 500 ? 'Nothing was bought; press Buy again in a moment.' : 'Nothing was bought.'}`);
    }
  }

  private showConfirmation(p: Purchase): void {
    const total = p.tickets.reduce((s, t) => s + t.priceCents, 0);
    const panel = h(
      'section',
      { class: 'panel confirm', 'aria-labelledby': 'confirm-heading' },
      h('h2', { id: 'confirm-heading' }, 'Purchase confirmed'),
      h('p', {}, 'Purchase ', h('code', { class: 'purchase-id' }, p.purchaseId), ` · ${plural(p.tickets.length, 'ticket')} · ${money(total, this.ev.currency)}`),
      h(
        'ul',
        { class: 'tickets', 'aria-label': 'Your tickets' },
        ...p.tickets.map((t) => h('li', {}, `${seatName(t.row, t.column)}: ticket `, h('code', { class: 'ticket-id' }, t.ticketId))),
      ),
    );
    this.confirmation.replaceChildren(panel);
    panel.scrollIntoView({ block: 'nearest' });
  }

  /** Counts seats this page just learned are sold, so the figures move before the next poll. */
  private countSold(ks: number[]): void {
    this.lastLearnedAt = performance.now();
    for (const k of ks) {
      const r = this.layout.seatAt(k).rowIdx;
      this.map.rowAvailable[r] = Math.max(0, (this.map.rowAvailable[r] ?? 0) - 1);
    }
    this.map.available = Math.max(0, this.map.available - ks.length);
    this.grid.setRowAvailable(this.map.rowAvailable);
    this.paintAvailability();
  }

  private paintAvailability(): void {
    const { available, capacity } = this.map;
    setText(this.avail, available === 0 ? `Sold out: all ${count(capacity)} seats sold` : `${count(available)} of ${count(capacity)} seats available`);
  }

  private paintSelection(): void {
    const n = this.selected.size;
    const picked = [...this.selected].sort((a, b) => a - b);
    setText(
      this.selection,
      n === 0
        ? `No seats selected. Pick up to ${this.limit} seats of ${this.zoneName}.`
        : `${plural(n, 'seat')} selected: ${this.names(picked, true)} · ${money(n * this.priceCents, this.ev.currency)}`,
    );
    const label = this.busy ? `Buying ${plural(n, 'seat')}…` : n === 0 ? 'Buy seats' : `Buy ${plural(n, 'seat')}`;
    setText(this.buyButton, label);
    if (this.busy || n === 0) this.buyButton.setAttribute('aria-disabled', 'true');
    else this.buyButton.removeAttribute('aria-disabled');
    if (this.busy) this.buyButton.setAttribute('aria-busy', 'true');
    else this.buyButton.removeAttribute('aria-busy');
    if (this.busy || n === 0) this.clearButton.setAttribute('aria-disabled', 'true');
    else this.clearButton.removeAttribute('aria-disabled');
  }

  private names(ks: number[], short = false): string {
    return ks
      .map((k) => {
        const { row, column } = this.layout.seatAt(k);
        return short ? `${row}${column}` : seatName(row, column);
      })
      .join(short ? ', ' : ' and ');
  }

  private say(text: string): void {
    // Clearing first makes a repeated message announce again.
    this.status.textContent = '';
    requestAnimationFrame(() => (this.status.textContent = text));
  }

  private warn(text: string): void {
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
    item('mine', 'Yours'),
    item('taken', 'Just taken'),
  );
}
