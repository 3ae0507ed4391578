import { PeriodicPass } from '../shared/periodic';
import type { CatalogEntry } from '../catalog/model';
import type { Logger } from '../observability/logger';
import type { Holds } from './holds';
import { holdIndexKeys } from './keys';

export interface HoldSweeperOptions {
  /** How often a pass runs (HOLD_SWEEP_INTERVAL_MS). */
  intervalMs: number;
  /** Holds expired per zone and call of expire.lua. */
  batch?: number;
  /** Zones claimed per pass. */
  zonesPerPass?: number;
  /** A claimed zone is due again this long later if its replica died mid-pass. */
  claimMs?: number;
  /** How often the catalog's zones are scanned for holds the index missed (a crash after hold.lua). */
  rescanMs?: number;
}

/** Where the sweeper finds every zone for its rescan (CatalogStore has this). */
export interface ZoneLister {
  listEvents(): Promise<CatalogEntry[]>;
}

/**
 * Returns the seats of expired holds to sale within about a second (docs/purchase-state-machine.md,
 * "The hold sweeper"). Runs in every api replica: zones are claimed (claim.lua), expired
 * (expire.lua, atomic) and settled only if no hold was created meanwhile (settle-zone.lua).
 */
export class HoldSweeper {
  private readonly periodic: PeriodicPass<number>;
  private lastRescan = 0;
  private readonly ix;

  constructor(
    private readonly holds: Holds,
    private readonly zones: ZoneLister | undefined,
    private readonly opts: HoldSweeperOptions,
    private readonly log: Logger,
    /** Called with the holds each pass expired (metrics, a change stream). */
    private readonly onExpired: (eventId: string, zoneId: string, holdIds: string[]) => void = () => undefined,
  ) {
    this.ix = holdIndexKeys(holds.prefix);
    this.periodic = new PeriodicPass(
      () => this.pass(),
      this.opts.intervalMs,
      (err) => this.log.warn({ err }, 'hold sweep failed; it runs again at the next interval'),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass (one at a time per process); returns how many holds it expired. */
  runOnce(): Promise<number> {
    return this.periodic.runOnce();
  }

  private async pass(): Promise<number> {
    const now = this.holds.clock();
    if (this.zones && now - this.lastRescan >= (this.opts.rescanMs ?? 30_000)) {
      this.lastRescan = now;
      await this.rescan();
    }
    const { redis } = this.holds;
    const members = await redis.tpClaim(this.ix.due, now, now + (this.opts.claimMs ?? 5_000), this.opts.zonesPerPass ?? 100);
    if (members.length === 0) return 0;
    // Versions are read before expire.lua: a hold created after this read bumps the version.
    const versions = await redis.hmget(this.ix.version, ...members);
    const done = await Promise.all(members.map((member, i) => this.sweepZone(member, versions[i] ?? '')));
    return done.reduce((a, b) => a + b, 0);
  }

  private async sweepZone(member: string, version: string): Promise<number> {
    const dot = member.indexOf('.');
    const eventId = member.slice(0, dot);
    const zoneId = member.slice(dot + 1);
    try {
      const { expired, next } = await this.holds.expire(eventId, zoneId, this.opts.batch ?? 200);
      await this.holds.redis.tpSettleZone(this.ix.due, this.ix.version, member, version, next ?? -1);
      if (expired.length > 0) this.onExpired(eventId, zoneId, expired);
      return expired.length;
    } catch (err) {
      // Left claimed: due again after claimMs.
      this.log.warn({ err, eventId, zoneId }, 'hold expiry of a zone failed; retried after the claim ends');
      return 0;
    }
  }

  /** Re-indexes every catalog zone with holds (catches a holder that died before indexing). */
  async rescan(): Promise<number> {
    if (!this.zones) return 0;
    const zones = (await this.zones.listEvents()).flatMap((e) => e.venue.zones.map((z) => [e.event.eventId, z.zoneId] as const));
    // One command per zone, not a pipeline: the zones live in different slots (nodes, on a
    // cluster), and auto-pipelining batches the commands per node anyway.
    const replies = await Promise.all(
      zones.map(([eventId, zoneId]) =>
        this.holds.redis.zrange(this.holds.keys(eventId, zoneId).heldUntil, '0', '0', 'WITHSCORES').catch(() => undefined),
      ),
    );
    let indexed = 0;
    for (let i = 0; i < zones.length; i++) {
      const first = replies[i];
      if (!first || first.length < 2) continue;
      await this.holds.indexZone(zones[i]![0], zones[i]![1], Number(first[1]));
      indexed++;
    }
    return indexed;
  }
}
