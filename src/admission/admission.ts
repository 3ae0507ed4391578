import type { Request } from 'express';
import type { CatalogCache } from '../catalog/cache';
import { HOLD_MIN_SECONDS } from '../config/config';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { problemOf } from '../http/outcomes';
import { ApiError } from '../shared/errors';
import { estimatedWaitSeconds } from './estimate';
import type { AdmissionQueue, Admitted, QueueVisit } from './queue';
import { queueSettingsOf, type QueueSettings } from './settings';
import { AdmissionTokenRejected, type AdmissionClaims, type AdmissionTokens } from './tokens';

/** The header a buyer sends on holds and purchases of a queued event. */
export const ADMISSION_HEADER = 'admission-token';

/**
 * A 403 ADMISSION_REQUIRED thrown from inside idempotent work. Not an ApiError on purpose: the
 * idempotency store keeps an ApiError's 4xx for the key's retries, and a buyer who retries the
 * same Idempotency-Key once admitted must get a fresh attempt, not the stored refusal. The problem
 * handler (src/http/problem.ts) answers it as its `problem`.
 */
export class AdmissionRefused extends Error {
  constructor(readonly problem: ApiError) {
    super(problem.message);
  }
}

/** A checked admission: the request may hold or buy seats of the event (the routes pass it back to the hooks). */
export interface AdmissionPass {
  settings: QueueSettings;
  claims: AdmissionClaims;
  /** When the session ends (ms), from Redis: the token's `exp` is rounded up to a whole second. */
  sessionEndsAt: number;
}

/** What the queue routes answer (src/http/routes/queue.ts shapes it). */
export type QueueAnswer =
  | { status: 'WAITING'; queueId: string; position: number; estimatedWaitSeconds: number; prequeue: boolean; opensAt?: string }
  | { status: 'ADMITTED'; queueId: string; admissionToken: string; expiresAt: string }
  | { status: 'ENDED'; queueId: string; reason: string };

/**
 * The waiting room as the routes see it (docs/admission.md): join and status, the gate that
 * holds and purchases of a queued event pass, and the hooks that end an admission when what it
 * was for is over. An open event costs the gate one look at the in-process catalog cache and
 * nothing else: no Redis call.
 */
export class Admission {
  constructor(
    private readonly queue: AdmissionQueue,
    private readonly tokens: AdmissionTokens,
    private readonly catalog: CatalogCache,
    private readonly log: Logger,
  ) {}

  /** The event's queue settings; undefined for an open event. Throws 404 for an unknown event. */
  async settings(eventId: string): Promise<QueueSettings | undefined> {
    const event = await this.catalog.get(eventId);
    if (!event) throw new ApiError('EVENT_NOT_FOUND', `Event ${eventId} does not exist; GET /api/v1/events lists the events`);
    return queueSettingsOf(event.entry.event);
  }

  async join(eventId: string, buyer: string): Promise<QueueAnswer> {
    const s = await this.settings(eventId);
    if (!s) throw new ApiError('QUEUE_NOT_USED', `Event ${eventId} has no waiting room; hold or buy its seats directly`);
    const event = (await this.catalog.get(eventId))!.entry.event;
    const now = this.queue.clock();
    if (event.state !== 'OnSale') throw problemOf({ kind: 'not-on-sale', eventId, state: event.state });
    if (s.closesAt !== undefined && now >= s.closesAt)
      throw problemOf({ kind: 'outside-sales-window', eventId, opensAt: event.salesOpensAt, closesAt: event.salesClosesAt });
    if (now < s.joinsFrom)
      throw new ApiError('QUEUE_NOT_OPEN', `The waiting room of ${eventId} opens at ${new Date(s.joinsFrom).toISOString()}; join then`, {
        opensAt: new Date(s.joinsFrom).toISOString(),
      });
    const { visit, joined, admitted } = await this.queue.join(s, buyer);
    metrics.queueJoins.inc({ event_id: eventId, result: joined ? 'joined' : 'rejoined' });
    this.admitted(s, admitted);
    return this.answer(s, visit);
  }

  /** A visit's state, for its buyer (or the admin token): 404 QUEUE_NOT_FOUND for an unknown id, 403 FORBIDDEN for another's. */
  async status(eventId: string, queueId: string, mayRead: (owner: string) => boolean): Promise<QueueAnswer> {
    const s = await this.settings(eventId);
    const visit = s && (await this.queue.status(s, queueId));
    if (!s || !visit)
      throw new ApiError(
        'QUEUE_NOT_FOUND',
        `No place ${queueId} in the queue of ${eventId}; join with POST /api/v1/events/${eventId}/queue`,
      );
    if (!mayRead(visit.buyer))
      throw new ApiError('FORBIDDEN', 'This place in the queue belongs to another buyer; only its buyer may read it');
    return this.answer(s, visit);
  }

  private async answer(s: QueueSettings, v: QueueVisit): Promise<QueueAnswer> {
    const now = this.queue.clock();
    if (v.state === 'ADMITTED') {
      const claims = { buyer: v.buyer, eventId: s.eventId, queueId: v.queueId, jti: v.jti, expiresAt: v.sessionEndsAt };
      return {
        status: 'ADMITTED',
        queueId: v.queueId,
        admissionToken: await this.tokens.sign(claims),
        expiresAt: new Date(v.sessionEndsAt).toISOString(),
      };
    }
    if (v.state === 'ENDED') return { status: 'ENDED', queueId: v.queueId, reason: v.endReason ?? 'timeout' };
    return {
      status: 'WAITING',
      queueId: v.queueId,
      position: v.position,
      estimatedWaitSeconds: estimatedWaitSeconds(s, v.position, v.history, now),
      prequeue: v.prequeue,
      ...(now < s.opensAt ? { opensAt: new Date(s.opensAt).toISOString() } : {}),
    };
  }

  /**
   * The gate of every hold and purchase route: undefined for an open event (and for the admin
   * token, an operator); for a queued event the request's Admission-Token, checked for this buyer,
   * this event and a live session (one Redis read), else 403 ADMISSION_REQUIRED (thrown as
   * AdmissionRefused, so an Idempotency-Key is not spent on it).
   */
  async require(req: Request, eventId: string, buyer: string, admin = false): Promise<AdmissionPass | undefined> {
    const event = await this.catalog.get(eventId);
    const settings = queueSettingsOf(event?.entry.event);
    if (!settings || admin) return undefined;
    const join = `join the queue with POST /api/v1/events/${eventId}/queue and send the admissionToken it gives you as Admission-Token`;
    const token = req.get(ADMISSION_HEADER);
    if (!token) throw admissionRequired(`Event ${eventId} sells through a waiting room; ${join}`);
    let claims: AdmissionClaims;
    try {
      claims = await this.tokens.verify(token, eventId);
    } catch (err) {
      if (err instanceof AdmissionTokenRejected) throw admissionRequired(err.message);
      throw err;
    }
    if (claims.buyer !== buyer) throw admissionRequired(`The Admission-Token is for another buyer than ${buyer}; ${join}`);
    const e = await this.queue.entry(eventId, claims.queueId);
    const now = this.queue.clock();
    if (!e || e.s !== 'a' || e.k !== claims.jti || (e.x ?? 0) <= now || e.b !== buyer) {
      const why = e?.s === 'e' ? ` (${e.r ?? 'ended'})` : '';
      throw admissionRequired(`This admission is not live any more${why}; ${join}`);
    }
    return { settings, claims, sessionEndsAt: e.x ?? claims.expiresAt };
  }

  /** A hold's expiry on a queued event: at most until the admission session ends (a hold never outlives the right to pay it). */
  holdSeconds(pass: AdmissionPass | undefined, requested: number): number {
    if (!pass || !Number.isInteger(requested)) return requested;
    const left = Math.floor((pass.sessionEndsAt - this.queue.clock()) / 1000);
    return Math.max(HOLD_MIN_SECONDS, Math.min(requested, left));
  }

  /**
   * An extension on a queued event: at most to the end of the admission session. Nothing left to
   * add is HOLD_LIMIT_REACHED (409), as an extension past HOLD_MAX_SECONDS is.
   */
  extendSeconds(pass: AdmissionPass, holdExpiresAt: number, requested: number): number {
    const left = Math.floor((pass.sessionEndsAt - holdExpiresAt) / 1000);
    if (left < 1)
      throw new ApiError(
        'HOLD_LIMIT_REACHED',
        `The hold already lasts until your admission session ends (${new Date(pass.sessionEndsAt).toISOString()}); pay it before then`,
      );
    return Math.min(requested, left);
  }

  /** The buyer bought (201): the admission ends and the next buyer is admitted in the same step. */
  async purchased(pass: AdmissionPass | undefined): Promise<void> {
    if (!pass) return;
    await this.guard('end the admission after a purchase', async () => {
      const r = await this.queue.end(pass.settings, pass.claims.queueId, pass.claims.jti, 'purchased');
      if (r.ended) metrics.queueSessionsEnded.inc({ event_id: pass.settings.eventId, reason: 'purchased' });
      this.admitted(pass.settings, r.admitted);
    });
  }

  /** A hold was made (or extended) in the session: it keeps the session going until it ends. */
  async holdMade(eventId: string, buyer: string | undefined, holdId: string, expiresAt: number): Promise<void> {
    const s = buyer ? queueSettingsOf((await this.catalog.get(eventId))?.entry.event) : undefined;
    if (!s || !buyer) return;
    await this.guard('record the hold in the admission', () => this.queue.holdSet(s, buyer, holdId, expiresAt));
  }

  /** A hold was released: a session left with no hold ends, and the next buyer is admitted. */
  async holdReleased(eventId: string, buyer: string | undefined, holdId: string): Promise<void> {
    const s = buyer ? queueSettingsOf((await this.catalog.get(eventId))?.entry.event) : undefined;
    if (!s || !buyer) return;
    await this.guard('end the admission after a release', async () => {
      const r = await this.queue.holdReleased(s, buyer, holdId);
      if (r.ended) metrics.queueSessionsEnded.inc({ event_id: eventId, reason: 'holds-ended' });
      this.admitted(s, r.admitted);
    });
  }

  /** Counts buyers a step admitted (each is admitted by exactly one step, so by one process). */
  admitted(s: QueueSettings, list: Admitted[]): void {
    if (list.length === 0) return;
    metrics.queueAdmitted.inc({ event_id: s.eventId }, list.length);
    for (const a of list) metrics.queueWaitSeconds.observe({ event_id: s.eventId }, a.waitedMs / 1000);
  }

  /**
   * The hooks run after the buyer's answer is decided: a failure is logged, never turned into an
   * error for a purchase that succeeded. The session then ends by the pump (its holds or its time).
   */
  private async guard(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.log.warn({ err }, `could not ${what}; the pump ends it with its holds or its session`);
    }
  }
}

const admissionRequired = (detail: string) => new AdmissionRefused(new ApiError('ADMISSION_REQUIRED', detail));
