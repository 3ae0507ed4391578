import type { CachedZone } from '../catalog/cache';
import type { ScriptedRedis } from '../commands/scripts';
import type { Config } from '../config/config';
import { zoneKeys } from '../inventory/keys';
import type { Logger } from '../observability/logger';
import { metrics } from '../observability/metrics';
import { ApiError } from '../shared/errors';
import { ZoneFeed, type Viewer } from './zone-feed';
import { ZoneLog } from './zone-log';

/** Where a viewer's frames go: the HTTP response, seen as a byte sink with a queue. */
export interface ViewerSink {
  write(chunk: string): void;
  /** Bytes queued in the process for this viewer (the socket's unsent backlog). */
  readonly writableLength: number;
  /** Closes the connection now (a slow viewer's queue is dropped with it). */
  destroy(): void;
  end(): void;
}

type LiveConfig = Pick<
  Config,
  | 'REDIS_KEY_PREFIX'
  | 'LIVE_MAX_VIEWERS'
  | 'LIVE_COALESCE_MS'
  | 'LIVE_READ_INTERVAL_MS'
  | 'LIVE_HEARTBEAT_MS'
  | 'LIVE_MAX_BUFFER_BYTES'
  | 'LIVE_LOG_LENGTH'
  | 'LIVE_LOG_TTL_SECONDS'
  | 'LIVE_LEASE_MS'
>;

/** A zone's feed lingers this long after its last viewer left, so a page reload does not restart it. */
const FEED_LINGER_MS = 5000;

/**
 * This process's seat map streams (docs/live-seat-map.md): one ZoneFeed per watched zone, the
 * per-process viewer limit, heartbeats, and dropping viewers that do not keep up.
 */
export class LiveHub {
  private readonly feeds = new Map<string, { feed: ZoneFeed; linger?: NodeJS.Timeout }>();
  private readonly sinks = new Map<Viewer, ViewerSink>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly redis: ScriptedRedis,
    private readonly cfg: LiveConfig,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => this.beat(), cfg.LIVE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get viewerCount(): number {
    return this.sinks.size;
  }

  /** Refuses a new viewer over the limit (before the response starts, so it can be a problem answer). */
  admit(): void {
    if (this.closed || this.sinks.size >= this.cfg.LIVE_MAX_VIEWERS) {
      metrics.liveViewersDropped.inc({ reason: 'limit' });
      throw new ApiError(
        'LIVE_VIEWERS_LIMIT',
        `This api process already serves ${this.cfg.LIVE_MAX_VIEWERS} seat map streams; retry in a few seconds (another replica may take it) or poll the seats route`,
      );
    }
  }

  /** The zone's feed, ready (its picture loaded). Fails with INVENTORY_REBUILDING when the zone has no live inventory. */
  async feed(eventId: string, zone: CachedZone): Promise<ZoneFeed> {
    const key = `${eventId}\u0000${zone.zone.zoneId}`;
    let entry = this.feeds.get(key);
    if (!entry) {
      const k = zoneKeys(this.cfg.REDIS_KEY_PREFIX, eventId, zone.zone.zoneId);
      if (!(await this.redis.exists(k.meta)))
        throw new ApiError('INVENTORY_REBUILDING', 'This zone has no live inventory yet; try again shortly');
      entry = this.feeds.get(key);
      if (!entry) {
        const zoneLog = new ZoneLog(this.redis, this.cfg.REDIS_KEY_PREFIX, eventId, zone.zone.zoneId, {
          maxLength: this.cfg.LIVE_LOG_LENGTH,
          ttlMs: this.cfg.LIVE_LOG_TTL_SECONDS * 1000,
          leaseMs: this.cfg.LIVE_LEASE_MS,
        });
        const feed = new ZoneFeed(
          zoneLog,
          zone,
          {
            coalesceMs: this.cfg.LIVE_COALESCE_MS,
            readIntervalMs: this.cfg.LIVE_READ_INTERVAL_MS,
            leaseMs: this.cfg.LIVE_LEASE_MS,
            replayFrames: Math.min(this.cfg.LIVE_LOG_LENGTH, 256),
            logLength: this.cfg.LIVE_LOG_LENGTH,
            prefix: this.cfg.REDIS_KEY_PREFIX,
          },
          this.log,
        );
        entry = { feed };
        this.feeds.set(key, entry);
        metrics.liveZones.inc();
        feed.ready.catch(() => this.dropFeed(key));
      }
    }
    if (entry.linger) clearTimeout(entry.linger);
    entry.linger = undefined;
    await entry.feed.ready;
    return entry.feed;
  }

  /**
   * Starts a viewer: replays what it missed after `lastEventId` if the log still has it, else a
   * snapshot. Returns the function that ends it (the connection closed).
   */
  async attach(eventId: string, zone: CachedZone, sink: ViewerSink, lastEventId: number | undefined): Promise<() => void> {
    const feed = await this.feed(eventId, zone);
    // What the viewer has: `has` = the last seq it will have seen after `frames` (undefined: snapshot).
    let frames: string[] = [];
    let has: number | undefined;
    if (lastEventId !== undefined && lastEventId <= feed.seq) {
      const missed = await feed.replay(lastEventId);
      if (missed) {
        frames = missed;
        has = lastEventId + missed.length;
      }
    } else if (lastEventId !== undefined && lastEventId <= (await feed.lastLoggedSeq())) {
      // Seen on another replica whose reader is a little ahead: this one catches up and skips to it.
      has = lastEventId;
    }
    // Synchronous from here to registration, so no change slips between the replay and joining.
    if (has !== undefined && has < feed.seq) {
      const more = feed.framesSince(has);
      if (more) {
        frames = [...frames, ...more];
        has = feed.seq;
      } else has = undefined;
    }
    const key = `${eventId}\u0000${zone.zone.zoneId}`;
    const viewer: Viewer = {
      after: 0,
      write: (chunk) => {
        // Judged before writing: the queue is at most the limit plus one frame (a frame may be larger than the limit).
        if (sink.writableLength > this.cfg.LIVE_MAX_BUFFER_BYTES) {
          metrics.liveViewersDropped.inc({ reason: 'slow' });
          this.detach(key, viewer);
          return void sink.destroy();
        }
        sink.write(chunk);
      },
    };
    sink.write('retry: 2000\n\n');
    if (has === undefined) {
      viewer.write(feed.snapshot());
      metrics.liveEventsSent.inc({ type: 'snapshot' });
      viewer.after = feed.seq;
    } else {
      for (const f of frames) viewer.write(f);
      metrics.liveEventsSent.inc({ type: 'change' }, frames.length);
      viewer.after = has;
    }
    feed.viewers.add(viewer);
    this.sinks.set(viewer, sink);
    metrics.liveViewers.inc();
    return () => this.detach(key, viewer);
  }

  private detach(key: string, viewer: Viewer) {
    if (!this.sinks.delete(viewer)) return;
    metrics.liveViewers.dec();
    const entry = this.feeds.get(key);
    if (!entry) return;
    entry.feed.viewers.delete(viewer);
    if (entry.feed.viewers.size === 0 && !entry.linger) {
      entry.linger = setTimeout(() => this.dropFeed(key), FEED_LINGER_MS);
      entry.linger.unref();
    }
  }

  private dropFeed(key: string) {
    const entry = this.feeds.get(key);
    if (!entry || entry.feed.viewers.size > 0) return;
    this.feeds.delete(key);
    metrics.liveZones.dec();
    void entry.feed.stop();
  }

  private beat() {
    for (const [viewer] of this.sinks) viewer.write(': heartbeat\n\n');
    metrics.liveEventsSent.inc({ type: 'heartbeat' }, this.sinks.size);
  }

  /** Ends every stream (EventSource reconnects to another replica) and stops the feeds. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const sink of this.sinks.values()) sink.end();
    metrics.liveViewers.dec(this.sinks.size);
    this.sinks.clear();
    await Promise.all([...this.feeds.values()].map((e) => (clearTimeout(e.linger), e.feed.stop())));
    metrics.liveZones.dec(this.feeds.size);
    this.feeds.clear();
  }
}
