import path from 'node:path';
import { CatalogStore } from '../catalog/store';
import { loadFolder, watchFolder } from '../controller/file-source';
import { reconcile, type EventReport } from '../controller/reconcile';
import { Inventory } from '../inventory/inventory';
import type { RuntimeContext } from '../runtime/context';
import { redisCheck, type RoleHandle } from './role';

/**
 * The controller role, file source: reconciles the Venue/Event YAML of SEEDS_DIR at start and
 * whenever a file is added, changed or removed.
 */
export async function startController(ctx: RuntimeContext): Promise<RoleHandle> {
  const log = ctx.log.child({ component: 'controller' });
  const dir = path.resolve(ctx.cfg.SEEDS_DIR);
  const source = `file:${dir}`;
  const deps = {
    catalog: new CatalogStore(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    inventory: new Inventory(ctx.redis, ctx.cfg.REDIS_KEY_PREFIX),
    log,
  };
  let last: EventReport[] = [];
  let queue = Promise.resolve();
  const run = () => {
    queue = queue.then(async () => {
      const desired = await loadFolder(dir);
      for (const e of desired.errors) log.error(e, 'invalid resource skipped; fix the file and save it again');
      last = await reconcile(desired, source, deps);
      log.info({ events: last.map((r) => ({ eventId: r.eventId, sold: r.seatsSold, available: r.seatsAvailable })) }, 'reconciled');
    }).catch((err) => log.error({ err }, 'reconcile failed; it runs again on the next file change'));
    return queue;
  };
  await run();
  const watcher = watchFolder(dir, () => void run());
  return {
    name: 'controller',
    readiness: [redisCheck(ctx), { name: 'seeded', check: async () => { if (last.length === 0) throw new Error(`no events reconciled from ${dir}`); } }],
    async stop() {
      watcher.close();
      await queue;
    },
  };
}
