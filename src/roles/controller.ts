import { startControllerCqrs } from '../admin/controller-hooks';
import { CatalogStore } from '../catalog/store';
import { startClusterController } from '../controller/cluster-controller';
import { startFileController } from '../controller/file-controller';
import type { ReconcileDeps } from '../controller/reconcile';
import { Inventory } from '../inventory/inventory';
import type { RuntimeContext } from '../infra/connections';
import { redisCheck, type RoleHandle } from './role';

/**
 * The controller role: Venue/Event resources from SEEDS_DIR (CONTROLLER_SOURCE=file) or the
 * Kubernetes API (cluster) through the one reconcile loop, with the leader's work on its term:
 * the rebuild of lost zones from DynamoDB and the periodic audit and repair (docs/controller.md).
 */
export async function startController(ctx: RuntimeContext): Promise<RoleHandle> {
  const log = ctx.log.child({ component: 'controller' });
  // Rebuild of lost zones from DynamoDB, catalog mirror into MySQL, periodic audit (docs/cqrs.md).
  const cqrs = await startControllerCqrs(ctx, log);
  const deps: ReconcileDeps = {
    catalog: new CatalogStore(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    inventory: new Inventory(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    log,
    ...cqrs.deps,
  };
  const controller =
    ctx.cfg.CONTROLLER_SOURCE === 'cluster'
      ? await startClusterController(ctx, { deps, leaderWork: cqrs.leaderWork })
      : await startFileController(ctx, { deps, leaderWork: cqrs.leaderWork });
  const checks = controller.readiness.filter((c) => c.name !== 'redis');
  return {
    name: 'controller',
    readiness: [redisCheck(ctx), ...checks],
    async stop() {
      await controller.stop();
      await cqrs.stop();
    },
  };
}
