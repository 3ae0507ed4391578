import { randomBytes } from 'node:crypto';
import type { CachedZone } from '../catalog/cache';
import { seatsBody } from '../http/seats-body';
import { zoneKeys } from '../inventory/keys';
import type { Logger } from '../observability/logger';
import { metrics } from '../observability/metrics';
import { apply, availability, bitmapOf, diff, isEmpty, sized } from './picture';
import { LeaseAnswer, type ChangeEvent, type Picture, type ZoneLog } from './zone-log';

/** One open stream: its response and the last seq written to it. */
export interface Viewer {
  write(frame: string): void;
  after: number;
}

export interface FeedOptions {
  coalesceMs: number;
  readIntervalMs: number;
  leaseMs: number;
  /** Frames kept in memory for resuming viewers (older ones come from the Redis log). */
  replayFrames: number;
  logLength: number;
  prefix: string;
}

const frame = (type: string, seq: number, data: unknown) => `id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * One zone's change stream inside one api process (docs/live-seat-map.md): one reader of the
 * zone's Redis log fans every change out to all of this process's viewers of the zone, and the
 * process also competes for the zone's writer lease. Redis work per zone, never per viewer.
 */
export class ZoneFeed {
  readonly viewers = new Set<Viewer>();
  /** The picture as of `picture.seq`, kept by applying the log (the snapshot for new viewers). */
  private picture: Picture = { seq: 0, taken: Buffer.alloc(0), held: Buffer.alloc(0), at: 0 };
  private snapshotFrame: string | undefined;
  private readonly ring: { seq: number; frame: string }[] = [];
  private readonly token = randomBytes(12).toString('base64url');
  /** Set while this process holds the writer lease: the picture the log's last event left. */
  private writerPicture: { taken: Buffer; held: Buffer } | undefined;
  private timers: NodeJS.Timeout[] = [];
  private reading = false;
  private writing = false;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(
    private readonly log: ZoneLog,
    private readonly zone: CachedZone,
    private readonly opts: FeedOptions,
    private readonly logger: Logger,
  ) {
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  get seq(): number {
    return this.picture.seq;
  }

  private get capacity() {
    return this.zone.layout.capacity;
  }

  private async start(): Promise<void> {
    const k = zoneKeys(this.opts.prefix, this.log.eventId, this.log.zoneId);
    await this.lease();
    // The first picture is the lease holder's to write; another process may be just taking it.
    const deadline = Date.now() + 3 * this.opts.leaseMs;
    let pic = await this.log.picture();
    while (!pic && Date.now() < deadline && !this.stopped) {
      await new Promise((r) => setTimeout(r, 50));
      if (!this.writerPicture) await this.lease();
      pic = await this.log.picture();
    }
    if (!pic) throw new Error(`no change log picture for ${this.log.eventId}/${this.log.zoneId} (meta ${k.meta})`);
    this.setPicture(pic);
    this.every(this.opts.readIntervalMs, () => this.read());
    this.every(this.opts.coalesceMs, () => this.writeTick());
    this.every(Math.max(100, Math.floor(this.opts.leaseMs / 3)), () => this.lease());
  }

  private every(ms: number, fn: () => Promise<void>) {
    const t = setInterval(
      () => void fn().catch((err) => this.logger.warn({ err, zone: this.log.zoneId }, 'live feed step failed; retrying')),
      ms,
    );
    this.timers.push(t);
  }

  private setPicture(pic: Picture) {
    this.picture = { ...pic, taken: sized(pic.taken, this.capacity), held: sized(pic.held, this.capacity) };
    this.snapshotFrame = undefined;
    this.ring.length = 0;
  }

  /** The snapshot event at the current seq: the seats route's body plus `seq`, serialised once per seq. */
  snapshot(): string {
    if (!this.snapshotFrame) {
      const { taken, held, seq } = this.picture;
      const body = seatsBody(this.log.eventId, this.zone, {
        capacity: this.capacity,
        ...availability(taken, this.zone.zone.seatCounts),
        taken,
        held,
      });
      this.snapshotFrame = frame('snapshot', seq, { ...body, seq });
    }
    return this.snapshotFrame;
  }

  /** Frames after `afterSeq` up to the current seq, if this process or the Redis log still has all of them. */
  async replay(afterSeq: number): Promise<string[] | undefined> {
    if (afterSeq >= this.seq) return [];
    const oldest = this.ring[0]?.seq ?? Infinity;
    let fetched: { seq: number; frame: string }[] = [];
    if (oldest > afterSeq + 1) {
      if (this.seq - afterSeq > this.opts.logLength) return undefined;
      fetched = (await this.log.after(afterSeq, this.seq - afterSeq)).map((e) => ({ seq: e.seq, frame: changeFrame(e) }));
    }
    // Synchronous from here: the feed may have moved on while Redis answered.
    const bySeq = new Map([...fetched, ...this.ring].map((f) => [f.seq, f.frame]));
    const out: string[] = [];
    for (let s = afterSeq + 1; s <= this.seq; s++) {
      const f = bySeq.get(s);
      if (!f) return undefined;
      out.push(f);
    }
    return out;
  }

  /** Frames after `afterSeq` up to the current seq from memory only, or undefined when they are not all there. */
  framesSince(afterSeq: number): string[] | undefined {
    const from = this.ring.findIndex((f) => f.seq === afterSeq + 1);
    if (afterSeq >= this.seq) return [];
    return from < 0 ? undefined : this.ring.slice(from).map((f) => f.frame);
  }

  /** The log's newest seq in Redis (a resuming viewer may have seen further than this process's reader). */
  lastLoggedSeq(): Promise<number> {
    return this.log.lastSeq();
  }

  private async read(): Promise<void> {
    if (this.reading || this.stopped) return;
    this.reading = true;
    try {
      for (;;) {
        const events = await this.log.after(this.seq, 500);
        if (events.length === 0 || this.stopped) return;
        for (const e of events) {
          if (e.seq !== this.seq + 1) return void (await this.resync());
          this.deliver(e);
        }
        if (events.length < 500) return;
      }
    } finally {
      this.reading = false;
    }
  }

  /** This process fell behind the capped log (or the log was recreated): a fresh snapshot for everyone. */
  private async resync(): Promise<void> {
    const pic = await this.log.picture();
    if (!pic) return;
    this.logger.info({ zone: this.log.zoneId, from: this.seq, to: pic.seq }, 'live feed behind its log: sending a fresh snapshot');
    this.setPicture(pic);
    const snap = this.snapshot();
    for (const v of this.viewers) {
      v.after = pic.seq;
      v.write(snap);
    }
    metrics.liveEventsSent.inc({ type: 'snapshot' }, this.viewers.size);
  }

  private deliver(e: ChangeEvent) {
    apply(this.picture, e);
    this.picture.seq = e.seq;
    this.snapshotFrame = undefined;
    const f = changeFrame(e);
    this.ring.push({ seq: e.seq, frame: f });
    if (this.ring.length > this.opts.replayFrames) this.ring.shift();
    let sent = 0;
    for (const v of this.viewers) {
      if (v.after >= e.seq) continue;
      v.after = e.seq;
      v.write(f);
      sent++;
    }
    metrics.liveEventsSent.inc({ type: 'change' }, sent);
    metrics.liveLag.observe(Math.max(0, Date.now() - e.at) / 1000);
  }

  private async lease(): Promise<void> {
    if (this.stopped) return;
    const answer = await this.log.takeLease(this.token);
    if (answer === LeaseAnswer.HELD_BY_OTHER) return void (this.writerPicture = undefined);
    if (answer === LeaseAnswer.RENEWED && this.writerPicture) return;
    // Just taken: continue from the picture the log's last event left (or write the first one).
    const pic = await this.log.picture();
    if (pic) this.writerPicture = { taken: sized(pic.taken, this.capacity), held: sized(pic.held, this.capacity) };
    else {
      const now = await this.readZone();
      if ((await this.log.append(this.token, now.taken, now.held, Date.now())) !== undefined) this.writerPicture = now;
    }
  }

  private async readZone() {
    const k = zoneKeys(this.opts.prefix, this.log.eventId, this.log.zoneId);
    const z = await this.log.readZone(k.held, k.bits);
    return { taken: sized(z.taken, this.capacity), held: bitmapOf(z.heldOffsets, this.capacity) };
  }

  /** The writer's step: diff the zone against the log's picture, append one coalesced change. */
  private async writeTick(): Promise<void> {
    if (!this.writerPicture || this.writing || this.stopped) return;
    this.writing = true;
    try {
      const now = await this.readZone();
      const changes = diff(this.writerPicture, now, this.capacity);
      if (isEmpty(changes)) return;
      const seq = await this.log.append(this.token, now.taken, now.held, Date.now(), changes);
      if (seq === undefined) return void (this.writerPicture = undefined);
      this.writerPicture = now;
      await this.read();
    } finally {
      this.writing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.writerPicture) await this.log.dropLease(this.token).catch(() => undefined);
    this.writerPicture = undefined;
  }
}

function changeFrame(e: ChangeEvent): string {
  return frame('change', e.seq, { seq: e.seq, taken: e.taken, freed: e.freed, held: e.held });
}
