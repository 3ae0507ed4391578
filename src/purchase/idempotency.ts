import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { idempotencyKey } from '../inventory/keys';
import { ApiError, problemBody } from '../shared/errors';

export interface StoredResponse {
  status: number;
  body: unknown;
  /** True when body is an RFC 9457 problem document. */
  problem?: boolean;
}

/**
 * `Idempotency-Key` handling, scoped to the buyer: the same key and body replay the stored
 * answer; another body gets 422; a repeat while the first is in flight gets 409. A 503
 * (unknown outcome, dependency down) is never stored, so the buyer can retry.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly inFlightTtlSeconds = 60,
  ) {}

  async run(scope: string, key: string, request: unknown, handler: () => Promise<StoredResponse>): Promise<StoredResponse> {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1–255 visible ASCII characters');
    }
    const redisKey = idempotencyKey(this.prefix, scope, key);
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
    const claimed = await this.redis.set(redisKey, JSON.stringify({ state: 'in-flight', fingerprint }), 'EX', this.inFlightTtlSeconds, 'NX');
    if (claimed !== 'OK') {
      const raw = await this.redis.get(redisKey);
      if (raw === null) return this.run(scope, key, request, handler);
      const stored = JSON.parse(raw) as { state: string; fingerprint: string; response?: StoredResponse };
      if (stored.fingerprint !== fingerprint) {
        throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request; use a new key');
      }
      if (stored.state === 'in-flight' || !stored.response) {
        throw new ApiError('IDEMPOTENCY_IN_FLIGHT', 'The first request with this Idempotency-Key is still running; retry in a moment');
      }
      return stored.response;
    }
    let response: StoredResponse | undefined;
    try {
      response = await handler();
      return response;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        response = { status: err.status, body: problemBody(err), problem: true };
      }
      throw err;
    } finally {
      // Failing to store the answer must not replace it (a 201, or a 503 carrying a purchaseId):
      // the in-flight marker then expires on its own.
      const store = response && response.status < 500
        ? this.redis.set(redisKey, JSON.stringify({ state: 'done', fingerprint, response }), 'EX', this.ttlSeconds)
        : this.redis.del(redisKey);
      await store.catch(() => undefined);
    }
  }
}
