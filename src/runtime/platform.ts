import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Config, Role } from '../config/config';
import { createApp } from '../http/app';
import type { Logger } from '../observability/logger';
import { startApi } from '../roles/api';
import { startController } from '../roles/controller';
import { startProjector } from '../roles/projector';
import type { RoleHandle, RoleStarter } from '../roles/role';
import { startWriter } from '../roles/writer';
import { RuntimeContext, type PlatformFaults } from '../infra/connections';
import { closeServer, drain, listen } from './server';

export type SingleRole = Exclude<Role, 'all'>;

const STARTERS: Record<SingleRole, RoleStarter> = {
  // The controller goes first so that a single-process start serves seeded events at once.
  controller: startController,
  writer: startWriter,
  projector: startProjector,
  api: startApi,
};

export const rolesOf = (role: Role): SingleRole[] => (role === 'all' ? (Object.keys(STARTERS) as SingleRole[]) : [role]);

export interface RunningPlatform {
  ctx: RuntimeContext;
  server: Server;
  port: number;
  url: string;
  handles: RoleHandle[];
  /** Graceful stop: not ready, drained (api), no new requests, in-flight work finished, connections closed. */
  stop(): Promise<void>;
}

/** Starts the given roles in this process and serves their HTTP surface on one port. */
export async function startPlatform(
  cfg: Config,
  log: Logger,
  roles: SingleRole[] = rolesOf(cfg.ROLE),
  faults: PlatformFaults = {},
): Promise<RunningPlatform> {
  const ctx = new RuntimeContext(cfg, log, faults);
  const handles: RoleHandle[] = [];
  let stopping = false;
  try {
    for (const name of roles) {
      log.info({ role: name }, 'starting role');
      handles.push(await STARTERS[name](ctx));
    }
  } catch (err) {
    for (const h of handles.reverse()) await h.stop().catch(() => undefined);
    await ctx.close();
    throw err;
  }
  const servesApi = roles.includes('api');
  // The built seat map: dist/web beside dist/src when compiled; the repo's dist/web when run from source (ts-jest).
  const webDir = [path.resolve(__dirname, '..', '..', 'web'), path.resolve(__dirname, '..', '..', 'dist', 'web')].find((d) =>
    existsSync(path.join(d, 'index.html')),
  );
  const app = createApp({
    log,
    maxBodyBytes: cfg.MAX_BODY_BYTES,
    trustProxyHops: cfg.TRUST_PROXY_HOPS,
    readiness: () => handles.flatMap((h) => h.readiness),
    isShuttingDown: () => stopping,
    routers: handles.flatMap((h) => h.routers ?? []),
    ...(servesApi && webDir ? { staticDir: webDir } : {}),
  });
  const server = await listen(app, servesApi ? cfg.PORT : cfg.METRICS_PORT);
  const port = (server.address() as AddressInfo).port;
  return {
    ctx,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    handles,
    async stop() {
      if (stopping) return;
      stopping = true; // /readyz answers 503 from now on
      // Kubernetes routes to a pod until it saw it not ready: keep serving meanwhile.
      if (servesApi) await drain(cfg.SHUTDOWN_DRAIN_MS, log);
      for (const h of handles) await h.beforeClose?.().catch((err) => log.error({ err, role: h.name }, 'beforeClose failed'));
      await closeServer(server, cfg.SHUTDOWN_GRACE_MS);
      for (const h of [...handles].reverse()) await h.stop().catch((err) => log.error({ err, role: h.name }, 'stop failed'));
      await ctx.close();
    },
  };
}
