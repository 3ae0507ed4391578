import { Router } from 'express';
import { z } from 'zod';
import type { BuyerIdentity } from '../../auth/buyer';
import type { Cancellations } from '../../purchase/cancel';
import { userIdSchema } from '../schemas';
import { parse } from '../validation';

export interface CancelRouteDeps {
  cancellations: Cancellations;
  identity: BuyerIdentity;
}

/** The body is optional; in declared mode it may name the buyer (as X-User-Id may). */
const cancelBodySchema = z.object({ userId: userIdSchema.optional() }).strict().optional();

/**
 * `POST /api/v1/purchases/{purchaseId}/cancel`, by the purchase's buyer or with the admin token:
 * 200 `{purchaseId, status: CANCELLED, refund, …}` once the seats are on sale again; a repeat
 * answers the same. See docs/purchase-state-machine.md, "Cancellation".
 */
export function cancelRoutes({ cancellations, identity }: CancelRouteDeps): Router {
  const router = Router();
  router.post('/api/v1/purchases/:purchaseId/cancel', async (req, res) => {
    parse(cancelBodySchema, req.body, 'body');
    const buyer = await identity.buyerOf(req);
    const answer = await cancellations.cancel(req.params.purchaseId, (owner) => identity.assertMayActFor(buyer, owner, 'purchase'));
    res.status(200).json(answer);
  });
  return router;
}
