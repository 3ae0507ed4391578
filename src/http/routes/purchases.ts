import { Router, type Request, type Response } from 'express';
import type { Admission } from '../../admission/admission';
import type { LimitedRoute, RateLimiter } from '../../admission/rate-limit';
import type { IdempotencyStore, StoredResponse } from '../../purchase/idempotency';
import type { PurchaseRequest, PurchaseService } from '../../purchase/engine';
import { newPurchaseId } from '../../purchase/ids';
import { purchaseView } from '../../purchase/lookup';
import type { TicketPurchased } from '../../purchase/record';
import { metrics } from '../../observability/metrics';
import { ApiError } from '../../shared/errors';
import { attemptMetrics, CONFIRMED, problemOf, type AttemptLabel } from '../outcomes';
import { sendStoredAnswer } from '../send-json';
import { eventIdSchema, purchaseBodySchema, purchaseHeadersSchema, ticketBodySchema, ticketQuerySchema } from '../schemas';
import { parse } from '../validation';

export interface PurchaseRouteDeps {
  engine: PurchaseService;
  idempotency: IdempotencyStore;
  /** The waiting room's gate (docs/admission.md): an open event's purchase never reaches Redis for it. */
  admission: Admission;
  limiter: RateLimiter;
}

/** The single-seat answer of the prototype's routes (schemas.ts `ticketAnswerSchema`). */
function ticketView(p: TicketPurchased) {
  const t = p.tickets[0]!;
  return {
    ticketId: t.ticketId,
    purchaseId: p.purchaseId,
    venueId: p.venueId,
    eventId: p.eventId,
    zoneId: p.zoneId,
    row: t.row,
    column: t.column,
    userId: p.userId,
    priceCents: t.priceCents,
    status: 'CONFIRMED',
    createdOn: p.createdOn,
  };
}

const buyerHeader = purchaseHeadersSchema.shape['x-user-id'];

export function purchaseRoutes({ engine, idempotency, admission, limiter }: PurchaseRouteDeps): Router {
  const router = Router();

  /** Runs one purchase with metrics and the Idempotency-Key rules, then writes the answer. */
  async function handle(
    req: Request,
    res: Response,
    route: string,
    limited: LimitedRoute,
    request: PurchaseRequest,
    view: (p: TicketPurchased) => unknown,
  ) {
    const stop = metrics.purchaseDuration.startTimer();
    let outcome: AttemptLabel = 'rejected';
    const created = (p: TicketPurchased): StoredResponse => ({ status: CONFIRMED.status, body: view(p) });
    // Every outcome but `confirmed` becomes its problem (src/http/outcomes.ts), thrown so the
    // idempotency store keeps or forgets it by the same rules as any other error. The admission
    // is checked inside, so a retry of a purchase that went through replays its 201.
    const exec = async (purchaseId?: string) => {
      const pass = await admission.require(req, request.eventId, request.userId);
      const o = await engine.purchase(purchaseId === undefined ? request : { ...request, purchaseId });
      if (o.kind === 'confirmed') {
        // Bought: the admission ends and the next buyer is admitted in the same step.
        await admission.purchased(pass);
        return created(o.record);
      }
      throw problemOf(o);
    };
    try {
      if (limiter.enabled(limited)) await limiter.check(req, limited, request.userId);
      const key = req.get('idempotency-key');
      const answer =
        key === undefined
          ? await exec()
          : await idempotency.run(
              request.userId,
              key,
              { route, request },
              () => newPurchaseId(request.eventId, request.zoneId),
              exec,
              created,
            );
      outcome = answer.status === CONFIRMED.status ? CONFIRMED.metric : 'replayed';
      sendStoredAnswer(res, req, answer);
    } catch (err) {
      if (err instanceof ApiError) {
        const counted = attemptMetrics(err);
        outcome = counted.metric;
        if (counted.conflict) metrics.purchaseConflicts.inc({ reason: counted.conflict });
      }
      throw err;
    } finally {
      metrics.purchaseAttempts.inc({ route, outcome });
      stop({ outcome });
    }
  }

  /** The buyer: the request's userId, else the X-User-Id header (validated the same), else anonymous. */
  const userOf = (req: Request, fromBody?: string) =>
    fromBody ?? parse(buyerHeader, req.get('x-user-id') || undefined, 'header.x-user-id') ?? 'anonymous';

  router.post('/ticket', async (req, res) => {
    const q = parse(ticketQuerySchema, req.query, 'query');
    const request = {
      eventId: q.eventId,
      zoneId: q.zoneId,
      venueId: q.venueId,
      userId: userOf(req, q.userId),
      seats: [{ row: q.row, column: q.column }],
    };
    await handle(req, res, 'seed_query', 'seed', request, ticketView);
  });

  router.post('/api/v1/tickets', async (req, res) => {
    const b = parse(ticketBodySchema, req.body, 'body');
    const request = {
      eventId: b.eventId,
      zoneId: b.zoneId,
      venueId: b.venueId,
      userId: userOf(req, b.userId),
      seats: [{ row: b.row, column: b.column }],
    };
    await handle(req, res, 'tickets', 'seed', request, ticketView);
  });

  router.post('/api/v1/events/:eventId/purchases', async (req, res) => {
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    const b = parse(purchaseBodySchema, req.body, 'body');
    const request = { eventId, zoneId: b.zoneId, venueId: b.venueId, userId: b.userId, seats: b.seats };
    await handle(req, res, 'purchases', 'purchases', request, (p) => purchaseView(p, 'CONFIRMED'));
  });

  return router;
}
