import { randomBytes } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type { RedisClient } from '../shared/redis';
import { admissionSecretKey } from './keys';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- require(esm), as src/auth/tokens.ts
const jose = require('jose') as typeof Jose;

/** `iss` of every admission token: the platform itself, never the buyers' identity provider. */
export const ADMISSION_ISSUER = 'ticketing-admission';
/** `aud` of an event's admission tokens: a token for one event is refused by every other. */
export const admissionAudience = (eventId: string) => `admission:${eventId}`;

export interface AdmissionClaims {
  buyer: string;
  eventId: string;
  queueId: string;
  /** Unique per admission; the gate checks it against the live session in Redis. */
  jti: string;
  /** Session end (ms). */
  expiresAt: number;
}

/** Why a token was refused: what the 403 ADMISSION_REQUIRED detail says. */
export class AdmissionTokenRejected extends Error {}

/**
 * Admission tokens (docs/admission.md, "Token"): HS256 JWTs signed by the platform with
 * ADMISSION_TOKEN_SECRET, or, when that is empty, with a random secret made once in Redis and
 * shared by every api replica. Bound to the buyer (`sub`), the event (`aud`), the visit (`qid`),
 * the admission (`jti`) and the session end (`exp`).
 */
export class AdmissionTokens {
  private constructor(private readonly key: Uint8Array) {}

  static async start(redis: RedisClient, prefix: string, configured: string): Promise<AdmissionTokens> {
    if (configured) return new AdmissionTokens(new TextEncoder().encode(configured));
    const key = admissionSecretKey(prefix);
    await redis.set(key, randomBytes(32).toString('hex'), 'NX');
    const secret = await redis.get(key);
    if (!secret) throw new Error(`The admission secret ${key} vanished from Redis; set ADMISSION_TOKEN_SECRET or restart`);
    return new AdmissionTokens(new TextEncoder().encode(secret));
  }

  /** A token for tests and tools that sign with a secret of their own. */
  static withSecret(secret: string): AdmissionTokens {
    return new AdmissionTokens(new TextEncoder().encode(secret));
  }

  sign(c: AdmissionClaims): Promise<string> {
    return new jose.SignJWT({ qid: c.queueId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ADMISSION_ISSUER)
      .setAudience(admissionAudience(c.eventId))
      .setSubject(c.buyer)
      .setJti(c.jti)
      .setIssuedAt()
      .setExpirationTime(Math.ceil(c.expiresAt / 1000))
      .sign(this.key);
  }

  /** The claims of a token signed by us for `eventId` and not expired; throws AdmissionTokenRejected. */
  async verify(token: string, eventId: string): Promise<AdmissionClaims> {
    let payload: Jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ADMISSION_ISSUER,
        audience: admissionAudience(eventId),
        requiredClaims: ['sub', 'exp', 'jti'],
      }));
    } catch (err) {
      throw new AdmissionTokenRejected(rejection(err, eventId));
    }
    if (typeof payload.qid !== 'string' || !payload.sub || !payload.jti)
      throw new AdmissionTokenRejected('The Admission-Token lacks its visit; use the admissionToken the queue status gave you');
    return { buyer: payload.sub, eventId, queueId: payload.qid, jti: payload.jti, expiresAt: (payload.exp ?? 0) * 1000 };
  }
}

function rejection(err: unknown, eventId: string): string {
  const e = err as { code?: string; claim?: string };
  const rejoin = `join the queue again with POST /api/v1/events/${eventId}/queue`;
  if (e.code === 'ERR_JWT_EXPIRED') return `The admission session has ended (the token expired); ${rejoin}`;
  if (e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'aud')
    return `The Admission-Token is for another event; use the token of ${eventId}'s queue, or ${rejoin}`;
  if (e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
    return `The Admission-Token is not signed by this platform; use the admissionToken of GET /api/v1/events/${eventId}/queue/{queueId}`;
  return `The Admission-Token is not a valid admission token; use the admissionToken of GET /api/v1/events/${eventId}/queue/{queueId}`;
}
