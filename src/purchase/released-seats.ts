import { duplicateClient, type RedisClient } from '../shared/redis';
import type { Logger } from '../observability/logger';
import { recentZoneKey, RecentlyTaken } from './recently-taken';

/**
 * Freed seats (a cancellation's release) reach every api process's RecentlyTaken cache, so no
 * process answers "taken" for a seat that is on sale again: this process at once, the others
 * through a Redis pub/sub channel. Best effort: a lost message leaves a seat answered "taken"
 * for at most RECENTLY_TAKEN_TTL_MS, never sells anything (reserve.lua alone decides).
 */
export class ReleasedSeats {
  private subscriber: RedisClient | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private get channel(): string {
    return `${this.prefix}released-seats`;
  }

  /** Called right after release-cancelled.lua freed seats (bit offsets of the zone). */
  async announce(eventId: string, zoneId: string, offsets: number[]): Promise<void> {
    RecentlyTaken.forgetEverywhere(recentZoneKey(eventId, zoneId), offsets);
    await this.redis
      .publish(this.channel, JSON.stringify({ eventId, zoneId, offsets }))
      .catch((err: unknown) =>
        this.log.debug({ err }, 'released seats not announced; other api processes forget them within RECENTLY_TAKEN_TTL_MS'),
      );
  }

  /** Listens for the other processes' releases on a connection of its own. */
  async start(): Promise<void> {
    const sub = duplicateClient(this.redis);
    this.subscriber = sub;
    sub.on('message', (_channel: string, raw: string) => {
      try {
        const m = JSON.parse(raw) as { eventId: string; zoneId: string; offsets: number[] };
        RecentlyTaken.forgetEverywhere(recentZoneKey(m.eventId, m.zoneId), m.offsets);
      } catch (err) {
        this.log.debug({ err }, 'ignored a malformed released-seats message');
      }
    });
    await sub.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    this.subscriber = undefined;
  }
}
