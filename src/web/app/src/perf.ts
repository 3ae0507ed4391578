/**
 * Render and live-update timings of the seat grid, kept on `window.seatmapPerf` (and as
 * performance.measure entries) so the browser test can read and report them.
 */
export interface ZoneLoadTiming {
  zoneId: string;
  seats: number;
  /** Seat-map request, from sending to parsed JSON. */
  fetchMs: number;
  /** Building the grid's DOM (synchronous script time). */
  buildMs: number;
  /** From opening the zone view to the first frame painted with the full grid. */
  firstRenderMs: number;
}

export interface UpdateTiming {
  zoneId: string;
  seats: number;
  changed: number;
  fetchMs: number;
  /** Decoding the bitmap, diffing it and updating the changed seats (synchronous script time). */
  applyMs: number;
  /** From the answer arriving to the next painted frame. */
  paintedMs?: number;
}

const MAX_UPDATES = 1000;

export const perf = {
  zoneLoads: [] as ZoneLoadTiming[],
  updates: [] as UpdateTiming[],
  recordLoad(t: ZoneLoadTiming) {
    this.zoneLoads.push(t);
    performance.measure('seatmap:first-render', { start: performance.now() - t.firstRenderMs, duration: t.firstRenderMs, detail: t });
  },
  recordUpdate(t: UpdateTiming) {
    if (this.updates.length >= MAX_UPDATES) this.updates.shift();
    this.updates.push(t);
  },
};

(window as unknown as { seatmapPerf: typeof perf }).seatmapPerf = perf;
