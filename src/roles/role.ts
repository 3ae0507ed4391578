import type { Router } from 'express';
import type { ReadinessCheck } from '../http/health';
import type { RuntimeContext } from '../infra/connections';

/** A running role: what it adds to readiness and HTTP, and how it stops. */
export interface RoleHandle {
  name: string;
  readiness: ReadinessCheck[];
  routers?: Router[];
  /** Before the server stops taking connections: end long-lived responses (streams) so closing does not wait for them. */
  beforeClose?(): Promise<void>;
  /** Stop taking work, finish what is in flight. Connections are closed by the context. */
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: RuntimeContext) => Promise<RoleHandle>;

export const redisCheck = (ctx: RuntimeContext): ReadinessCheck => ({ name: 'redis', check: () => ctx.redis.ping() });
