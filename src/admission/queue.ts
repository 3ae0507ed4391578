import { randomBytes } from 'node:crypto';
import { QueueCode, type ScriptedRedis } from '../commands/scripts';
import type { AdmissionHistory } from './estimate';
import { queueIndexKey, queueKeyList, queueKeys, type QueueKeys } from './keys';
import type { QueueSettings } from './settings';

/**
 * One event's waiting room in Redis (docs/admission.md): thin calls of the queue scripts
 * (src/commands/queue-*.lua), each one atomic step on the event's hash tag. What an answer means
 * for HTTP is the routes' (src/http/routes/queue.ts) and the gate's (admission.ts).
 */

export type VisitState = 'WAITING' | 'ADMITTED' | 'ENDED';
/** Why a session ended: the buyer bought, their holds all ended (released or expired), or it timed out. */
export type EndReason = 'purchased' | 'holds-ended' | 'timeout';

export interface QueueVisit {
  queueId: string;
  state: VisitState;
  /** 1 = next in line; 0 when not waiting. */
  position: number;
  /** The admission's unique id (the token's jti); '' unless admitted. */
  jti: string;
  /** When the admission session ends (ms); 0 unless admitted once. */
  sessionEndsAt: number;
  buyer: string;
  endReason?: EndReason;
  /** Joined before the opening: the place is a random draw among the pre-queue. */
  prequeue: boolean;
  history: AdmissionHistory;
  activeSessions: number;
}

/** A buyer admitted by a step, and how long they waited (ms, from their join or the opening, whichever is later). */
export interface Admitted {
  queueId: string;
  waitedMs: number;
}

export interface PumpResult {
  ended: number;
  waiting: number;
  active: number;
  admitted: Admitted[];
}

/** A live admission as stored (the gate checks a token against it). */
export interface StoredEntry {
  b: string;
  s: 'w' | 'a' | 'e';
  j: number;
  t: number;
  a?: number;
  x?: number;
  k?: string;
  r?: EndReason;
}

const STATE: Record<string, VisitState> = { w: 'WAITING', a: 'ADMITTED', e: 'ENDED' };

/** A random draw in [0, 1) with 48 bits: a pre-queue join's place. Ties (2^-48) fall back to queueId order. */
const uniformDraw = () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48;

function admittedOf(reply: (number | string)[], from: number): Admitted[] {
  const out: Admitted[] = [];
  for (let i = from; i + 1 < reply.length; i += 2) out.push({ queueId: String(reply[i]), waitedMs: Number(reply[i + 1]) });
  return out;
}

/** The fields of queue-lib.lua's describe(); what follows them in queue-join's answer is the admitted list. */
const DESCRIBED = 13;

function visitOf(r: (number | string)[], now: number): QueueVisit {
  const [, queueId, s, position, jti, sessionEndsAt, buyer, reason, pre, count, newest, oldest, active] = r;
  let state = STATE[String(s)] ?? 'ENDED';
  let endReason = reason ? (String(reason) as EndReason) : undefined;
  // Past its end and not pumped yet: it is over already.
  if (state === 'ADMITTED' && Number(sessionEndsAt) <= now) {
    state = 'ENDED';
    endReason = 'timeout';
  }
  return {
    queueId: String(queueId),
    state,
    position: Number(position),
    jti: String(jti),
    sessionEndsAt: Number(sessionEndsAt),
    buyer: String(buyer),
    ...(endReason ? { endReason } : {}),
    prequeue: Number(pre) === 1,
    history: { count: Number(count), newest: Number(newest), oldest: Number(oldest) },
    activeSessions: Number(active),
  };
}

export class AdmissionQueue {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
    /** How long a queue's keys outlive its last change (ms). */
    private readonly ttlMs: number,
    readonly clock: () => number = Date.now,
  ) {}

  keys(eventId: string): QueueKeys {
    return queueKeys(this.prefix, eventId);
  }

  private common(s: QueueSettings, now: number): (string | number)[] {
    return [...queueKeyList(this.keys(s.eventId)), now, s.activeBuyers, s.sessionMs, s.opensAt, this.ttlMs];
  }

  /** Joins (or answers the buyer's current visit), and whom the step admitted (the joiner, when there was room). */
  async join(s: QueueSettings, buyer: string): Promise<{ visit: QueueVisit; joined: boolean; admitted: Admitted[] }> {
    const now = this.clock();
    // The pump's index, beside the join (another slot; auto-pipelined): idempotent, so every join
    // re-adds it and a lost index is back with the next join.
    const [r] = await Promise.all([
      this.redis.tpQueueJoin(...this.common(s, now), buyer, uniformDraw(), randomBytes(6).toString('base64url')),
      this.redis.sadd(queueIndexKey(this.prefix), s.eventId),
    ]);
    return { visit: visitOf(r, now), joined: Number(r[0]) === QueueCode.OK, admitted: admittedOf(r, DESCRIBED) };
  }

  async status(s: QueueSettings, queueId: string): Promise<QueueVisit | undefined> {
    const now = this.clock();
    const r = await this.redis.tpQueueStatus(...this.common(s, now), queueId);
    return Number(r[0]) === QueueCode.NOT_FOUND ? undefined : visitOf(r, now);
  }

  /** Ends timed-out and hold-less sessions, and admits while there is room (queue-pump.lua). */
  async pump(s: QueueSettings): Promise<PumpResult> {
    const r = await this.redis.tpQueuePump(...this.common(s, this.clock()));
    return { ended: Number(r[0]), waiting: Number(r[1]), active: Number(r[2]), admitted: admittedOf(r, 3) };
  }

  /** Ends the admission `jti` of visit `queueId` (the buyer bought) and admits the next in the same step. */
  async end(s: QueueSettings, queueId: string, jti: string, reason: EndReason): Promise<{ ended: boolean; admitted: Admitted[] }> {
    const r = await this.redis.tpQueueEnd(...this.common(s, this.clock()), queueId, jti, reason);
    return { ended: Number(r[0]) === QueueCode.OK, admitted: admittedOf(r, 1) };
  }

  /** Records a hold of the buyer's session (made or extended) with its expiry. */
  async holdSet(s: QueueSettings, buyer: string, holdId: string, expiresAt: number): Promise<boolean> {
    const r = await this.redis.tpQueueHold(...this.common(s, this.clock()), buyer, holdId, 'set', expiresAt);
    return Number(r[0]) === QueueCode.OK;
  }

  /** Drops a released hold; a session left without holds ends and the next buyer is admitted. */
  async holdReleased(s: QueueSettings, buyer: string, holdId: string): Promise<{ ended: boolean; admitted: Admitted[] }> {
    const r = await this.redis.tpQueueHold(...this.common(s, this.clock()), buyer, holdId, 'del', 0);
    return { ended: Number(r[0]) === QueueCode.ENDED, admitted: admittedOf(r, 1) };
  }

  /** The stored entry of a visit: one HGET, the gate's check of a token. */
  async entry(eventId: string, queueId: string): Promise<StoredEntry | undefined> {
    const raw = await this.redis.hget(this.keys(eventId).entries, queueId);
    return raw ? (JSON.parse(raw) as StoredEntry) : undefined;
  }

  /** The events with a waiting room to pump (queueIndexKey). */
  indexed(): Promise<string[]> {
    return this.redis.smembers(queueIndexKey(this.prefix));
  }

  /** Takes an event off the pump's index (it is open now, or gone from the catalog). */
  async unindex(eventId: string): Promise<void> {
    await this.redis.srem(queueIndexKey(this.prefix), eventId);
  }

  /** The visits in admission order (the fairness checks: tests and the burst benchmark). */
  async admissionOrder(eventId: string): Promise<string[]> {
    return this.redis.lrange(this.keys(eventId).order, 0, -1);
  }

  /** Deletes an event's queue (tests, admin reset). */
  async clear(eventId: string): Promise<void> {
    await this.redis.del(...queueKeyList(this.keys(eventId)));
    await this.unindex(eventId);
  }
}
