import { h } from './dom';
import { seatName } from './format';
import type { SeatLayout } from './seat-bits';
import type { SeatLook } from './zone-state';

/** Rows wider than this render as small, unnumbered squares so big zones stay compact. */
const COMPACT_ABOVE_SEATS_PER_ROW = 40;

/**
 * The seat grid: one button per seat, named "Row A, Seat 1", grouped by row. Sold seats are
 * `aria-disabled` rather than `disabled` so arrow keys can still land on them and a screen
 * reader says they are unavailable. One roving tab stop: Tab enters and leaves the grid,
 * arrows move inside it. It only draws: what each seat looks like comes from the ZoneState,
 * and live updates redraw only the seats the state says changed.
 */
export class SeatGrid {
  readonly element: HTMLDivElement;
  private readonly seats: HTMLButtonElement[] = [];
  private readonly rowLeft: HTMLElement[] = [];
  private focusK = 0;

  constructor(
    private readonly layout: SeatLayout,
    lookOf: (k: number) => SeatLook,
    rowAvailable: number[],
    label: string,
    private readonly onActivate: (k: number) => void,
  ) {
    const widest = Math.max(1, ...layout.seatCounts);
    const compact = widest > COMPACT_ABOVE_SEATS_PER_ROW;
    this.element = h('div', {
      class: `seat-grid${compact ? ' compact' : ''}`,
      role: 'group',
      'aria-label': label,
      'aria-describedby': 'seat-help',
    });
    // The CSS sizes seats so the widest row fits the box when it can (down to a minimum size).
    this.element.style.setProperty('--cols', String(widest));
    this.build(compact, lookOf, rowAvailable);
    this.element.addEventListener('click', (e) => this.clicked(e));
    this.element.addEventListener('keydown', (e) => this.keyed(e));
  }

  private build(compact: boolean, lookOf: (k: number) => SeatLook, rowAvailable: number[]): void {
    const { rows, seatCounts } = this.layout;
    const tpl = document.createElement('button');
    tpl.type = 'button';
    tpl.className = 'seat';
    tpl.tabIndex = -1;
    tpl.setAttribute('aria-pressed', 'false');
    const frag = document.createDocumentFragment();
    let k = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] ?? '';
      const seatsEl = document.createElement('div');
      seatsEl.className = 'seats';
      for (let c = 1; c <= (seatCounts[r] ?? 0); c++, k++) {
        const b = tpl.cloneNode(false) as HTMLButtonElement;
        b.dataset.k = String(k);
        b.setAttribute('aria-label', seatName(row, c));
        if (!compact) b.textContent = String(c);
        this.seats.push(b);
        const look = lookOf(k);
        if (look.status !== 'free' || look.selected || look.mark) this.draw(k, look);
        seatsEl.appendChild(b);
      }
      const left = h('span', { class: 'row-left' }, `${rowAvailable[r] ?? ''} left`);
      this.rowLeft.push(left);
      frag.appendChild(
        h(
          'div',
          { class: 'seat-row', role: 'group', 'aria-label': `Row ${row}` },
          h('span', { class: 'row-label', 'aria-hidden': 'true' }, row),
          seatsEl,
          left,
        ),
      );
    }
    this.element.appendChild(frag);
    const first = this.seats.findIndex((b) => !b.hasAttribute('aria-disabled'));
    this.focusK = first < 0 ? 0 : first;
    const stop = this.seats[this.focusK];
    if (stop) stop.tabIndex = 0;
  }

  get seatCount(): number {
    return this.seats.length;
  }

  /**
   * Draws one seat as the state sees it: sold and held seats are aria-disabled, held ones drawn
   * apart (hatched) and named so ("Row A, Seat 1, held"), since colour alone tells no one.
   */
  draw(k: number, look: SeatLook): void {
    const b = this.seats[k];
    if (!b) return;
    const label = look.status === 'held' ? `${this.nameOf(k)}, ${look.mark === 'mine' ? 'held for you' : 'held'}` : this.nameOf(k);
    if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
    if (look.status === 'free') b.removeAttribute('aria-disabled');
    else b.setAttribute('aria-disabled', 'true');
    b.setAttribute('aria-pressed', String(look.selected));
    b.classList.toggle('held', look.status === 'held');
    b.classList.toggle('mine', look.mark === 'mine');
    b.classList.toggle('taken', look.mark === 'taken');
  }

  private nameOf(k: number): string {
    const { row, column } = this.layout.seatAt(k);
    return seatName(row, column);
  }

  setRowAvailable(counts: number[]): void {
    counts.forEach((n, r) => {
      const el = this.rowLeft[r];
      const text = `${n} left`;
      if (el && el.textContent !== text) el.textContent = text;
    });
  }

  focusSeat(k: number): void {
    const b = this.seats[k];
    if (!b) return;
    const old = this.seats[this.focusK];
    if (old) old.tabIndex = -1;
    b.tabIndex = 0;
    this.focusK = k;
    b.focus();
  }

  private seatOf(target: EventTarget | null): number | undefined {
    const b = (target as Element | null)?.closest?.('button.seat') as HTMLButtonElement | null;
    return b?.dataset.k === undefined ? undefined : Number(b.dataset.k);
  }

  private clicked(e: MouseEvent): void {
    const k = this.seatOf(e.target);
    if (k === undefined) return;
    if (k !== this.focusK) {
      const old = this.seats[this.focusK];
      if (old) old.tabIndex = -1;
      const b = this.seats[k];
      if (b) b.tabIndex = 0;
      this.focusK = k;
    }
    this.onActivate(k);
  }

  private keyed(e: KeyboardEvent): void {
    const k = this.seatOf(e.target);
    if (k === undefined) return;
    const next = this.moveFrom(k, e.key, e.ctrlKey || e.metaKey);
    if (next === undefined) return;
    e.preventDefault();
    this.focusSeat(next);
  }

  /** Arrow keys within a row; up/down keep the visual position across centred rows of other widths. */
  private moveFrom(k: number, key: string, toEnds: boolean): number | undefined {
    const { rowIdx, column } = this.layout.seatAt(k);
    const rows = this.layout.rows.length;
    const count = (r: number) => this.layout.seatCounts[r] ?? 0;
    const at = (r: number, c: number) => (this.layout.rowStart[r] ?? 0) + Math.min(Math.max(c, 1), count(r)) - 1;
    const toRow = (r: number) => {
      const target = Math.min(Math.max(r, 0), rows - 1);
      return at(target, Math.round(column + (count(target) - count(rowIdx)) / 2));
    };
    switch (key) {
      case 'ArrowLeft':
        return at(rowIdx, column - 1);
      case 'ArrowRight':
        return at(rowIdx, column + 1);
      case 'ArrowUp':
        return toRow(rowIdx - 1);
      case 'ArrowDown':
        return toRow(rowIdx + 1);
      case 'PageUp':
        return toRow(rowIdx - 10);
      case 'PageDown':
        return toRow(rowIdx + 10);
      case 'Home':
        return toEnds ? 0 : at(rowIdx, 1);
      case 'End':
        return toEnds ? this.seats.length - 1 : at(rowIdx, count(rowIdx));
      default:
        return undefined;
    }
  }
}
