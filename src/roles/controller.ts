import path from 'node:path';
import { RECONCILE_EVERY_MS, startControllerCqrs } from '../admin/controller-hooks';
import { CatalogStore } from '../catalog/store';
import { startClusterController } from '../controller/cluster-controller';
import { loadFolder, watchFolder } from '../controller/file-source';
import { reconcile, type EventReport } from '../controller/reconcile';
import { Inventory } from '../inventory/inventory';
import type { RuntimeContext } from '../runtime/context';
import { redisCheck, type RoleHandle } from './role';

/**
 * The controller role, file source: reconciles the Venue/Event YAML of SEEDS_DIR at start and
 * whenever a file is added, changed or removed. CONTROLLER_SOURCE=cluster watches the custom
 * resources instead (src/controller/cluster-controller.ts).
 */
export async function startController(ctx: RuntimeContext): Promise<RoleHandle> {
  const log = ctx.log.child({ component: 'controller' });
  const dir = path.resolve(ctx.cfg.SEEDS_DIR);
  const source = `file:${dir}`;
  // Rebuild of lost zones from DynamoDB, catalog mirror into MySQL, periodic audit (docs/cqrs.md).
  const cqrs = await startControllerCqrs(ctx, log);
  const deps = {
    catalog: new CatalogStore(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    inventory: new Inventory(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    log,
    ...cqrs.deps,
  };
  if (ctx.cfg.CONTROLLER_SOURCE === 'cluster') {
    const cluster = await startClusterController(ctx, { deps });
    return { ...cluster, stop: async () => { await cluster.stop(); await cqrs.stop(); } };
  }
  let last: EventReport[] = [];
  let queue = Promise.resolve();
  let stopped = false;
  const run = () => {
    if (stopped) return queue;
    queue = queue.then(async () => {
      const desired = await loadFolder(dir);
      for (const e of desired.errors) log.error(e, 'invalid resource skipped; fix the file and save it again');
      last = await reconcile(desired, source, deps);
      log.debug({ events: last.map((r) => ({ eventId: r.eventId, sold: r.seatsSold, available: r.seatsAvailable })) }, 'reconciled');
      // A zone waiting to be rebuilt is retried within a second, not at the next period.
      if (!stopped && last.some((r) => r.conditions.some((c) => c.type === 'Seeded' && c.reason === 'Rebuilding'))) {
        clearTimeout(soon);
        soon = setTimeout(() => void run(), 1000);
      }
    }).catch((err) => log.error({ err }, 'reconcile failed; it runs again within a few seconds'));
    return queue;
  };
  let soon: NodeJS.Timeout | undefined;
  await run();
  const watcher = watchFolder(dir, () => void run());
  // Periodic reconcile: a zone whose Redis keys vanished (Redis lost state) is rebuilt promptly.
  const periodic = setInterval(() => void run(), RECONCILE_EVERY_MS);
  return {
    name: 'controller',
    readiness: [redisCheck(ctx), { name: 'seeded', check: async () => { if (last.length === 0) throw new Error(`no events reconciled from ${dir}`); } }],
    async stop() {
      stopped = true;
      watcher.close();
      clearInterval(periodic);
      clearTimeout(soon);
      await queue;
      await cqrs.stop();
    },
  };
}
