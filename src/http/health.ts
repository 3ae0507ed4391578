import { Router } from 'express';
import { registry } from '../observability/metrics';

/** A named readiness check: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = { name: string; check: () => Promise<unknown> };

const withDeadline = (p: Promise<unknown>, ms: number) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/** `/healthz` (the process lives), `/readyz` (its dependencies answer) and `/metrics`. */
export function healthRoutes(checks: () => ReadinessCheck[], isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    if (isShuttingDown()) return void res.status(503).json({ status: 'shutting-down' });
    const results = await Promise.all(
      checks().map(async ({ name, check }) => {
        try {
          await withDeadline(check(), 2000);
          return { name, ok: true };
        } catch (err) {
          return { name, ok: false, error: (err as Error).message };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks: results });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
