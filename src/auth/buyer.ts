import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../config/config';
import { userIdSchema } from '../http/schemas';
import { parse } from '../http/validation';
import { ApiError } from '../shared/errors';
import { isAdminToken } from './admin-token';
import { TokenRejected, TokenVerifier, type TokenSettings } from './tokens';

export type AuthMode = 'declared' | 'jwt';

export interface AuthSettings extends TokenSettings {
  mode: AuthMode;
  /** ADMIN_TOKEN; empty = no admin. */
  adminToken: string;
}

/** Who a buyer route acts for (docs/checkout.md, "Buyer identity"). */
export interface Buyer {
  /** The buyer: the declared userId, the token's `sub`, or (admin) the buyer the request names. */
  userId: string;
  /**
   * How it is known: `declared` (declared mode: the request names it), `anonymous` (declared
   * mode, nobody named: `userId` is "anonymous", as on the seed routes), `token` (a verified
   * JWT), `admin` (the admin token).
   */
  via: 'declared' | 'anonymous' | 'token' | 'admin';
  /** The admin token: may act on any buyer's resources. */
  admin: boolean;
}

/** The buyer of a request that names nobody in declared mode (today's seed routes say the same). */
export const ANONYMOUS_BUYER = 'anonymous';
/** The buyer of an admin request that names nobody. */
export const ADMIN_BUYER = 'admin';

export function authSettingsOf(cfg: Config): AuthSettings {
  return {
    mode: cfg.AUTH_MODE,
    adminToken: cfg.ADMIN_TOKEN,
    jwksUrl: cfg.AUTH_JWKS_URL,
    hs256Secret: cfg.AUTH_HS256_SECRET,
    issuer: cfg.AUTH_ISSUER,
    audience: cfg.AUTH_AUDIENCE,
  };
}

/**
 * Establishes the buyer of every buyer route. Declared mode behaves as the multi-seat route
 * always has: the body's `userId`, else the `X-User-Id` header, validated the same way. jwt
 * mode needs `Authorization: Bearer <JWT>`; the buyer is its `sub`, and a body or header buyer
 * that differs is refused. In both modes `Authorization: Bearer <ADMIN_TOKEN>` is an operator
 * who may act on any buyer's resources.
 */
export class BuyerIdentity {
  private readonly verifier?: TokenVerifier;

  constructor(private readonly settings: AuthSettings) {
    if (settings.mode === 'jwt') this.verifier = new TokenVerifier(settings);
  }

  static fromConfig(cfg: Config): BuyerIdentity {
    return new BuyerIdentity(authSettingsOf(cfg));
  }

  get mode(): AuthMode {
    return this.settings.mode;
  }

  /**
   * The request's buyer. `declaredUserId` replaces the body's `userId` for routes that carry it
   * elsewhere (a query string). Throws 401 UNAUTHENTICATED (with `WWW-Authenticate: Bearer`),
   * 403 FORBIDDEN, 400 VALIDATION_FAILED for a malformed userId, or 503 when the JWKS cannot
   * be loaded.
   */
  async buyerOf(req: Request, declaredUserId?: string): Promise<Buyer> {
    const bearer = bearerOf(req);
    if (bearer !== undefined && isAdminToken(bearer, this.settings.adminToken)) {
      return { userId: declaredOf(req, declaredUserId, true)[0] ?? ADMIN_BUYER, via: 'admin', admin: true };
    }
    if (!this.verifier) {
      const declared = declaredOf(req, declaredUserId, true)[0];
      return declared === undefined
        ? { userId: ANONYMOUS_BUYER, via: 'anonymous', admin: false }
        : { userId: declared, via: 'declared', admin: false };
    }
    if (bearer === undefined) {
      throw unauthenticated(
        req,
        'This route needs Authorization: Bearer <JWT> from the identity provider (or, in development, from POST /api/v1/dev/token)',
      );
    }
    let sub: string;
    try {
      ({ sub } = await this.verifier.verify(bearer));
    } catch (err) {
      if (err instanceof TokenRejected && err.reason === 'invalid') throw unauthenticated(req, err.message, 'invalid_token');
      if (err instanceof TokenRejected) throw new ApiError('DEPENDENCY_UNAVAILABLE', err.message);
      throw err;
    }
    // Checked only after the token: an unauthenticated caller learns nothing from validation.
    const other = declaredOf(req, declaredUserId).find((d) => d !== sub);
    if (other !== undefined) {
      throw new ApiError(
        'FORBIDDEN',
        `The token is for buyer ${sub} but the request names ${other}; drop userId and X-User-Id, or use ${other}'s token`,
      );
    }
    return { userId: sub, via: 'token', admin: false };
  }

  /** Whether `buyer` may read or change a resource of `ownerUserId`: its own, or any with the admin token. */
  mayActFor(buyer: Buyer, ownerUserId: string): boolean {
    return buyer.admin || buyer.userId === ownerUserId;
  }

  /** Throws 403 FORBIDDEN unless mayActFor; `what` names the resource in the message ("purchase"). */
  assertMayActFor(buyer: Buyer, ownerUserId: string, what: string): void {
    if (!this.mayActFor(buyer, ownerUserId)) {
      throw new ApiError('FORBIDDEN', `This ${what} belongs to another buyer; only its buyer or the admin token may use it`);
    }
  }
}

/** Middleware form: puts the buyer in `res.locals.buyer` (read it with buyerFrom). */
export function requireBuyer(identity: BuyerIdentity): RequestHandler {
  return async (req, res, next) => {
    res.locals.buyer = await identity.buyerOf(req);
    next();
  };
}

export function buyerFrom(res: Response): Buyer {
  const buyer = res.locals.buyer as Buyer | undefined;
  if (!buyer) throw new Error('buyerFrom: requireBuyer did not run before this handler');
  return buyer;
}

/** The bearer token, or undefined when there is no `Authorization: Bearer …` header. */
function bearerOf(req: Request): string | undefined {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

/**
 * The buyers the request names: the body's (or the given) userId first, then X-User-Id. With
 * `firstOnly` (declared mode, admin) the header is not read when the body names a buyer, as the
 * purchase routes always did; jwt mode checks both against the token.
 */
function declaredOf(req: Request, declaredUserId: string | undefined, firstOnly = false): string[] {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody =
    declaredUserId ??
    (body && typeof body === 'object' && !Array.isArray(body) && body.userId !== undefined
      ? parse(userIdSchema, body.userId, 'body.userId')
      : undefined);
  if (firstOnly && fromBody !== undefined) return [fromBody];
  const fromHeader = parse(userIdSchema.optional(), req.get('x-user-id') || undefined, 'header.x-user-id');
  return [fromBody, fromHeader].filter((v): v is string => v !== undefined);
}

/**
 * A 401 with the RFC 6750 challenge. The header goes on the response here (Express 5 links it
 * as `req.res`) because the problem handler writes only the body.
 */
function unauthenticated(req: Request, detail: string, error?: 'invalid_token'): ApiError {
  req.res?.setHeader('WWW-Authenticate', `Bearer realm="ticketing"${error ? `, error="${error}"` : ''}`);
  return new ApiError('UNAUTHENTICATED', detail);
}
