import { Router, type Request } from 'express';
import { ANONYMOUS_BUYER, type Buyer, type BuyerIdentity } from '../../auth/buyer';
import type { Checkout } from '../../checkout/checkout';
import type { CheckoutStore } from '../../checkout/checkout-store';
import type { HoldService, HoldView } from '../../checkout/holds';
import type { TicketView } from '../../events/ticket-view';
import type { Logger } from '../../observability/logger';
import type { ReadModel } from '../../projector/read-model';
import { parsePurchaseId } from '../../purchase/ids';
import { purchaseView, type PurchaseFinder } from '../../purchase/lookup';
import { ApiError } from '../../shared/errors';

export interface MeRouteDeps {
  identity: BuyerIdentity;
  holds: HoldService;
  checkout: Checkout;
  store: CheckoutStore;
  readModel: ReadModel;
  purchases: PurchaseFinder;
  log: Logger;
}

/** How many of the buyer's tickets `/me/purchases` reads from the read model (oldest first). */
const READ_MODEL_TICKETS = 500;
const HOLD_STATUSES = new Set(['HELD', 'EXPIRED', 'RELEASED', 'PURCHASED']);

/**
 * The buyer's own routes (docs/checkout.md, "A buyer's own holds and purchases"), and what
 * `GET /api/v1/purchases/{id}` needs from the checkout. Mount before readRoutes: the purchase
 * route here answers only the states that have no purchase record (PAYMENT_PENDING, REFUNDED, …)
 * and, in jwt mode, refuses other buyers; everything else falls through to the read route.
 */
export function meRoutes(deps: MeRouteDeps): Router {
  const { identity, holds, checkout, store, readModel, purchases, log } = deps;
  const router = Router();

  /** `/me` needs a named buyer: a token (jwt mode) or X-User-Id (declared mode). */
  async function me(req: Request): Promise<Buyer> {
    const buyer = await identity.buyerOf(req);
    if (buyer.via === 'anonymous')
      throw new ApiError('VALIDATION_FAILED', 'Name the buyer: send X-User-Id (declared mode) or Authorization: Bearer <JWT> (jwt mode)');
    return buyer;
  }

  router.get('/api/v1/purchases/:purchaseId', async (req, res, next) => {
    const purchaseId = req.params.purchaseId;
    if (!parsePurchaseId(purchaseId)) return next();
    if (identity.mode === 'jwt') {
      // A buyer's purchases are theirs: the checkout's record names the buyer, else the purchase does.
      const buyer = await identity.buyerOf(req);
      const owner = (await checkout.buyerOf(purchaseId)) ?? (await purchases.find(purchaseId))?.record.userId;
      if (owner !== undefined) identity.assertMayActFor(buyer, owner || ANONYMOUS_BUYER, 'purchase');
    }
    const view = await checkout.viewWithoutRecord(purchaseId);
    if (view) return void res.set('cache-control', 'no-store').json(view);
    next();
  });

  router.get('/api/v1/me/holds', async (req, res) => {
    const { userId } = await me(req);
    const wanted = typeof req.query.status === 'string' ? req.query.status.toUpperCase() : undefined;
    if (wanted !== undefined && !HOLD_STATUSES.has(wanted))
      throw new ApiError('VALIDATION_FAILED', `query.status: use one of ${[...HOLD_STATUSES].join(', ')}`);
    const ids = await store.holdsOf(userId);
    const found = await Promise.all(
      ids.map(async (id): Promise<HoldView | undefined> => {
        try {
          return await holds.get(id);
        } catch (err) {
          // A day after it ended a hold's record is gone (or its event left the catalog): drop it from the index.
          if (err instanceof ApiError && (err.code === 'HOLD_NOT_FOUND' || err.code === 'EVENT_NOT_FOUND'))
            await store.forgetHold(userId, id);
          else throw err;
          return undefined;
        }
      }),
    );
    const list = found.filter((h): h is HoldView => h !== undefined && (wanted === undefined || h.status === wanted));
    res.set('cache-control', 'no-store').json({ userId, holds: list });
  });

  router.get('/api/v1/me/purchases', async (req, res) => {
    const { userId } = await me(req);
    const [tickets, checkoutIds] = await Promise.all([
      readModel.ticketsOfUser(userId, { limit: READ_MODEL_TICKETS }).catch((err: unknown) => {
        log.warn({ err }, 'read model query failed');
        throw new ApiError('DEPENDENCY_UNAVAILABLE', 'The read model (MySQL) did not answer; try again shortly');
      }),
      store.purchasesOf(userId),
    ]);
    const byId = groupByPurchase(tickets.tickets);
    // Purchases of holds the read model does not show yet: paying, refunded, or confirmed a moment ago.
    await Promise.all(
      checkoutIds
        .filter((id) => !byId.has(id))
        .map(async (id) => {
          const pending = await checkout.viewWithoutRecord(id);
          if (pending) return void byId.set(id, { ...pending });
          const found = await purchases.find(id).catch(() => undefined);
          if (found) byId.set(id, purchaseView(found.record, found.status));
        }),
    );
    const list = [...byId.values()].sort((a, b) => String(b.createdOn).localeCompare(String(a.createdOn)));
    res.set('cache-control', 'no-store').json({ userId, purchases: list, ...(tickets.next ? { truncated: true } : {}) });
  });

  return router;
}

type Listed = Record<string, unknown> & { createdOn?: string };

/** The read model's tickets as purchases (it stores tickets; a purchase is the tickets sharing its id). */
function groupByPurchase(tickets: TicketView[]): Map<string, Listed> {
  const out = new Map<string, Listed & { tickets: TicketView[] }>();
  for (const t of tickets) {
    const p = out.get(t.purchaseId) ?? {
      purchaseId: t.purchaseId,
      status: 'CONFIRMED',
      venueId: t.venueId,
      eventId: t.eventId,
      zoneId: t.zoneId,
      userId: t.userId,
      createdOn: t.createdOn,
      tickets: [],
    };
    p.tickets.push(t);
    out.set(t.purchaseId, p);
  }
  return out;
}
