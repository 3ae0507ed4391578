import path from 'node:path';
import { ConfigError, loadSupervisorConfig } from './config/config';
import { planRoles } from './runtime/role-ports';
import { Supervisor } from './runtime/supervisor';

/**
 * `npm start` (scripts/start.sh without ROLE): `node dist/src/supervise.js` runs every role in a
 * process of its own under one supervisor (src/runtime/supervisor.ts). One role alone stays
 * `node dist/src/main.js <role>` (ROLE=<role> npm start); every role in one process is
 * `node dist/src/main.js all`.
 */
function main(): void {
  const { cfg, roleEnv } = loadSupervisorConfig();
  const supervisor = new Supervisor({
    main: path.join(__dirname, 'main.js'),
    roles: planRoles(cfg),
    env: roleEnv,
    // A role's own stop: the api's drain, then the in-flight grace; a margin for closing connections.
    stopDeadlineMs: cfg.SHUTDOWN_DRAIN_MS + cfg.SHUTDOWN_GRACE_MS + 5000,
  });
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // npm passes the terminal's Ctrl-C on as well: a repeat within a second is that echo, not impatience.
    if (firstSignalAt && Date.now() - firstSignalAt < 1000) return;
    if (firstSignalAt) {
      process.stderr.write(`supervisor | ${signal} again: killing every role now\n`);
      return supervisor.killAll();
    }
    firstSignalAt = Date.now();
    void supervisor.stop(signal).then((code) => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  void supervisor.start();
}

try {
  main();
} catch (err) {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `Supervisor failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
