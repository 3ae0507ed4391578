import { CqrsStores } from '../admin/stores';
import { CatalogCache } from '../catalog/cache';
import { CatalogStore } from '../catalog/store';
import { adminRoutes } from '../http/routes/admin';
import { openApiRoute } from '../http/openapi';
import { purchaseRoutes } from '../http/routes/purchases';
import { queryRoutes, readModelTicketSource, writeModelTicketSource } from '../http/routes/queries';
import { purchaseRecordSource, readRoutes, type TicketSource } from '../http/routes/reads';
import { Holds } from '../inventory/holds';
import { HoldSweeper } from '../inventory/hold-sweeper';
import { Inventory } from '../inventory/inventory';
import { Checkout } from '../checkout/checkout';
import { CheckoutStore } from '../checkout/checkout-store';
import { HoldService } from '../checkout/holds';
import { CheckoutRecovery } from '../checkout/recovery';
import { holdRoutes } from '../http/routes/holds';
import { meRoutes } from '../http/routes/me';
import { BuyerAllowance } from '../inventory/allowance';
import { metrics } from '../observability/metrics';
import { cancelRoutes } from '../http/routes/cancel';
import { BuyerIdentity } from '../auth/buyer';
import { CancelInventory } from '../inventory/cancellations';
import { Cancellations } from '../purchase/cancel';
import { ReleasedSeats } from '../purchase/released-seats';
import { paymentAndAuthRoutes, paymentServices } from '../payment/routes';
import { PurchaseEngine } from '../purchase/engine';
import { SqlPurchaseEngine } from '../purchase/sql-engine';
import { ReadModel } from '../projector/read-model';
import { IdempotencyStore } from '../purchase/idempotency';
import { PurchaseLookup } from '../purchase/lookup';
import { RecoverySweep } from '../purchase/sweep';
import type { RuntimeContext } from '../infra/connections';
import { ensureTopics, topics } from '../stream/kafka';
import { waitUntilKeyCaughtUp } from '../stream/progress';
import { BatchingSender } from '../stream/sender';
import { writerGroup } from '../writer/rebuild-source';
import { DynamoWriteModel } from '../writer/store';
import { redisCheck, type RoleHandle } from './role';
import { ReplicationBarrier } from '../inventory/replication-barrier';
import { preloadScripts } from '../commands/scripts';
import { LiveHub } from '../live/hub';
import { liveRoutes } from '../http/routes/live';
import { Admission } from '../admission/admission';
import { AdmissionPump } from '../admission/pump';
import { AdmissionQueue } from '../admission/queue';
import { RateLimiter, rateLimitsOf } from '../admission/rate-limit';
import { AdmissionTokens } from '../admission/tokens';
import { queueRoutes } from '../http/routes/queue';

export async function startApi(ctx: RuntimeContext): Promise<RoleHandle> {
  const { cfg } = ctx;
  const log = ctx.log.child({ component: 'api' });
  const inventory = new Inventory(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.PURCHASE_RECORD_TTL_SECONDS);
  const catalog = new CatalogStore(ctx.redis, cfg.REDIS_KEY_PREFIX);
  const catalogCache = new CatalogCache(catalog);

  await ensureTopics(ctx.eventLog, cfg);
  // Every script on every master now: a script that does not compile stops start-up here.
  await ctx.redis.ping();
  await preloadScripts(ctx.redis);
  const sender = new BatchingSender(
    ctx.eventLog,
    {
      topic: topics(cfg).tickets,
      lingerMs: cfg.KAFKA_LINGER_MS,
      maxBatch: cfg.KAFKA_MAX_BATCH,
      maxBatchBytes: cfg.KAFKA_MAX_BATCH_BYTES,
      producers: cfg.KAFKA_PRODUCERS,
      stallMs: cfg.PURCHASE_TIMEOUT_MS,
    },
    log.child({ component: 'sender' }),
  );
  await sender.start();
  // INVENTORY_BACKEND=sql: the load lab's row-locking baseline (docs/load-lab.md).
  const sqlEngine =
    cfg.INVENTORY_BACKEND === 'sql' ? await SqlPurchaseEngine.start(cfg, catalogCache, log.child({ component: 'sql-engine' })) : undefined;
  const holdStore = new Holds(ctx.redis, cfg.REDIS_KEY_PREFIX);
  const allowance = new BuyerAllowance(ctx.redis, cfg.REDIS_KEY_PREFIX, holdStore);
  const barrier =
    cfg.REDIS_WAIT_REPLICAS > 0
      ? new ReplicationBarrier(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.REDIS_WAIT_REPLICAS, cfg.REDIS_WAIT_TIMEOUT_MS)
      : undefined;
  // The direct routes count a declared buyer's purchases with their holds (docs/checkout.md).
  const engine = sqlEngine ?? new PurchaseEngine(inventory, catalogCache, sender, cfg, log, allowance, barrier);
  // Returns the seats of expired holds to sale (docs/purchase-state-machine.md, "The hold sweeper").
  const holdSweeper = new HoldSweeper(
    holdStore,
    catalog,
    { intervalMs: cfg.HOLD_SWEEP_INTERVAL_MS },
    log.child({ component: 'hold-sweeper' }),
    (_e, _z, ids) => metrics.holds.inc({ transition: 'expired' }, ids.length),
  );
  holdSweeper.start();

  // Read model first, then the write model (covers the projector's lag), then the purchase
  // record in Redis (covers the writer's lag): a confirmed ticket is never 404.
  const stores = new CqrsStores(ctx);
  const readModel = new ReadModel(ctx.mysql);
  const mysqlTickets = readModelTicketSource(readModel);
  const dynamoTickets = writeModelTicketSource(new DynamoWriteModel(ctx.dynamo, cfg.DYNAMODB_TABLE_PREFIX));
  const ticketSources: TicketSource[] = [mysqlTickets, dynamoTickets, purchaseRecordSource(inventory)];
  // A purchase by id: its Redis record, else its tickets in the write model, then the read model.
  // Found nowhere means nothing sold only once the writer stored the log (waits up to 1 s for it).
  const purchases = new PurchaseLookup(inventory, [dynamoTickets, mysqlTickets], cfg.MAX_SEATS_PER_PURCHASE, (key) =>
    waitUntilKeyCaughtUp(ctx.eventLog, writerGroup(cfg.KAFKA_TOPIC_PREFIX), topics(cfg).tickets, key, 1000),
  );
  const idempotency = new IdempotencyStore(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.IDEMPOTENCY_TTL_SECONDS, purchases);

  // Checkout (docs/checkout.md): holds, paying them through the same sender, the payment webhook.
  const identity = BuyerIdentity.fromConfig(cfg);
  const holds = new HoldService(holdStore, allowance, catalogCache, cfg);
  const checkoutStore = new CheckoutStore(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.PURCHASE_RECORD_TTL_SECONDS);
  const checkout = new Checkout({
    holds,
    inventory,
    sender,
    store: checkoutStore,
    purchases,
    cfg,
    log: log.child({ component: 'checkout' }),
  });
  // One payment service for checkout and cancellation: a cancellation refunds through the checkout's settlement.
  const pay = paymentServices({ cfg, redis: ctx.redis, log }, checkout);
  checkout.attach(pay.payments);
  const checkoutRecovery = new CheckoutRecovery(checkout, cfg.SWEEP_INTERVAL_MS, log.child({ component: 'checkout-recovery' }));
  checkoutRecovery.start();
  // Cancellation (src/purchase/cancel.ts), refunding through the checkout's payment services.
  const released = new ReleasedSeats(ctx.redis, cfg.REDIS_KEY_PREFIX, log);
  await released.start();
  const cancellations = new Cancellations({
    cancels: new CancelInventory(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.PURCHASE_RECORD_TTL_SECONDS),
    catalog,
    sender,
    finder: purchases,
    stores: [dynamoTickets, mysqlTickets],
    payments: pay.payments,
    released,
    allowance,
    cfg,
    log: log.child({ component: 'cancel' }),
  });
  const sweep = new RecoverySweep(
    inventory,
    catalog,
    sender,
    { intervalMs: cfg.SWEEP_INTERVAL_MS, resendAfterMs: cfg.PENDING_RESEND_AFTER_MS },
    log.child({ component: 'sweep' }),
    cancellations,
  );
  sweep.start();
  // The waiting room and rate limits (docs/admission.md); the pump runs in every api process.
  const admissionQueue = new AdmissionQueue(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.ADMISSION_QUEUE_TTL_SECONDS * 1000);
  const tokens = await AdmissionTokens.start(ctx.redis, cfg.REDIS_KEY_PREFIX, cfg.ADMISSION_TOKEN_SECRET);
  const admission = new Admission(admissionQueue, tokens, catalogCache, log.child({ component: 'admission' }));
  const admissionPump = new AdmissionPump(
    admissionQueue,
    admission,
    catalogCache,
    cfg.ADMISSION_PUMP_INTERVAL_MS,
    log.child({ component: 'admission-pump' }),
  );
  admissionPump.start();
  const limiter = new RateLimiter(ctx.redis, cfg.REDIS_KEY_PREFIX, rateLimitsOf(cfg), log.child({ component: 'rate-limit' }));
  // The live seat map's change streams (docs/live-seat-map.md).
  const hub = new LiveHub(ctx.redis, cfg, log.child({ component: 'live' }));
  return {
    name: 'api',
    // Ready means "this pod can answer": while Kafka is unavailable purchases fail fast with a
    // 503 problem and reads keep working, so the Kafka circuit is no readiness check.
    readiness: [redisCheck(ctx)],
    routers: [
      purchaseRoutes({ engine, idempotency, admission, limiter }),
      holdRoutes({
        identity,
        holds,
        checkout,
        store: checkoutStore,
        idempotency,
        log,
        admission,
        limiter,
        holdDefaultSeconds: cfg.HOLD_DEFAULT_SECONDS,
      }),
      queueRoutes({ identity, admission, limiter }),
      // Before readRoutes: it answers the purchase states that have no purchase record.
      meRoutes({ identity, holds, checkout, store: checkoutStore, readModel, purchases, log }),
      liveRoutes({ catalogCache, hub }),
      readRoutes({ inventory, holds: holdStore, catalog, catalogCache, ticketSources, purchases }),
      queryRoutes({ readModel, catalogCache, log }),
      paymentAndAuthRoutes({ cfg, redis: ctx.redis, log }, pay),
      cancelRoutes({ cancellations, identity }),
      adminRoutes(cfg.ADMIN_TOKEN, {
        catalog,
        inventory,
        log,
        say: (line) => log.info(`reset: ${line}`),
        clearStores: (id) => stores.fenceEvent(id, { log: (line) => log.info({ eventId: id }, `reset: ${line}`) }),
      }),
      openApiRoute(),
    ],
    beforeClose: () => hub.close(),
    async stop() {
      await hub.close();
      await admissionPump.stop();
      await sweep.stop();
      await holdSweeper.stop();
      await checkoutRecovery.stop();
      await released.stop();
      await sender.close();
      await sqlEngine?.close();
      await barrier?.close();
      await stores.close();
    },
  };
}
