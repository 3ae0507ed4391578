import type { Request } from 'express';
import { RateLimitCode, type ScriptedRedis } from '../commands/scripts';
import type { Config } from '../config/config';
import { metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { ApiError } from '../shared/errors';
import { rateBucketKey } from './keys';

/**
 * Rate limits (docs/admission.md, "Rate limits"): a token bucket in Redis per buyer and per
 * client address, with settings per route, shared by every api replica (rate-limit.lua). A
 * route not listed in RATE_LIMIT_ROUTES costs nothing: no Redis call.
 */
export const LIMITED_ROUTES = ['seed', 'purchases', 'holds', 'queue'] as const;
export type LimitedRoute = (typeof LIMITED_ROUTES)[number];

export interface Bucket {
  perSecond: number;
  burst: number;
}
export interface RouteLimits {
  buyer: Bucket;
  client: Bucket;
}

type LimitConfig = Pick<
  Config,
  | 'RATE_LIMIT_ROUTES'
  | 'RATE_LIMIT_BUYER_PER_SECOND'
  | 'RATE_LIMIT_BUYER_BURST'
  | 'RATE_LIMIT_CLIENT_PER_SECOND'
  | 'RATE_LIMIT_CLIENT_BURST'
>;

/** RATE_LIMIT_ROUTES as limits per route: `route` takes the RATE_LIMIT_* defaults, `route=b/bb/c/cb` its own. */
export function rateLimitsOf(cfg: LimitConfig): Map<LimitedRoute, RouteLimits> {
  const out = new Map<LimitedRoute, RouteLimits>();
  for (const item of cfg.RATE_LIMIT_ROUTES.split(',').filter(Boolean)) {
    const [route, own] = item.split('=') as [LimitedRoute, string | undefined];
    const [b, bb, c, cb] = own ? own.split('/').map(Number) : [];
    out.set(route, {
      buyer: { perSecond: b ?? cfg.RATE_LIMIT_BUYER_PER_SECOND, burst: bb ?? cfg.RATE_LIMIT_BUYER_BURST },
      client: { perSecond: c ?? cfg.RATE_LIMIT_CLIENT_PER_SECOND, burst: cb ?? cfg.RATE_LIMIT_CLIENT_BURST },
    });
  }
  return out;
}

export class RateLimiter {
  private warnedAt = 0;

  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
    private readonly limits: Map<LimitedRoute, RouteLimits>,
    private readonly log: Logger,
  ) {}

  enabled(route: LimitedRoute): boolean {
    return this.limits.has(route);
  }

  /**
   * Takes a token from the buyer's bucket (when the request names a buyer) and the client
   * address's, in parallel (one round trip with auto-pipelining). Over either: 429 RATE_LIMITED
   * with Retry-After (set on the response here: the problem handler writes only the body). Redis
   * failing lets the request through: the route then meets the same Redis and answers for itself.
   */
  async check(req: Request, route: LimitedRoute, buyer?: string): Promise<void> {
    const limits = this.limits.get(route);
    if (!limits) return;
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const named = buyer !== undefined && buyer !== 'anonymous';
    let answers: [RateLimitCode, number][];
    try {
      answers = await Promise.all([
        this.take(rateBucketKey(this.prefix, route, 'client', client), limits.client),
        ...(named ? [this.take(rateBucketKey(this.prefix, route, 'buyer', buyer), limits.buyer)] : []),
      ]);
    } catch (err) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        this.log.warn({ err }, 'rate limit not checked (Redis failed); requests pass unlimited meanwhile');
      }
      return;
    }
    const refused = answers.findIndex(([code]) => code === RateLimitCode.REFUSED);
    if (refused < 0) return;
    const scope = refused === 0 ? 'client' : 'buyer';
    const retryMs = Math.max(...answers.filter(([code]) => code === RateLimitCode.REFUSED).map(([, ms]) => Number(ms)));
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    metrics.rateLimited.inc({ route, scope });
    req.res?.setHeader('Retry-After', String(seconds));
    const rate = scope === 'client' ? limits.client : limits.buyer;
    throw new ApiError(
      'RATE_LIMITED',
      `Over ${rate.perSecond} requests/s (burst ${rate.burst}) for this ${scope === 'client' ? 'client address' : 'buyer'} on ${route}; retry after ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
  }

  private take(key: string, b: Bucket): Promise<[RateLimitCode, number]> {
    return this.redis.tpRateLimit(key, b.perSecond, b.burst);
  }
}
