import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { userIdSchema } from '../http/schemas';

/*
 * jose is an ES module; this CommonJS project loads it through Node 24's require(esm), like
 * cel-js (jest.config.js transforms both for Jest's sandbox, which cannot).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- require(esm): see above
const jose = require('jose') as typeof Jose;

/** What verifies a buyer's token: the AUTH_* variables (docs/contracts.md). */
export interface TokenSettings {
  /** The identity provider's JWKS URL; empty = none. */
  jwksUrl: string;
  /** HS256 key (its UTF-8 bytes), for development; empty = none. */
  hs256Secret: string;
  /** Required `iss`; empty = not checked. */
  issuer: string;
  /** Required `aud`; empty = not checked. */
  audience: string;
}

/**
 * Clock skew tolerated on `exp` and `nbf`: tokens are minted on the identity provider's clock
 * and checked on ours, and a few seconds of drift must not refuse a fresh token.
 */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Asymmetric algorithms only for JWKS keys, so a public key can never be used as an HMAC secret. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Why a token was refused: the buyer's mistake (401), or our identity provider did not answer (503). */
export class TokenRejected extends Error {
  constructor(
    readonly reason: 'invalid' | 'provider_unavailable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies buyers' JWTs with jose against the JWKS, the HS256 secret, or both (the header's
 * `alg` picks the key: HS256 the secret, any asymmetric algorithm the JWKS). jose checks the
 * signature, `exp` and `nbf`; `iss` and `aud` are checked when configured; `exp` and a `sub`
 * that is a valid buyer id are required.
 */
export class TokenVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof jose.createRemoteJWKSet>;
  private readonly algorithms: string[];

  constructor(private readonly settings: TokenSettings) {
    if (settings.hs256Secret) this.secret = new TextEncoder().encode(settings.hs256Secret);
    // jose caches the key set, refetches on an unknown `kid` (at most every 30 s) and times out after 5 s.
    if (settings.jwksUrl) this.jwks = jose.createRemoteJWKSet(new URL(settings.jwksUrl));
    this.algorithms = [...(this.secret ? ['HS256'] : []), ...(this.jwks ? JWKS_ALGORITHMS : [])];
    if (this.algorithms.length === 0) throw new Error('TokenVerifier needs AUTH_JWKS_URL or AUTH_HS256_SECRET');
  }

  /** The buyer (`sub`) of a valid token; throws TokenRejected otherwise. */
  async verify(token: string): Promise<{ sub: string; expiresAt: Date }> {
    let payload: Jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, (header, jws) => this.keyFor(header, jws), {
        algorithms: this.algorithms,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
      }));
    } catch (err) {
      throw rejection(err, this.settings);
    }
    const sub = userIdSchema.safeParse(payload.sub);
    if (!sub.success)
      throw new TokenRejected(
        'invalid',
        'The token\'s "sub" is not a valid buyer id (1–128 visible ASCII characters); ask the identity provider for a token with a usable subject',
      );
    return { sub: sub.data, expiresAt: new Date((payload.exp ?? 0) * 1000) };
  }

  private keyFor(header: Jose.CompactJWSHeaderParameters, jws: Jose.FlattenedJWSInput) {
    if (header.alg === 'HS256' && this.secret) return this.secret;
    if (this.jwks && header.alg !== 'HS256') return this.jwks(header, jws);
    // Unreachable in practice: `algorithms` refuses the token first. Kept so no key is ever guessed.
    throw new TokenRejected('invalid', `No key for algorithm ${String(header.alg)}`);
  }
}

/** Maps jose's errors to a refusal that tells the buyer what to do. */
function rejection(err: unknown, settings: TokenSettings): TokenRejected {
  if (err instanceof TokenRejected) return err;
  const e = err as { code?: string; claim?: string; reason?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenRejected('invalid', 'The token has expired; sign in again for a new one');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'nbf')
        return new TokenRejected('invalid', 'The token is not valid yet (nbf is in the future); check the clocks or wait');
      if (e.claim === 'iss')
        return new TokenRejected('invalid', `The token's issuer is not ${settings.issuer}; use a token from that issuer`);
      if (e.claim === 'aud')
        return new TokenRejected('invalid', `The token's audience does not include ${settings.audience}; ask for a token for this API`);
      return new TokenRejected(
        'invalid',
        `The token's "${e.claim ?? '?'}" claim is ${e.reason === 'missing' ? 'missing' : 'not acceptable'}; ask for a token with "sub" and "exp"`,
      );
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new TokenRejected('invalid', 'The token is not signed by a key this API trusts; sign in again');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new TokenRejected('invalid', 'The token is signed with an algorithm this API does not accept; sign in again');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new TokenRejected('invalid', 'The bearer token is not a well-formed JWT; send Authorization: Bearer <JWT>');
  }
  // Anything else is the JWKS endpoint: unreachable, timed out, or not serving a key set.
  return new TokenRejected(
    'provider_unavailable',
    `The identity provider's key set could not be loaded (${e.message ?? 'unknown error'}); retry shortly`,
  );
}

/** Signs a development token with the HS256 secret (the dev token route and the tests). */
export async function signHs256Token(
  secret: string,
  claims: { sub: string; issuer?: string; audience?: string; expiresInSeconds: number },
): Promise<string> {
  let jwt = new jose.SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${claims.expiresInSeconds}s`);
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
