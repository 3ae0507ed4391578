import { readFileSync } from 'node:fs';
import path from 'node:path';
import { masters, type RedisClient } from '../shared/redis';

/** Return codes of reserve.lua (see its header). */
export enum ReserveCode {
  OK = 0,
  SEATS_TAKEN = 1,
  SOLD_OUT = 2,
  OUT_OF_LAYOUT = 3,
  NO_INVENTORY = 4,
  LAYOUT_MISMATCH = 5,
  DUPLICATE = 6,
  /** The zone left the catalog and is fenced (close-zone.lua): nothing was reserved. */
  ZONE_CLOSED = 7,
  /** The zone's failover fence is up (hold-lib.lua, zone_trusted): nothing was reserved. */
  REBUILDING = 8,
}

/** Return codes of confirm.lua (see its header). */
export enum ConfirmCode {
  CONFIRMED = 0,
  ALREADY_CONFIRMED = 1,
  UNKNOWN = 2,
  /** A record an older version voided (purchases are no longer voided): never confirmed. */
  VOIDED = 3,
  /** A purchase id fenced (fence.lua's tombstone: it never reserved anything): never confirmed. */
  FENCED = 4,
}

/** Return codes of idem-write.lua (see its header). */
export enum MarkerWriteCode {
  /** The key no longer belongs to the caller's purchase id (or is gone): nothing written. */
  REFUSED = 0,
  WRITTEN = 1,
}

/**
 * Return codes of the hold scripts: hold.lua, best.lua, extend.lua, release.lua and convert.lua
 * (see their headers). 0..6 mean what they mean for reserve.lua.
 */
export enum HoldCode {
  OK = 0,
  SEATS_TAKEN = 1,
  SOLD_OUT = 2,
  OUT_OF_LAYOUT = 3,
  NO_INVENTORY = 4,
  LAYOUT_MISMATCH = 5,
  /** A seat repeats, or the id exists for something else (a fence tombstone included). */
  DUPLICATE = 6,
  /** best.lua: fewer free seats than asked; the detail is how many are free. */
  NOT_ENOUGH_SEATS = 7,
  HOLD_NOT_FOUND = 8,
  /** Released, purchased or fenced: nothing to extend, release or pay. */
  HOLD_NOT_ACTIVE = 9,
  HOLD_EXPIRED = 10,
  /** extend.lua: the new expiry would pass createdAt + HOLD_MAX_SECONDS; the detail is that limit (ms). */
  HOLD_LIMIT_REACHED = 11,
  /** The zone's meta has `closed` set (the event is being removed): no new holds or sales. */
  ZONE_CLOSED = 12,
  /** convert.lua: a late payment whose seats were all free again; they are reserved now. */
  LATE_RETAKEN = 13,
  /** convert.lua: the seats given are not the live hold's seats. */
  HOLD_SEATS_MISMATCH = 14,
  /** hold, best, convert: the zone's failover fence is up (see ReserveCode.REBUILDING): nothing changed. */
  REBUILDING = 15,
}

/** Return codes of fence-status.lua. */
export enum FenceStatusCode {
  TRUSTED = 0,
  FENCED = 1,
  NO_INVENTORY = 2,
}

/** Return codes of unfence.lua. */
export enum UnfenceCode {
  UNFENCED = 0,
  /** The node's replication id moved during the re-mark: re-mark again. */
  CHANGED = 1,
  NO_INVENTORY = 2,
}

/** Return codes of fence.lua. */
export enum FenceCode {
  GONE = 0,
  HELD = 1,
  PURCHASED = 2,
  /** The purchase existed and is cancelled: its seats count for nobody any more. */
  CANCELLED = 3,
}

/** Return codes of allowance-acquire.lua and allowance-settle.lua. */
export enum AllowanceCode {
  OK = 0,
  BUYER_LIMIT_REACHED = 1,
  /** A provisional entry for this id belongs to another request still running. */
  BUSY = 2,
  /** settle: no such entry, or another request or a resolution settled it first. */
  STALE = 3,
}

/** Return codes of cancel.lua (see its header). */
export enum CancelCode {
  CANCELLING = 0,
  ALREADY_CANCELLING = 1,
  ALREADY_CANCELLED = 2,
  NOT_CONFIRMED = 3,
  NO_RECORD = 4,
  VOIDED = 5,
}

/** Return codes of release-cancelled.lua (see its header). */
export enum ReleaseCancelledCode {
  RELEASED = 0,
  ALREADY_CANCELLED = 1,
  NOT_CANCELLING = 2,
  NO_INVENTORY = 4,
  LAYOUT_MISMATCH = 5,
  /** The zone's failover fence is up: nothing freed; the re-mark or, once trusted, the sweep settles it. */
  FENCED = 6,
}

export enum InitZoneCode {
  CREATED = 0,
  UNCHANGED = 1,
  LAYOUT_CHANGE_REFUSED = 2,
  RECREATED = 3,
}

/** Return codes of settle-closed-zone.lua (see its header). */
export enum SettleClosedZoneCode {
  SETTLED = 0,
  /** The closed zone is not the closing the audit read any more (re-opened, closed again, gone). */
  CHANGED = 1,
}

/** Return codes of the waiting-room scripts: queue-join, queue-status, queue-end, queue-hold (see their headers). */
export enum QueueCode {
  OK = 0,
  /** queue-join: the buyer's visit was waiting or admitted already; the answer is that visit. */
  ALREADY_JOINED = 1,
  /** queue-status: no such queueId for this event. */
  NOT_FOUND = 2,
  /** queue-end, queue-hold: the buyer holds no admission (or another one: the jti differs). */
  NOT_ACTIVE = 3,
  /** queue-hold: the release left the session without holds, so it ended. */
  ENDED = 4,
}

/** Return codes of rate-limit.lua (the first element of its answer). */
export enum RateLimitCode {
  REFUSED = 0,
  ALLOWED = 1,
}

/** `lib`: a file of shared functions prepended to the script's source (hold-lib.lua). */
const SCRIPTS: Record<keyof ScriptCommands, { file: string; keys: number; lib?: string }> = {
  tpReserve: { file: 'reserve.lua', keys: 7, lib: 'hold-lib.lua' },
  tpConfirm: { file: 'confirm.lua', keys: 2 },
  tpClaim: { file: 'claim.lua', keys: 1 },
  tpInitZone: { file: 'init-zone.lua', keys: 5, lib: 'hold-lib.lua' },
  tpRestoreZone: { file: 'restore-zone.lua', keys: 5, lib: 'hold-lib.lua' },
  tpMarkSold: { file: 'mark-sold.lua', keys: 4 },
  tpHold: { file: 'hold.lua', keys: 6, lib: 'hold-lib.lua' },
  tpBest: { file: 'best.lua', keys: 6, lib: 'hold-lib.lua' },
  tpExtend: { file: 'extend.lua', keys: 2 },
  tpRelease: { file: 'release.lua', keys: 5, lib: 'hold-lib.lua' },
  tpExpire: { file: 'expire.lua', keys: 4, lib: 'hold-lib.lua' },
  tpConvert: { file: 'convert.lua', keys: 8, lib: 'hold-lib.lua' },
  tpFence: { file: 'fence.lua', keys: 2 },
  tpSettleZone: { file: 'settle-zone.lua', keys: 2 },
  tpAllowanceAcquire: { file: 'allowance-acquire.lua', keys: 1 },
  tpAllowanceSettle: { file: 'allowance-settle.lua', keys: 1 },
  tpCloseZone: { file: 'close-zone.lua', keys: 1 },
  tpSettleClosedZone: { file: 'settle-closed-zone.lua', keys: 1 },
  tpCancel: { file: 'cancel.lua', keys: 2 },
  tpReleaseCancelled: { file: 'release-cancelled.lua', keys: 5, lib: 'hold-lib.lua' },
  tpIdemWrite: { file: 'idem-write.lua', keys: 1 },
  tpFenceStatus: { file: 'fence-status.lua', keys: 1, lib: 'hold-lib.lua' },
  tpUnfence: { file: 'unfence.lua', keys: 1, lib: 'hold-lib.lua' },
  tpLiveLease: { file: 'live-lease.lua', keys: 1 },
  tpLiveAppend: { file: 'live-append.lua', keys: 4 },
  tpQueueJoin: { file: 'queue-join.lua', keys: 8, lib: 'queue-lib.lua' },
  tpQueueStatus: { file: 'queue-status.lua', keys: 8, lib: 'queue-lib.lua' },
  tpQueuePump: { file: 'queue-pump.lua', keys: 8, lib: 'queue-lib.lua' },
  tpQueueEnd: { file: 'queue-end.lua', keys: 8, lib: 'queue-lib.lua' },
  tpQueueHold: { file: 'queue-hold.lua', keys: 8, lib: 'queue-lib.lua' },
  tpRateLimit: { file: 'rate-limit.lua', keys: 1 },
} as const;

type Args = (string | number | Buffer)[];
export interface ScriptCommands {
  tpReserve(...args: Args): Promise<number[]>;
  tpConfirm(...args: Args): Promise<number>;
  tpClaim(...args: Args): Promise<string[]>;
  tpInitZone(...args: Args): Promise<number[]>;
  tpRestoreZone(...args: Args): Promise<number[]>;
  tpMarkSold(...args: Args): Promise<number[]>;
  tpCloseZone(...args: Args): Promise<number>;
  tpHold(...args: Args): Promise<number[]>;
  tpBest(...args: Args): Promise<number[]>;
  tpExtend(...args: Args): Promise<number[]>;
  tpRelease(...args: Args): Promise<number[]>;
  tpExpire(...args: Args): Promise<(number | string)[]>;
  tpConvert(...args: Args): Promise<number[]>;
  tpFence(...args: Args): Promise<number[]>;
  tpSettleZone(...args: Args): Promise<number>;
  tpAllowanceAcquire(...args: Args): Promise<(number | string)[]>;
  tpAllowanceSettle(...args: Args): Promise<number>;
  tpSettleClosedZone(...args: Args): Promise<number>;
  tpCancel(...args: Args): Promise<[number, string]>;
  tpReleaseCancelled(...args: Args): Promise<[number, number]>;
  tpIdemWrite(...args: Args): Promise<MarkerWriteCode>;
  tpFenceStatus(...args: Args): Promise<[FenceStatusCode, string]>;
  tpUnfence(...args: Args): Promise<UnfenceCode>;
  tpLiveLease(...args: Args): Promise<number>;
  tpLiveAppend(...args: Args): Promise<number[]>;
  tpQueueJoin(...args: Args): Promise<(number | string)[]>;
  tpQueueStatus(...args: Args): Promise<(number | string)[]>;
  tpQueuePump(...args: Args): Promise<(number | string)[]>;
  tpQueueEnd(...args: Args): Promise<(number | string)[]>;
  tpQueueHold(...args: Args): Promise<(number | string)[]>;
  tpRateLimit(...args: Args): Promise<[RateLimitCode, number]>;
}
export type ScriptedRedis = RedisClient & ScriptCommands;

/** Lua sources live beside this file in src/commands; the build copies them next to the compiled code. */
function commandsDir(): string {
  for (const candidate of [__dirname, path.join(__dirname, '..', '..', '..', 'src', 'commands')]) {
    try {
      readFileSync(path.join(candidate, 'reserve.lua'));
      return candidate;
    } catch {
      /* try the next */
    }
  }
  throw new Error('Lua scripts not found: run `npm run build`, which copies src/commands next to dist/src.');
}

/**
 * Registers the scripts once on a connection; ioredis calls them by SHA (EVALSHA) and
 * loads them again only if the server lost them (NOSCRIPT).
 */
export function withScripts(redis: RedisClient): ScriptedRedis {
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: spec.keys, lua: scriptSource(spec.file) });
  }
  return redis as ScriptedRedis;
}

/** A script's source as it is registered: its library (if any) first, then the script. */
export function scriptSource(file: string): string {
  const dir = commandsDir();
  const spec = Object.values(SCRIPTS).find((s) => s.file === file);
  if (!spec) throw new Error(`${file} is not a registered script; add it to SCRIPTS in src/commands/scripts.ts`);
  const own = readFileSync(path.join(dir, file), 'utf8');
  return spec.lib ? `${readFileSync(path.join(dir, spec.lib), 'utf8')}\n${own}` : own;
}

/**
 * Loads every script on every master now (SCRIPT LOAD), so a script that does not compile stops
 * the process at start-up and the first purchases skip the NOSCRIPT round trip. A master that
 * appears later (a failover) is covered by ioredis, which falls back to EVAL on NOSCRIPT.
 */
export async function preloadScripts(redis: RedisClient): Promise<void> {
  const sources = [...new Set(Object.values(SCRIPTS).map((s) => scriptSource(s.file)))];
  await Promise.all(masters(redis).flatMap((node) => sources.map((lua) => node.script('LOAD', lua))));
}
