import cluster from 'node:cluster';
import express from 'express';
import client from 'prom-client';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import { registry } from '../observability/metrics';
import { closeServer, listen } from './server';

/**
 * API_WORKERS > 1: the api role as a Node cluster, so one machine's cores share the HTTP work
 * (each worker has its own Redis connection, Kafka sender and sweep; the sweep's claims keep
 * them from re-sending the same record). On Kubernetes prefer replicas (API_WORKERS=1).
 *
 * The primary only supervises: it restarts a worker that dies, forwards SIGTERM, and serves
 * the workers' metrics summed on METRICS_PORT (each worker's own /metrics stays on PORT).
 */
export function isClusterPrimary(cfg: Config): boolean {
  return cfg.ROLE === 'api' && cfg.API_WORKERS > 1 && cluster.isPrimary;
}

/** In a worker: make the platform's registry the one the primary aggregates. */
export function joinClusterMetrics(): void {
  if (!cluster.isWorker) return;
  client.AggregatorRegistry.setRegistries([registry]);
  // prom-client answers the primary's requests only once an AggregatorRegistry exists here.
  new client.AggregatorRegistry();
}

export async function runPrimary(cfg: Config, log: Logger): Promise<void> {
  let stopping = false;
  const fork = () => cluster.fork({ ROLE: 'api' });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ pid: worker.process.pid, code, signal }, 'api worker died; starting another');
    fork();
  });
  for (let i = 0; i < cfg.API_WORKERS; i++) fork();

  const aggregate = new client.AggregatorRegistry();
  const app = express();
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok', workers: Object.keys(cluster.workers ?? {}).length }));
  app.get('/metrics', async (_req, res) => {
    res.type(aggregate.contentType).send(await aggregate.clusterMetrics());
  });
  const server = await listen(app, cfg.METRICS_PORT);
  log.info({ workers: cfg.API_WORKERS, port: cfg.PORT, metricsPort: cfg.METRICS_PORT }, 'api cluster started');

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
    await closeServer(server, cfg.SHUTDOWN_GRACE_MS);
    log.info('api cluster stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}
