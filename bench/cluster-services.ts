import { spawn } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'scripts', 'services', 'cli.mjs');

/** `TOPOLOGY=cluster node scripts/services/cli.mjs <verb>`; resolves with its exit code. */
function services(verb: 'up' | 'down' | 'status', env: NodeJS.ProcessEnv, quiet: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, verb], {
      env: { ...env, TOPOLOGY: 'cluster' },
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'ignore' : 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * The cluster topology's services, left as they were found: started here (and stopped again by
 * `restore`) only when they were not all healthy already.
 */
export async function ensureClusterServices(env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<{ restore(): Promise<void> }> {
  if ((await services('status', env, true)) === 0) {
    log('cluster services already up: they stay up afterwards');
    return { restore: async () => undefined };
  }
  log('starting the cluster services (TOPOLOGY=cluster services:up); they are stopped again at the end');
  if ((await services('up', env, false)) !== 0)
    throw new Error(
      'TOPOLOGY=cluster npm run services:up failed (see above); run TOPOLOGY=cluster npm run services:install if something is missing',
    );
  return {
    async restore() {
      log('stopping the cluster services this bench started (TOPOLOGY=cluster services:down)');
      if ((await services('down', env, false)) !== 0) log('TOPOLOGY=cluster npm run services:down failed: run it by hand');
    },
  };
}
