import path from 'node:path';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import { CatalogStatusSink } from './catalog-status';
import { startController, type LeaderWork } from './controller';
import { FileSource } from './file-source';
import type { ReconcileDeps } from './reconcile';

/**
 * How often the file source reconciles without a change: a zone whose Redis keys vanished (Redis
 * lost state) is rebuilt promptly, and the reported seat counts stay fresh.
 */
export const FILE_RESYNC_MS = 5000;

export interface FileControllerHandle {
  readiness: { name: string; check: () => Promise<unknown> }[];
  stop(): Promise<void>;
}

/**
 * The controller, file source: the Venue/Event YAML of SEEDS_DIR through the one reconcile loop
 * (src/controller/controller.ts), reconciled at start, on every change in the folder and every
 * FILE_RESYNC_MS, with the status kept next to the catalog. There is one such process, so it
 * is the leader from the start and does the leader work too.
 */
export async function startFileController(
  ctx: { cfg: Config; log: Logger },
  opts: { deps: ReconcileDeps; leaderWork?: LeaderWork[]; settleMs?: number },
): Promise<FileControllerHandle> {
  const dir = path.resolve(ctx.cfg.SEEDS_DIR);
  const log = ctx.log.child({ component: 'controller', source: 'file' });
  const controller = await startController({
    log,
    deps: opts.deps,
    openTerm: () => {
      const source = new FileSource(dir, opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {});
      return { source, sink: new CatalogStatusSink(opts.deps.catalog, source.name) };
    },
    resyncMs: FILE_RESYNC_MS,
    ...(opts.leaderWork ? { leaderWork: opts.leaderWork } : {}),
  });
  return {
    readiness: [
      {
        name: 'seeded',
        check: async () => {
          if (!controller.lastReports()?.length)
            throw new Error(`no events reconciled from ${dir}; check the folder (SEEDS_DIR) and the controller's log`);
        },
      },
    ],
    stop: () => controller.stop(),
  };
}
