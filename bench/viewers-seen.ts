/**
 * The viewers benchmark's bookkeeping, without I/O (bench/viewers-worker.ts uses it; unit-tested in
 * test/load/viewers-seen.unit.test.ts): a minimal server-sent-events splitter, what each viewer
 * received and when, when each viewer first saw a purchased seat as taken, and a latency histogram
 * that merges across processes.
 *
 * Every viewer of a zone receives the same frames (stream) or bodies (polling, by ETag), so the
 * decoded content lives once per process (`StreamFrames`, `PolledBodies`) and a viewer keeps only
 * seqs or ETags and arrival times.
 */

const bit = (b: Buffer, i: number) => ((b[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

/**
 * Splits `rest + chunk` into complete SSE blocks (separated by a blank line) and calls `onFrame`
 * with each block's `event` (default `message`), `id` and `data`; comments (`: heartbeat`) and
 * blocks without data (`retry:`) are skipped. Returns the incomplete tail to pass in next time.
 * The server writes `\n` line ends only (src/live/zone-feed.ts), so `\r` is not handled.
 */
export function splitFrames(rest: string, chunk: string, onFrame: (event: string, id: string | undefined, data: string) => void): string {
  let buf = rest.length === 0 ? chunk : rest + chunk;
  let start = 0;
  for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n', start)) {
    let event = 'message';
    let id: string | undefined;
    let data: string | undefined;
    let line = start;
    while (line < end) {
      let nl = buf.indexOf('\n', line);
      if (nl < 0 || nl > end) nl = end;
      if (buf.startsWith('data: ', line)) data = data === undefined ? buf.slice(line + 6, nl) : `${data}\n${buf.slice(line + 6, nl)}`;
      else if (buf.startsWith('id: ', line)) id = buf.slice(line + 4, nl);
      else if (buf.startsWith('event: ', line)) event = buf.slice(line + 7, nl);
      line = nl + 1;
    }
    if (data !== undefined) onFrame(event, id, data);
    start = end + 2;
  }
  buf = start === 0 ? buf : buf.slice(start);
  return buf;
}

/** The taken bitmap (held or sold) of a seats-route body or a stream snapshot: its `sold` bitmap. */
export function takenBitsOf(body: { sold?: { data?: string } }): Buffer {
  return Buffer.from(body.sold?.data ?? '', 'base64');
}

/** A purchase as the driver saw it: its seat (bit offset) and when its 201 arrived (epoch ms, high resolution). */
export interface Purchase {
  offset: number;
  at: number;
}

/** Latencies in whole milliseconds, 0..`maxMs` (later values land in the last bucket); mergeable across processes. */
export class Histogram {
  readonly counts: number[];
  total = 0;
  private never = 0;

  constructor(readonly maxMs = 60_000) {
    this.counts = new Array<number>(maxMs + 1).fill(0);
  }

  add(ms: number): void {
    this.counts[Math.min(this.maxMs, Math.max(0, Math.floor(ms)))]!++;
    this.total++;
  }

  merge(counts: readonly number[]): void {
    counts.forEach((c, i) => {
      this.counts[Math.min(this.maxMs, i)]! += c;
      this.total += c;
    });
  }

  /** The upper bound (ms) of the bucket holding quantile `q`; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i + 1;
    }
    return this.maxMs;
  }

  /** Values that never came (a seat a viewer never saw): above every bucket, so a quantile reaching them is `null`. */
  addNever(n: number): void {
    this.never += n;
    this.total += n;
  }

  /** Like `quantile`, but null when the quantile falls among the values that never came. */
  quantileOrNever(q: number): number | null {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    return rank > this.total - this.never ? null : this.quantile(q);
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  sparse(): [number, number][] {
    const out: [number, number][] = [];
    this.counts.forEach((c, i) => c > 0 && out.push([i, c]));
    return out;
  }

  mergeSparse(pairs: readonly [number, number][]): void {
    for (const [i, c] of pairs) {
      this.counts[Math.min(this.maxMs, i)]! += c;
      this.total += c;
    }
  }
}

/** The exact quantile of a list (nearest rank); 0 when empty. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** What one process's viewers have of each seat-to-viewer pair, returned to the driver. */
export interface SeenReport {
  /** Per purchase (driver's order): the latest 201 → seen time over this process's viewers, or null when one never saw it. */
  maxPerPurchase: (number | null)[];
  /** 201 → seen of every (viewer, purchase) pair seen, ms; seen before the 201 counts as 0. */
  pairs: [number, number][];
  pairsSeen: number;
  /** Pairs seen before the buyer's 201 arrived (the change left Redis before the Kafka acknowledgement). */
  beforeAnswer: number;
  /** (viewer, purchase) pairs never seen. */
  unseen: number;
}

/** Folds per-viewer seen times (`seenAt[purchase]`, undefined = never) into a SeenReport. */
export class SeenTally {
  private readonly max: (number | null)[];
  private readonly hist = new Histogram();
  private seen = 0;
  private before = 0;
  private unseen = 0;

  constructor(private readonly purchases: readonly Purchase[]) {
    this.max = purchases.map(() => -Infinity);
  }

  viewer(seenAt: readonly (number | undefined)[]): void {
    this.purchases.forEach((p, i) => {
      const at = seenAt[i];
      if (at === undefined) {
        this.unseen++;
        this.max[i] = null;
        return;
      }
      const ms = at - p.at;
      this.seen++;
      if (ms < 0) this.before++;
      this.hist.add(ms);
      const m = this.max[i];
      if (m !== null && m !== undefined && ms > m) this.max[i] = ms;
    });
  }

  report(): SeenReport {
    return {
      maxPerPurchase: this.max.map((m) => (m === null || m === undefined || m === -Infinity ? null : Math.max(0, m))),
      pairs: this.hist.sparse(),
      pairsSeen: this.seen,
      beforeAnswer: this.before,
      unseen: this.unseen,
    };
  }
}

/** Purchase indexes by seat offset (a seat bought twice, after a cancellation, has two). */
export function purchaseIndex(purchases: readonly Purchase[]): Map<number, number[]> {
  const byOffset = new Map<number, number[]>();
  purchases.forEach((p, i) => byOffset.set(p.offset, [...(byOffset.get(p.offset) ?? []), i]));
  return byOffset;
}

/** One change event's seats, by their new state (src/live/zone-log.ts). */
interface Change {
  taken: number[];
  freed: number[];
  held: number[];
}

/**
 * The stream's frames as this process received them, decoded once per seq, and the zone as the
 * stream tells it (`picture`: taken bits = held or sold, as the seats route's `sold` bitmap).
 */
export class StreamFrames {
  readonly changes = new Map<number, Change>();
  readonly snapshots = new Map<number, Buffer>();
  /** The zone after the newest frame seen, built from the first snapshot and every change in seq order. */
  picture: { seq: number; taken: Buffer } | undefined;

  snapshot(seq: number, data: string): void {
    if (this.snapshots.has(seq)) return;
    const taken = takenBitsOf(JSON.parse(data) as { sold?: { data?: string } });
    this.snapshots.set(seq, taken);
    if (!this.picture || seq > this.picture.seq) this.picture = { seq, taken: Buffer.from(taken) };
  }

  change(seq: number, data: string): void {
    if (this.changes.has(seq)) return;
    const c = JSON.parse(data) as Change;
    this.changes.set(seq, c);
    const pic = this.picture;
    // Every viewer receives seqs in order, so the first arrival of seq n follows the first of n - 1.
    if (!pic || seq !== pic.seq + 1) return;
    const set = (i: number, on: boolean) => {
      if (i >> 3 >= pic.taken.length) return;
      if (on) pic.taken[i >> 3]! |= 0x80 >> (i & 7);
      else pic.taken[i >> 3]! &= ~(0x80 >> (i & 7));
    };
    for (const i of c.taken) set(i, true);
    for (const i of c.held) set(i, true);
    for (const i of c.freed) set(i, false);
    pic.seq = seq;
  }
}

/** One stream viewer: what it received, in order, and when (epoch ms). */
export class StreamViewerRecord {
  readonly seqs: number[] = [];
  readonly ats: number[] = [];
  readonly snapshot: boolean[] = [];
  /** Seqs skipped between two change events (must stay 0). */
  gaps = 0;
  /** Snapshots after the first (a resync: the api's reader fell behind its log). */
  resyncs = 0;
  rest = '';

  get lastSeq(): number {
    return this.seqs.at(-1) ?? -1;
  }

  received(event: string, seq: number, at: number): void {
    const last = this.seqs.at(-1);
    if (event === 'snapshot') {
      if (last !== undefined) this.resyncs++;
    } else if (last === undefined)
      this.gaps++; // a change before any snapshot: the start is missing
    else if (seq !== last + 1) this.gaps += Math.max(1, seq - last - 1);
    this.seqs.push(seq);
    this.ats.push(at);
    this.snapshot.push(event === 'snapshot');
  }

  /** When this viewer first saw each purchase's seat taken (undefined = never); `byOffset` from purchaseIndex. */
  seenAt(purchases: readonly Purchase[], frames: StreamFrames, byOffset: Map<number, number[]>): (number | undefined)[] {
    const out: (number | undefined)[] = purchases.map(() => undefined);
    let pending = purchases.length;
    for (let k = 0; k < this.seqs.length && pending > 0; k++) {
      const seq = this.seqs[k]!;
      const at = this.ats[k]!;
      const mark = (offset: number) => {
        for (const i of byOffset.get(offset) ?? [])
          if (out[i] === undefined) {
            out[i] = at;
            pending--;
          }
      };
      if (this.snapshot[k]) {
        const bits = frames.snapshots.get(seq);
        if (bits) for (const offset of byOffset.keys()) if (bit(bits, offset)) mark(offset);
      } else {
        const c = frames.changes.get(seq);
        if (c) for (const offset of c.taken) mark(offset);
      }
    }
    return out;
  }
}

/** The seats route's bodies this process received, decoded once per ETag. */
export class PolledBodies {
  readonly bits = new Map<string, Buffer>();

  has(etag: string): boolean {
    return this.bits.has(etag);
  }

  add(etag: string, json: string): void {
    this.bits.set(etag, takenBitsOf(JSON.parse(json) as { sold?: { data?: string } }));
  }
}

/** One polling viewer: the 200 answers it received (ETag, arrival); a 304 repeats the previous one. */
export class PollViewerRecord {
  readonly etags: string[] = [];
  readonly ats: number[] = [];
  etag: string | undefined;

  answered(etag: string, at: number): void {
    this.etag = etag;
    this.etags.push(etag);
    this.ats.push(at);
  }

  seenAt(purchases: readonly Purchase[], bodies: PolledBodies): (number | undefined)[] {
    const out: (number | undefined)[] = purchases.map(() => undefined);
    let pending = purchases.length;
    for (let k = 0; k < this.etags.length && pending > 0; k++) {
      const bits = bodies.bits.get(this.etags[k]!);
      if (!bits) continue;
      purchases.forEach((p, i) => {
        if (out[i] === undefined && bit(bits, p.offset)) {
          out[i] = this.ats[k]!;
          pending--;
        }
      });
    }
    return out;
  }
}
