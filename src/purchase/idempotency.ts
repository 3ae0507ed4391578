import { createHash } from 'node:crypto';
import type { RedisClient } from '../shared/redis';
import { idempotencyKey, idempotencyRetryKey, zoneKeys } from '../inventory/keys';
import { FenceCode, MarkerWriteCode, withScripts, type ScriptedRedis } from '../commands/scripts';
import { ApiError, problemBody } from '../shared/errors';
import { parsePurchaseId } from './ids';
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
  /** `purchaseId`: the id the answer belongs to (absent in answers an older version stored). */
  | { state: 'done'; fingerprint: string; response: StoredResponse; purchaseId?: string }
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
 *
 * Every write of a key's marker after its claim is a compare-and-set on the purchase id
 * (idem-write.lua): an attempt that ends after a retry took the key over never overwrites the
 * retry's answer. Before a retry runs afresh, the old purchase id is fenced
 * (fence-purchase.lua), so that an old attempt reaching reserve.lua late holds nothing.
 */
export class IdempotencyStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly purchases: PurchaseFinder,
    private readonly inFlightTtlSeconds = 60,
  ) {
    this.redis = withScripts(redis);
  }

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
    const inFlight = (): Extract<Marker, { state: 'in-flight' }> => ({
      state: 'in-flight',
      fingerprint,
      purchaseId: newPurchaseId(),
      at: Date.now(),
    });
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
      const took = await this.takeOver(scope, redisKey, stored.purchaseId, mine);
      if (took === 'reserved') {
        // The old attempt reserved between the lookup and the fence: its purchase decides.
        const now = await this.settle(redisKey, stored, replay, false);
        if (now) return now;
        throw stillUnknown(stored.purchaseId, 'its purchase is still being settled');
      }
      if (took === 'lost') throw inFlightError();
    }
    return this.execute(redisKey, mine, handler);
  }

  private async execute(
    redisKey: string,
    claim: Extract<Marker, { state: 'in-flight' }>,
    handler: (purchaseId: string) => Promise<StoredResponse>,
  ): Promise<StoredResponse> {
    const { fingerprint, purchaseId } = claim;
    let marker: Marker | undefined;
    try {
      const response = await handler(purchaseId);
      if (response.status < 500) marker = { state: 'done', fingerprint, purchaseId, response };
      return response;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        marker = { state: 'done', fingerprint, purchaseId, response: { status: err.status, body: problemBody(err), problem: true } };
      } else if (err instanceof ApiError && err.code === 'PURCHASE_OUTCOME_UNKNOWN' && typeof err.extra.purchaseId === 'string') {
        marker = { state: 'pending', fingerprint, purchaseId: err.extra.purchaseId };
      }
      throw err;
    } finally {
      // Failing to store the answer must not replace it (a 201, or a 503 carrying a purchaseId):
      // the in-flight marker, which carries the purchase id, then answers retries. A key that
      // a retry took over meanwhile belongs to the retry's purchase: it is left alone.
      await this.write(redisKey, purchaseId, marker).catch(() => undefined);
    }
  }

  /** Replaces (or, without a marker, deletes) the key's marker if it still belongs to `purchaseId`. */
  private async write(redisKey: string, purchaseId: string, marker: Marker | undefined): Promise<boolean> {
    const code = await this.redis.tpIdemWrite(redisKey, purchaseId, marker ? JSON.stringify(marker) : '', this.ttlSeconds);
    return code === MarkerWriteCode.WRITTEN;
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
    // A running attempt found nowhere is simply still running: no need to ask the writer.
    const found = await this.purchases.find(purchaseId, { absentIsNotFinal: running }).catch((err: unknown) => {
      if (running) throw inFlightError();
      // The lookup's own "still unknown" (e.g. the writer has not stored the whole log yet).
      if (err instanceof ApiError && err.code === 'PURCHASE_OUTCOME_UNKNOWN')
        throw stillUnknown(purchaseId, 'its purchase may still be on its way to the stores');
      throw stillUnknown(purchaseId, 'its purchase could not be looked up');
    });
    // A repeat while the first attempt still runs is told so (409); once it is overdue, 503 with its id.
    if (found?.status === 'PENDING') throw running ? inFlightError() : stillUnknown(purchaseId, 'its purchase is still pending');
    // A purchase cancelled since was still sold under this key: the key replays that sale.
    if (found?.status !== 'CONFIRMED' && found?.status !== 'CANCELLED') return undefined;
    const response = replay(found.record);
    const done: Marker = { state: 'done', fingerprint, purchaseId, response };
    await this.write(redisKey, purchaseId, done).catch(() => undefined);
    return response;
  }

  /**
   * For the one retry that claims the fresh run (the claim outlives the key's answer): fences
   * the old purchase id, then moves the key to the retry's claim. 'taken': run afresh;
   * 'lost': another retry runs it; 'reserved': the old id reserved after all (settle it).
   */
  private async takeOver(
    scope: string,
    redisKey: string,
    oldPurchaseId: string,
    claim: Extract<Marker, { state: 'in-flight' }>,
  ): Promise<'taken' | 'lost' | 'reserved'> {
    const won = await this.redis.set(idempotencyRetryKey(this.prefix, scope, oldPurchaseId), '1', 'EX', this.ttlSeconds, 'NX');
    if (won !== 'OK') return 'lost';
    const ids = parsePurchaseId(oldPurchaseId);
    // Ids come from newPurchaseId, so this does not happen; without the zone nothing can be fenced.
    if (!ids) throw stillUnknown(oldPurchaseId, 'its purchase id names no zone');
    // fence.lua (the per-buyer limit's tombstone, mode purchase) makes the old id unable to reserve.
    const purchaseKey = zoneKeys(this.prefix, ids.eventId, ids.zoneId).purchase(oldPurchaseId);
    const [fence] = await this.redis.tpFence(purchaseKey, purchaseKey, 'purchase', Date.now(), this.ttlSeconds);
    // A cancelled purchase reserved too: its answer is the sale the key made (settle replays it).
    if (fence === FenceCode.PURCHASED || fence === FenceCode.CANCELLED) return 'reserved';
    // The old id can no longer sell: whatever its attempt still answers, the key is the retry's.
    const value = JSON.stringify(claim);
    if (await this.write(redisKey, oldPurchaseId, claim)) return 'taken';
    // The marker is gone (a Redis loss): the key is free for the fresh run.
    return (await this.redis.set(redisKey, value, 'EX', this.ttlSeconds, 'NX')) === 'OK' ? 'taken' : 'lost';
  }
}

const inFlightError = () =>
  new ApiError('IDEMPOTENCY_IN_FLIGHT', 'The first request with this Idempotency-Key is still running; retry in a moment');

function stillUnknown(purchaseId: string, why: string): ApiError {
  return new ApiError(
    'PURCHASE_OUTCOME_UNKNOWN',
    `The first request with this Idempotency-Key ended with an unknown outcome and ${why}; retry later with the same key. GET /api/v1/purchases/${purchaseId} tells the final outcome.`,
    { purchaseId },
  );
}
