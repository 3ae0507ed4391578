import { ConfigError, type Config } from '../config/config';
import type { SingleRole } from './platform';

/** One supervised role: its name, the port it serves health (and, for the api, everything) on, and its variables. */
export interface RolePlan {
  role: SingleRole;
  port: number;
  env: Record<string, string>;
  /** The niceness the supervisor gives the role's process (0: as the supervisor). */
  nice: number;
}

/** The consumers: behind the api on shared cores (SUPERVISOR_CONSUMER_NICE). */
const CONSUMERS: SingleRole[] = ['writer', 'projector'];

/**
 * The roles `npm start` runs, in start order (the controller first: the others find the seeded
 * events), and their ports: only the api serves PORT; the others serve /healthz, /readyz and
 * /metrics on METRICS_PORT+1, +2, +3 so that nothing collides. The api keeps METRICS_PORT for
 * its cluster primary's summed metrics (API_WORKERS > 1). METRICS_PORT=0 gives every role a
 * free port (each reports its own).
 */
export function planRoles(cfg: Pick<Config, 'PORT' | 'METRICS_PORT'> & Partial<Pick<Config, 'SUPERVISOR_CONSUMER_NICE'>>): RolePlan[] {
  const base = cfg.METRICS_PORT;
  const at = (offset: number) => (base === 0 ? 0 : base + offset);
  const others: SingleRole[] = ['controller', 'writer', 'projector'];
  const nice = (role: SingleRole) => (CONSUMERS.includes(role) ? (cfg.SUPERVISOR_CONSUMER_NICE ?? 0) : 0);
  const plans: RolePlan[] = others.map((role, i) => ({
    role,
    port: at(i + 1),
    env: { METRICS_PORT: String(at(i + 1)) },
    nice: nice(role),
  }));
  plans.push({ role: 'api', port: cfg.PORT, env: { PORT: String(cfg.PORT), METRICS_PORT: String(base) }, nice: 0 });
  const highest = at(others.length);
  if (highest > 65535)
    throw new ConfigError(
      `METRICS_PORT=${base} leaves no room for ${others.length} role ports above it: use at most ${65535 - others.length}`,
    );
  const taken = cfg.PORT !== 0 && plans.some((p) => p.role !== 'api' && p.port === cfg.PORT);
  if (taken || (cfg.PORT !== 0 && cfg.PORT === base))
    throw new ConfigError(
      `PORT=${cfg.PORT} collides with the role ports METRICS_PORT..METRICS_PORT+${others.length} (${base}..${highest}): move one of them`,
    );
  return plans;
}
