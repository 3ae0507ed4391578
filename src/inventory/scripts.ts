import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

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
}

/** Return codes of confirm.lua (see its header). */
export enum ConfirmCode {
  CONFIRMED = 0,
  ALREADY_CONFIRMED = 1,
  UNKNOWN = 2,
  /** A record an older version voided (purchases are no longer voided): never confirmed. */
  VOIDED = 3,
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
}

export enum InitZoneCode {
  CREATED = 0,
  UNCHANGED = 1,
  LAYOUT_CHANGE_REFUSED = 2,
  RECREATED = 3,
}

const SCRIPTS = {
  tpReserve: { file: 'reserve.lua', keys: 5 },
  tpConfirm: { file: 'confirm.lua', keys: 2 },
  tpClaim: { file: 'claim.lua', keys: 1 },
  tpInitZone: { file: 'init-zone.lua', keys: 3 },
  tpRestoreZone: { file: 'restore-zone.lua', keys: 3 },
  tpMarkSold: { file: 'mark-sold.lua', keys: 3 },
  tpCloseZone: { file: 'close-zone.lua', keys: 1 },
  tpCancel: { file: 'cancel.lua', keys: 2 },
  tpReleaseCancelled: { file: 'release-cancelled.lua', keys: 5 },
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
  tpCancel(...args: Args): Promise<[number, string]>;
  tpReleaseCancelled(...args: Args): Promise<[number, number]>;
}
export type ScriptedRedis = Redis & ScriptCommands;

/** Lua sources live in src/commands; the build copies them next to the compiled code. */
function commandsDir(): string {
  for (const candidate of [path.join(__dirname, '..', 'commands'), path.join(__dirname, '..', '..', '..', 'src', 'commands')]) {
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
export function withScripts(redis: Redis): ScriptedRedis {
  const dir = commandsDir();
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) {
      redis.defineCommand(name, { numberOfKeys: spec.keys, lua: readFileSync(path.join(dir, spec.file), 'utf8') });
    }
  }
  return redis as ScriptedRedis;
}
