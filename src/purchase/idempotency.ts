import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { idempotencyKey, idempotencyRetryKey } from '../inventory/keys';
import { ApiError, problemBody } from '../shared/errors';
import type { PurchaseFinder } from './lookup';
import type { TicketPurchased } from './record';

export interface StoredResponse {
  status: number;
  body: unknown;
  /** True when body is an RFC 9457 problem document. */
  problem?: boolean;
}

/** What a key holds in Redis. */
type Marker =
  /** The first attempt runs (or died) with this purchase id; `at` is when it started (ms). */
  | { state: 'in-flight'; fingerprint: string; purchaseId: string; at: number }
  | { state: 'done'; fingerprint: string; response: StoredResponse }
  /** The first attempt ended 503 PURCHASE_OUTCOME_UNKNOWN: its purchase decides the retry's answer. */
  | { state: 'pending'; fingerprint: string; purchaseId: string };

/**
 * `Idempotency-Key` handling, scoped to the buyer: the same key and body replay the stored
 * answer; another body gets 422; a repeat while the first is in flight gets 409.
 *
 * The purchase id is chosen before the first attempt runs and kept with the key from the
 * start, so even an attempt whose process died mid-purchase (no answer at all) is found again.
 * A 503 with a purchase id (outcome unknown) keeps that id with the key. A retry looks the
 * purchase up: still pending, it answers 503 with the same id; confirmed, it replays the 201
 * built from the record; voided or found nowhere (nothing was sold), it runs afresh. An
 * attempt still marked in flight is looked up the same way once it is older than the
 * in-flight window (`inFlightTtlSeconds`, far beyond PURCHASE_TIMEOUT_MS); younger and found
 * nowhere, it is still running (409 IDEMPOTENCY_IN_FLIGHT). A 503 without a purchase id
 * (nothing reserved) stores nothing. This costs Redis work only on a 503 and on a retry,
 * never on a first attempt that succeeds.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly purchases: PurchaseFinder,
    private readonly inFlightTtlSeconds = 60,
  ) {}

  /**
   * `handler` runs the purchase under the given purchase id (`newPurchaseId()` picks one);
   * `replay` builds the original 201 from a purchase confirmed after the first attempt's 503.
   */
  async run(
    scope: string,
    key: string,
    request: unknown,
    newPurchaseId: () => string,
    handler: (purchaseId: string) => Promise<StoredResponse>,
    replay: (p: TicketPurchased) => StoredResponse,
  ): Promise<StoredResponse> {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1–255 visible ASCII characters');
    }
    const redisKey = idempotencyKey(this.prefix, scope, key);
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
    const inFlight = (): Extract<Marker, { state: 'in-flight' }> => ({ state: 'in-flight', fingerprint, purchaseId: newPurchaseId(), at: Date.now() });
    let mine = inFlight();
    // The marker lives as long as an answer would: a process that dies mid-purchase must not
    // take the purchase id with it (the sweep may still confirm that purchase).
    const claimed = await this.redis.set(redisKey, JSON.stringify(mine), 'EX', this.ttlSeconds, 'NX');
    if (claimed !== 'OK') {
      const raw = await this.redis.get(redisKey);
      if (raw === null) return this.run(scope, key, request, newPurchaseId, handler, replay);
      const stored = JSON.parse(raw) as Marker;
      if (stored.fingerprint !== fingerprint) {
        throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request; use a new key');
      }
      if (stored.state === 'done') return stored.response;
      const running = stored.state === 'in-flight' && Date.now() - stored.at < this.inFlightTtlSeconds * 1000;
      const settled = await this.settle(redisKey, stored, replay, running);
      if (settled) return settled;
      if (running) throw inFlightError();
      // Nothing was sold: exactly one retry takes the key over and runs afresh.
      mine = inFlight();
      if (!(await this.takeOver(scope, redisKey, stored.purchaseId, mine))) throw inFlightError();
    }
    return this.execute(redisKey, mine, handler);
  }

  private async execute(redisKey: string, claim: Extract<Marker, { state: 'in-flight' }>, handler: (purchaseId: string) => Promise<StoredResponse>): Promise<StoredResponse> {
    const { fingerprint } = claim;
    let marker: Marker | undefined;
    try {
      const response = await handler(claim.purchaseId);
      if (response.status < 500) marker = { state: 'done', fingerprint, response };
      return response;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        marker = { state: 'done', fingerprint, response: { status: err.status, body: problemBody(err), problem: true } };
      } else if (err instanceof ApiError && err.code === 'PURCHASE_OUTCOME_UNKNOWN' && typeof err.extra.purchaseId === 'string') {
        marker = { state: 'pending', fingerprint, purchaseId: err.extra.purchaseId };
      }
      throw err;
    } finally {
      // Failing to store the answer must not replace it (a 201, or a 503 carrying a purchaseId):
      // the in-flight marker, which carries the purchase id, then answers retries.
      const store = marker ? this.redis.set(redisKey, JSON.stringify(marker), 'EX', this.ttlSeconds) : this.redis.del(redisKey);
      await store.catch(() => undefined);
    }
  }

  /**
   * The answer the key's purchase now gives, or undefined when it sold nothing (or, for an
   * attempt still `running`, has not reserved yet).
   */
  private async settle(
    redisKey: string,
    marker: Exclude<Marker, { state: 'done' }>,
    replay: (p: TicketPurchased) => StoredResponse,
    running: boolean,
  ): Promise<StoredResponse | undefined> {
    const { purchaseId, fingerprint } = marker;
    const found = await this.purchases.find(purchaseId).catch(() => {
      if (running) throw inFlightError();
      throw stillUnknown(purchaseId, 'its purchase could not be looked up');
    });
    // A repeat while the first attempt still runs is told so (409); once it is overdue, 503 with its id.
    if (found?.status === 'PENDING') throw running ? inFlightError() : stillUnknown(purchaseId, 'its purchase is still pending');
    if (found?.status !== 'CONFIRMED') return undefined;
    const response = replay(found.record);
    const done: Marker = { state: 'done', fingerprint, response };
    await this.redis.set(redisKey, JSON.stringify(done), 'EX', this.ttlSeconds).catch(() => undefined);
    return response;
  }

  /** True for the one retry that claims the fresh run (the claim outlives the key's answer). */
  private async takeOver(scope: string, redisKey: string, purchaseId: string, claim: Marker): Promise<boolean> {
    const won = await this.redis.set(idempotencyRetryKey(this.prefix, scope, purchaseId), '1', 'EX', this.ttlSeconds, 'NX');
    if (won !== 'OK') return false;
    await this.redis.set(redisKey, JSON.stringify(claim), 'EX', this.ttlSeconds);
    return true;
  }
}

const inFlightError = () => new ApiError('IDEMPOTENCY_IN_FLIGHT', 'The first request with this Idempotency-Key is still running; retry in a moment');

function stillUnknown(purchaseId: string, why: string): ApiError {
  return new ApiError(
    'PURCHASE_OUTCOME_UNKNOWN',
    `The first request with this Idempotency-Key ended with an unknown outcome and ${why}; retry later with the same key. GET /api/v1/purchases/${purchaseId} tells the final outcome.`,
    { purchaseId },
  );
}
