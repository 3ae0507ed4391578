import type { Seat, SeatMap } from './api';
import { changedSeats, decodeBitmap, isSold as bitIsSet, SeatLayout, setSold as setBit } from './seat-bits';

/**
 * What the seat-map page knows about one zone, and every rule for merging what it learns:
 * snapshots (the polled seat map: taken and held bitmaps), changes (a later live source:
 * {seq, taken, freed, held}), and the answers to this page's own purchases, holds, releases
 * and cancellations. Pure: no DOM, no fetch, no clock (callers pass
 * `performance.now()` times), so the rules are unit-tested without a browser or services.
 *
 * Ordering rule: a snapshot is as old as the moment its request started. Anything the page
 * learned later (a purchase answer, a SEATS_TAKEN answer, a change) wins over it for the seats
 * concerned, so an old answer never flips a just-bought seat back to free.
 */

export type SeatStatus = 'free' | 'held' | 'sold';
/**
 * What the page knows beyond the status: `mine` (its own purchase or hold), `taken` (a
 * conflict answer named it). A mark goes whenever the seat's status changes for another reason.
 */
export type SeatMark = 'mine' | 'taken';

export interface SeatLook {
  status: SeatStatus;
  selected: boolean;
  mark?: SeatMark;
}

/** A change from a live source, in seat indexes (row-major from 0, as in the bitmap). */
export interface SeatChange {
  /** When given, a change whose seq is not above the last applied one is a replay and ignored. */
  seq?: number;
  taken?: readonly number[];
  freed?: readonly number[];
  held?: readonly number[];
}

/** Seats whose status changed (to redraw), and those of them that left the selection. */
export interface Merge {
  changed: number[];
  lost: number[];
}

/** A snapshot of another shape resets everything: the page rebuilds its grid. */
export type SnapshotResult = ({ relaid: false } & Merge) | { relaid: true };

export type ToggleResult = { ok: true; selected: boolean } | { ok: false; reason: 'busy' | 'sold' | 'held' | 'limit' };

export type PurchaseStart = { ok: true; picked: number[] } | { ok: false; reason: 'busy' | 'empty' };

interface Fact {
  status: SeatStatus;
  at: number;
}

export class ZoneState {
  layout!: SeatLayout;
  available = 0;
  rowAvailable: number[] = [];
  /** True between startPurchase and finishPurchase: selection is frozen, nothing is "lost". */
  busy = false;
  private sold: Uint8Array = new Uint8Array(0);
  private held: Uint8Array = new Uint8Array(0);
  private readonly marks = new Map<number, SeatMark>();
  private readonly selected = new Set<number>();
  /** Seats learned after some snapshot may have started: seat → status and when it was learned. */
  private readonly known = new Map<number, Fact>();
  private lastLearnedAt = 0;
  private lastSeq?: number;

  constructor(
    map: SeatMap,
    /** The most seats one purchase may take (the event's perUserLimit, lowered by TOO_MANY_SEATS). */
    public limit: number,
  ) {
    this.reset(map);
  }

  get capacity(): number {
    return this.layout.capacity;
  }

  statusOf(k: number): SeatStatus {
    return bitIsSet(this.sold, k) ? 'sold' : bitIsSet(this.held, k) ? 'held' : 'free';
  }

  lookOf(k: number): SeatLook {
    return { status: this.statusOf(k), selected: this.selected.has(k), mark: this.marks.get(k) };
  }

  /** The selected seats in seat order. */
  get selection(): number[] {
    return [...this.selected].sort((a, b) => a - b);
  }

  /** Merges a polled seat map whose request started at `startedAt`. */
  applySnapshot(map: SeatMap, startedAt: number): SnapshotResult {
    if (!this.layout.sameAs(map.rows, map.seatCounts)) {
      this.reset(map);
      return { relaid: true };
    }
    const { sold, held } = splitTaken(map, this.capacity);
    for (const [k, fact] of this.known) {
      if (startedAt < fact.at) {
        setBit(sold, k, fact.status === 'sold');
        setBit(held, k, fact.status === 'held');
      } else this.known.delete(k);
    }
    const differ = new Set([...changedSeats(this.sold, sold, this.capacity), ...changedSeats(this.held, held, this.capacity)]);
    // A snapshot started after everything this page learned carries the true counts; an older
    // one keeps the page's counts and moves them by the seats it changes.
    const adopt = startedAt >= this.lastLearnedAt;
    const changed: number[] = [];
    for (const k of [...differ].sort((a, b) => a - b)) {
      if (this.setStatus(k, bitIsSet(sold, k) ? 'sold' : bitIsSet(held, k) ? 'held' : 'free', !adopt)) changed.push(k);
    }
    if (adopt) this.adoptCounts(map);
    return { relaid: false, changed, lost: this.dropLost(changed) };
  }

  /** Applies a change from a live source that arrived at `at` (newer than any snapshot started before). */
  /** A snapshot from the change stream: as `applySnapshot`, and changes up to its seq are replays from now on. */
  applyStreamSnapshot(map: SeatMap, seq: number, startedAt: number): SnapshotResult {
    const r = this.applySnapshot(map, startedAt);
    this.lastSeq = seq;
    return r;
  }

  applyChange(change: SeatChange, at: number): Merge {
    if (change.seq !== undefined) {
      if (this.lastSeq !== undefined && change.seq <= this.lastSeq) return { changed: [], lost: [] };
      this.lastSeq = change.seq;
    }
    const changed = new Set<number>();
    // One change should name a seat once; if not, a sale wins over a hold, a hold over a release.
    const steps: [readonly number[] | undefined, SeatStatus][] = [
      [change.freed, 'free'],
      [change.held, 'held'],
      [change.taken, 'sold'],
    ];
    for (const [seats, status] of steps) {
      for (const k of seats ?? []) {
        if (!Number.isInteger(k) || k < 0 || k >= this.capacity) continue;
        this.learn(k, status, at);
        if (this.setStatus(k, status, true)) changed.add(k);
      }
    }
    const list = [...changed].sort((a, b) => a - b);
    return { changed: list, lost: this.dropLost(list) };
  }

  toggle(k: number): ToggleResult {
    if (this.busy) return { ok: false, reason: 'busy' };
    const status = this.statusOf(k);
    if (status !== 'free') return { ok: false, reason: status };
    if (this.selected.delete(k)) return { ok: true, selected: false };
    if (this.selected.size >= this.limit) return { ok: false, reason: 'limit' };
    this.selected.add(k);
    return { ok: true, selected: true };
  }

  /** Empties the selection (not while a purchase is in flight); returns the seats to redraw. */
  clearSelection(): number[] {
    if (this.busy) return [];
    const cleared = this.selection;
    this.selected.clear();
    return cleared;
  }

  startPurchase(): PurchaseStart {
    if (this.busy) return { ok: false, reason: 'busy' };
    if (this.selected.size === 0) return { ok: false, reason: 'empty' };
    this.busy = true;
    return { ok: true, picked: this.selection };
  }

  finishPurchase(): void {
    this.busy = false;
  }

  /** The purchase of `picked` succeeded (answer at `at`): they are this buyer's, sold at once. */
  purchased(picked: readonly number[], at: number): number[] {
    for (const k of picked) this.learnSold(k, 'mine', at);
    return [...picked];
  }

  /** The seats' indexes in this layout (seats outside it are left out). */
  indexesOf(seats: readonly Seat[]): number[] {
    return seats.map((s) => this.layout.indexOf(s.row, Number(s.column))).filter((k): k is number => k !== undefined);
  }

  /** This page's hold of `seats` answered at `at`: held for this buyer, out of the selection. Returns their indexes. */
  heldByMe(seats: readonly Seat[], at: number): number[] {
    const ks = this.indexesOf(seats);
    for (const k of ks) {
      this.selected.delete(k);
      this.learn(k, 'held', at);
      this.setStatus(k, 'held', true);
      this.marks.set(k, 'mine');
    }
    return ks;
  }

  /** This page released these seats, or cancelled their purchase (answer at `at`): free for everyone. */
  freedByMe(seats: readonly Seat[], at: number): number[] {
    const ks = this.indexesOf(seats);
    for (const k of ks) {
      this.learn(k, 'free', at);
      this.setStatus(k, 'free', true);
    }
    return ks;
  }

  /**
   * This page's hold of `seats` ran out: they stop being drawn as this buyer's. Their status is
   * left to the next snapshot (the sweeper frees them within about a second, and someone else
   * may hold them at once). Returns the seats to redraw.
   */
  holdEnded(seats: readonly Seat[]): number[] {
    const ks = this.indexesOf(seats).filter((k) => this.statusOf(k) === 'held' && this.marks.get(k) === 'mine');
    for (const k of ks) this.marks.delete(k);
    return ks;
  }

  /** A SEATS_TAKEN answer at `at` named these seats: they are sold to someone else. Returns their indexes. */
  seatsTaken(seats: readonly Seat[], at: number): number[] {
    const taken = this.indexesOf(seats);
    for (const k of taken) this.learnSold(k, 'taken', at);
    this.lastLearnedAt = Math.max(this.lastLearnedAt, at);
    return taken;
  }

  /** Adopts a lower purchase limit from a TOO_MANY_SEATS answer; ignores anything but a positive integer. */
  adoptLimit(limit: number): void {
    if (Number.isInteger(limit) && limit > 0) this.limit = limit;
  }

  private reset(map: SeatMap): void {
    this.layout = new SeatLayout(map.rows, map.seatCounts);
    ({ sold: this.sold, held: this.held } = splitTaken(map, this.capacity));
    this.marks.clear();
    this.selected.clear();
    this.known.clear();
    this.adoptCounts(map);
  }

  /** Takes a snapshot's counts: they count the seats neither sold nor held, as this page does. */
  private adoptCounts(map: SeatMap): void {
    this.available = map.available;
    this.rowAvailable = [...map.rowAvailable];
  }

  private moveCounts(k: number, delta: 1 | -1): void {
    const r = this.layout.seatAt(k).rowIdx;
    this.rowAvailable[r] = Math.max(0, (this.rowAvailable[r] ?? 0) + delta);
    this.available = Math.max(0, this.available + delta);
  }

  private learn(k: number, status: SeatStatus, at: number): void {
    this.known.set(k, { status, at });
    this.lastLearnedAt = Math.max(this.lastLearnedAt, at);
  }

  private learnSold(k: number, mark: SeatMark, at: number): void {
    this.selected.delete(k);
    this.learn(k, 'sold', at);
    this.setStatus(k, 'sold', true);
    this.marks.set(k, mark);
  }

  /**
   * Sets one seat's status; with `count`, moves the zone and row counts when the seat stops or
   * starts being free (so a seat is counted once however many sources report it).
   */
  private setStatus(k: number, status: SeatStatus, count: boolean): boolean {
    const was = this.statusOf(k);
    if (was === status) return false;
    setBit(this.sold, k, status === 'sold');
    setBit(this.held, k, status === 'held');
    // A mark says how the page learned the old status; whoever sets the new one marks it again.
    this.marks.delete(k);
    if (count && (was === 'free' || status === 'free')) this.moveCounts(k, status === 'free' ? 1 : -1);
    return true;
  }

  /** Selected seats that just became unavailable leave the selection, except during a purchase (its answer settles them). */
  private dropLost(changed: readonly number[]): number[] {
    if (this.busy) return [];
    const lost = changed.filter((k) => this.selected.has(k) && this.statusOf(k) !== 'free');
    for (const k of lost) this.selected.delete(k);
    return lost;
  }
}

/**
 * A seat map's bitmaps as this page keeps them: `sold.data` has every taken seat, `held.data`
 * the held ones among them. A held bit on a seat not taken is a hold that ended between the
 * route's two reads, so that seat is free.
 */
function splitTaken(map: SeatMap, capacity: number): { sold: Uint8Array; held: Uint8Array } {
  const taken = decodeBitmap(map.sold.data, capacity);
  const held = decodeBitmap(map.held.data, capacity);
  const sold = new Uint8Array(taken.length);
  for (let i = 0; i < taken.length; i++) {
    held[i] = (held[i] ?? 0) & (taken[i] ?? 0);
    sold[i] = (taken[i] ?? 0) & ~(held[i] ?? 0);
  }
  return { sold, held };
}
