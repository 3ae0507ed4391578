import { Router } from 'express';
import type { Admission } from '../../admission/admission';
import type { RateLimiter } from '../../admission/rate-limit';
import type { BuyerIdentity } from '../../auth/buyer';
import { ApiError } from '../../shared/errors';
import { eventIdSchema } from '../schemas';
import { parse } from '../validation';

export interface QueueRouteDeps {
  identity: BuyerIdentity;
  admission: Admission;
  limiter: RateLimiter;
}

/**
 * The waiting room (docs/admission.md): join, and follow the place until admitted. The buyer is
 * the token's `sub` in jwt mode, else the declared userId / X-User-Id, as on the hold routes.
 */
export function queueRoutes({ identity, admission, limiter }: QueueRouteDeps): Router {
  const router = Router();

  router.post('/api/v1/events/:eventId/queue', async (req, res) => {
    const buyer = await identity.buyerOf(req);
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    await limiter.check(req, 'queue', buyer.userId);
    if (buyer.via === 'anonymous')
      throw new ApiError('VALIDATION_FAILED', 'Name the buyer who joins: send X-User-Id or a body {userId}', {
        errors: [{ field: 'header.x-user-id', message: 'required to join a queue' }],
      });
    const a = await admission.join(eventId, buyer.userId);
    const body = a.status === 'WAITING' ? a : a.status === 'ADMITTED' ? { ...a, position: 0, estimatedWaitSeconds: 0 } : undefined;
    if (!body) throw new ApiError('INTERNAL', 'A join answered an ended visit');
    res.status(202).set('cache-control', 'no-store').json(body);
  });

  router.get('/api/v1/events/:eventId/queue/:queueId', async (req, res) => {
    const buyer = await identity.buyerOf(req);
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    const answer = await admission.status(eventId, String(req.params.queueId).slice(0, 128), (owner) => identity.mayActFor(buyer, owner));
    res.set('cache-control', 'no-store').json(answer);
  });

  return router;
}
