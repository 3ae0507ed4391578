import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Admission, AdmissionPass } from '../../admission/admission';
import type { RateLimiter } from '../../admission/rate-limit';
import { ANONYMOUS_BUYER, type BuyerIdentity } from '../../auth/buyer';
import { purchaseAnswer, purchaseIdOfHold, type Checkout } from '../../checkout/checkout';
import type { CheckoutStore } from '../../checkout/checkout-store';
import type { HoldService } from '../../checkout/holds';
import { metrics } from '../../observability/metrics';
import type { Logger } from '../../observability/logger';
import type { IdempotencyStore, StoredResponse } from '../../purchase/idempotency';
import { ApiError } from '../../shared/errors';
import { sendStoredAnswer } from '../send-json';
import { OutcomeError } from '../../purchase/engine';
import { problemOf } from '../outcomes';
import { extendBody, holdBody, payBody } from '../checkout-schemas';
import { eventIdSchema } from '../schemas';
import { parse } from '../validation';

export interface HoldRouteDeps {
  identity: BuyerIdentity;
  holds: HoldService;
  checkout: Checkout;
  store: CheckoutStore;
  idempotency: IdempotencyStore;
  log: Logger;
  /** The waiting room's gate and hooks (docs/admission.md); holds of an open event never reach Redis for it. */
  admission: Admission;
  limiter: RateLimiter;
  /** HOLD_DEFAULT_SECONDS: what a hold of a queued event is capped from. */
  holdDefaultSeconds: number;
}

/**
 * A hold id chosen from the Idempotency-Key, so every attempt under one key (a retry after a
 * crash included, whatever the idempotency store does with it) makes or answers the same hold.
 */
function holdIdForKey(eventId: string, zoneId: string, scope: string, key: string): string {
  const random = createHash('sha256')
    .update(JSON.stringify(['hold', scope, key]))
    .digest('base64url')
    .slice(0, 16);
  return `${eventId}.${zoneId}.h${random}`;
}

/**
 * Runs an idempotent handler's work with its outcomes as problems: the idempotency store keeps
 * an ApiError's 4xx answer for the retry, but would forget a bare OutcomeError as a failure.
 */
async function asProblems<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof OutcomeError) throw problemOf(err.outcome);
    throw err;
  }
}

/**
 * The holds of docs/checkout.md ("Holds and paying them"): create (seats or best available),
 * read, extend, release, pay. The buyer comes from BuyerIdentity; a hold is read or changed only
 * by its buyer or with the admin token (403 FORBIDDEN otherwise).
 */
export function holdRoutes(deps: HoldRouteDeps): Router {
  const { identity, holds, checkout, store, idempotency, log, admission, limiter } = deps;
  const router = Router();

  /** The request's buyer, and the hold if that buyer may act on it. The token is checked before anything else. */
  async function ownHold(req: Request) {
    const buyer = await identity.buyerOf(req);
    const holdId = String(req.params.holdId);
    const hold = await holds.get(holdId);
    identity.assertMayActFor(buyer, hold.buyer ?? ANONYMOUS_BUYER, 'hold');
    return { buyer, hold, holdId };
  }

  router.post('/api/v1/events/:eventId/holds', async (req, res) => {
    const buyer = await identity.buyerOf(req);
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    await limiter.check(req, 'holds', buyer.userId);
    const b = parse(holdBody, req.body ?? {}, 'body');
    // An anonymous request (declared mode, nobody named) keeps the per-request limit only.
    const declared = buyer.via === 'anonymous' ? undefined : buyer.userId;
    const create = async (holdId?: string): Promise<StoredResponse> => {
      // Inside the idempotent work: a retry of a hold that was made replays it, admission or not.
      const pass = await admission.require(req, eventId, buyer.userId, buyer.admin);
      const view = await asProblems(() =>
        holds.create({
          eventId,
          zoneId: b.zoneId,
          buyer: declared,
          seats: b.seats,
          best: b.best,
          expiresInSeconds: pass ? admission.holdSeconds(pass, b.expiresInSeconds ?? deps.holdDefaultSeconds) : b.expiresInSeconds,
          holdId,
        }),
      );
      if (pass) await admission.holdMade(eventId, declared, view.holdId, Date.parse(view.expiresAt));
      // The /me index is a convenience: the hold stands even if it is not listed there.
      if (declared)
        await store
          .indexHold(declared, view.holdId, Date.now())
          .catch((err: unknown) => log.warn({ err, holdId: view.holdId }, 'hold not added to the buyer index'));
      return { status: 201, body: view };
    };
    const key = req.get('idempotency-key');
    const answer =
      key === undefined
        ? await create()
        : await idempotency.run(
            buyer.userId,
            key,
            { route: 'holds', eventId, body: b },
            () => holdIdForKey(eventId, b.zoneId, buyer.userId, key),
            create,
            () => {
              // Only purchase ids are ever found as purchases; a hold id never is, so this is not reached.
              throw new ApiError('INTERNAL', 'A hold has no purchase to replay');
            },
          );
    sendStoredAnswer(res, req, answer);
  });

  router.get('/api/v1/holds/:holdId', async (req, res) => {
    const { hold } = await ownHold(req);
    res.set('cache-control', 'no-store').json(hold);
  });

  router.post('/api/v1/holds/:holdId/extend', async (req, res) => {
    const { buyer, holdId, hold } = await ownHold(req);
    await limiter.check(req, 'holds', buyer.userId);
    const b = parse(extendBody, req.body ?? {}, 'body');
    // On a queued event an extension needs a live admission too, and never outlives it.
    const pass = await admission.require(req, hold.eventId, hold.buyer ?? ANONYMOUS_BUYER, buyer.admin);
    const seconds = pass ? admission.extendSeconds(pass, Date.parse(hold.expiresAt), b.seconds) : b.seconds;
    const view = await holds.extend(holdId, seconds);
    await admission.holdMade(view.eventId, hold.buyer, holdId, Date.parse(view.expiresAt));
    res.json(view);
  });

  router.delete('/api/v1/holds/:holdId', async (req, res) => {
    const { holdId, hold } = await ownHold(req);
    const view = await holds.release(holdId);
    await admission.holdReleased(view.eventId, hold.buyer, holdId);
    res.json(view);
  });

  router.post('/api/v1/holds/:holdId/purchase', async (req, res) => {
    const { buyer, holdId, hold } = await ownHold(req);
    await limiter.check(req, 'purchases', buyer.userId);
    const b = parse(payBody, req.body ?? {}, 'body');
    let outcome = 'rejected';
    let pass: AdmissionPass | undefined;
    try {
      // The hold is read again inside: a retry must see what the first attempt left. The
      // admission is checked inside too, so a retry of a payment that went through replays it.
      const pay = async (): Promise<StoredResponse> => {
        pass = await admission.require(req, hold.eventId, hold.buyer ?? ANONYMOUS_BUYER, buyer.admin);
        return asProblems(async () => checkout.payHold(await holds.get(holdId), b.payment));
      };
      const key = req.get('idempotency-key');
      const answer =
        key === undefined
          ? await pay()
          : await idempotency.run(
              buyer.userId,
              key,
              { route: 'hold-purchase', holdId, body: b },
              () => purchaseIdOfHold(holdId)!,
              pay,
              (p) => ({ status: 201, body: purchaseAnswer(p, holdId) }),
            );
      outcome = answer.status === 201 ? 'confirmed' : answer.status === 202 ? 'payment_pending' : 'replayed';
      // Bought: the admission ends and the next buyer is admitted (a pending payment keeps it).
      if (answer.status === 201) await admission.purchased(pass);
      sendStoredAnswer(res, req, answer);
    } catch (err) {
      if (err instanceof ApiError) outcome = PAY_OUTCOME[err.code] ?? (err.status >= 500 ? 'unavailable' : 'rejected');
      else if (err instanceof OutcomeError) outcome = PAY_OUTCOME[problemOf(err.outcome).code] ?? 'rejected';
      throw err;
    } finally {
      metrics.purchaseAttempts.inc({ route: 'hold_purchase', outcome });
    }
  });

  return router;
}

const PAY_OUTCOME: Record<string, string> = {
  PAYMENT_DECLINED: 'declined',
  PAYMENT_REFUNDED: 'refunded',
  PURCHASE_OUTCOME_UNKNOWN: 'unknown',
  KAFKA_UNAVAILABLE: 'unavailable',
};
