import { Router } from 'express';
import type { RedisClient } from '../shared/redis';
import { authConfigRoutes } from '../auth/auth-config-route';
import { devTokenRoutes } from '../auth/dev-token';
import type { Config } from '../config/config';
import { rawBodyOf } from '../http/raw-body';
import type { Logger } from '../observability/logger';
import { Payments } from './payments';
import { SIGNATURE_HEADER } from './signature';
import { PaymentStore } from './store';
import { TestPaymentProvider } from './test-provider';
import { WebhookIntake, type PaymentSettlement } from './webhook';

export interface PaymentDeps {
  cfg: Config;
  redis: RedisClient;
  log: Logger;
}

export type PaymentServices = ReturnType<typeof paymentServices>;

/**
 * The payment services of one api process: records, providers (the built-in `test` one) and the
 * webhook intake, which calls `settlement` when a pending payment completes. The checkout
 * builds them once with its settlement and hands them to paymentAndAuthRoutes too.
 */
export function paymentServices({ cfg, redis, log }: PaymentDeps, settlement: PaymentSettlement) {
  const ttl = cfg.PURCHASE_RECORD_TTL_SECONDS;
  const store = new PaymentStore(redis, cfg.REDIS_KEY_PREFIX, ttl);
  const testProvider = new TestPaymentProvider(redis, cfg.REDIS_KEY_PREFIX, ttl);
  // PAYMENT_TEST_PROVIDER=false takes no new test charges; earlier test payments still refund.
  const chargesOff = new Set(cfg.PAYMENT_TEST_PROVIDER ? [] : [testProvider.name]);
  if (cfg.PAYMENT_TEST_PROVIDER && cfg.NODE_ENV === 'production')
    log.warn(
      'PAYMENT_TEST_PROVIDER=true in production mode: buyers can pay with test tokens, which take no money; unset it for a real sale',
    );
  const payments = new Payments(store, [testProvider], log.child({ component: 'payments' }), chargesOff);
  const intake = new WebhookIntake(redis, cfg.REDIS_KEY_PREFIX, store, settlement, log.child({ component: 'payment-webhook' }), {
    secret: cfg.PAYMENT_WEBHOOK_SECRET,
  });
  return { store, testProvider, payments, intake };
}

/** Until the checkout routes pass their own: payments settle and are recorded, and the log says nobody acted on them. */
export function loggingSettlement(log: Logger): PaymentSettlement {
  return {
    onPaymentSucceeded: async (p) =>
      void log.info({ paymentId: p.paymentId, purchaseId: p.purchaseId }, 'payment succeeded; no checkout is wired to confirm it'),
    onPaymentFailed: async (p) =>
      void log.info({ paymentId: p.paymentId, purchaseId: p.purchaseId }, 'payment failed; no checkout is wired to release it'),
  };
}

/**
 * The routes of payment and buyer identity that stand without the checkout:
 * `POST /api/v1/payments/webhook` always (it refuses every delivery while PAYMENT_WEBHOOK_SECRET
 * is empty), `GET /api/v1/auth/config` always, and `POST /api/v1/dev/token` only with
 * AUTH_DEV_TOKENS=true.
 */
export function paymentAndAuthRoutes(
  deps: PaymentDeps,
  services: Pick<PaymentServices, 'intake'> = paymentServices(deps, loggingSettlement(deps.log)),
): Router {
  const { intake } = services;
  const router = Router();
  router.post('/api/v1/payments/webhook', async (req, res) => {
    // The signature covers the exact bytes, so the intake reads the raw body, never req.body.
    const receipt = await intake.receive(rawBodyOf(req) ?? Buffer.alloc(0), req.get(SIGNATURE_HEADER));
    res.status(200).json(receipt);
  });
  router.use(authConfigRoutes({ mode: deps.cfg.AUTH_MODE, devTokens: deps.cfg.AUTH_DEV_TOKENS }));
  if (deps.cfg.AUTH_DEV_TOKENS) {
    router.use(devTokenRoutes({ hs256Secret: deps.cfg.AUTH_HS256_SECRET, issuer: deps.cfg.AUTH_ISSUER, audience: deps.cfg.AUTH_AUDIENCE }));
  }
  return router;
}
