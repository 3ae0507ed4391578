// Tracing first: its instrumentations must patch http and express before they load.
import { shutdownTracing } from './observability/tracing';
import { ConfigError, loadProcessConfig, ROLES } from './config/config';
import { createLogger } from './observability/logger';
import { startPlatform } from './runtime/platform';
import { exitWithSupervisor, reportReady } from './runtime/parent-watch';
import { isClusterPrimary, joinClusterMetrics, runPrimary } from './runtime/workers';
import { quietHarmlessClientWarnings } from './stream/kafka';

quietHarmlessClientWarnings();

/**
 * The entry point of one process: `node dist/src/main.js <role>` (or ROLE=<role>; `all` = every
 * role in this process). `npm start` runs src/supervise.ts instead, which forks this once per role.
 */
async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg !== undefined && !(ROLES as readonly string[]).includes(arg)) {
    throw new ConfigError(`Unknown role "${arg}": use one of ${ROLES.join(', ')} (or set ROLE).`);
  }
  const cfg = loadProcessConfig(arg);
  const log = createLogger(cfg.LOG_LEVEL, cfg.ROLE);
  // Forked by the supervisor: its end (even by SIGKILL) ends this process too.
  exitWithSupervisor(log, cfg.SHUTDOWN_DRAIN_MS + cfg.SHUTDOWN_GRACE_MS + 5000);
  if (isClusterPrimary(cfg)) {
    await runPrimary(cfg, log);
    return reportReady(cfg.ROLE, cfg.PORT);
  }
  joinClusterMetrics();
  const platform = await startPlatform(cfg, log);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work, finishing what is in flight');
    await platform.stop();
    await shutdownTracing();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  log.info({ port: platform.port, role: cfg.ROLE }, `ready: ${platform.url}/readyz`);
  reportReady(cfg.ROLE, platform.port);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(
      `Start-up failed: ${(err as Error).stack ?? String(err)}\nCheck that the services run (npm run services:status) and the configuration (docs/contracts.md).\n`,
    );
  }
  process.exit(1);
});
