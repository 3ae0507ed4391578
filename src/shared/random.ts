import { randomBytes } from 'node:crypto';

/*
 * randomBytes per call costs a call into OpenSSL (measured at about 3% of a purchase's main-thread
 * CPU for one 9-byte token: docs/performance.md); ids and tokens on the hot path draw from a
 * pool that is refilled 12 KiB at a time.
 */
const POOL_BYTES = 12 * 1024;
let pool = Buffer.alloc(0);
let at = 0;

/** `n` fresh random bytes (n ≤ 12 KiB), a view into the pool: copy them if they must outlive the next call. */
export function pooledRandomBytes(n: number): Buffer {
  if (at + n > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, n));
    at = 0;
  }
  at += n;
  return pool.subarray(at - n, at);
}

/** A random URL-safe token of `bytes` random bytes (base64url). */
export const randomToken = (bytes: number): string => pooledRandomBytes(bytes).toString('base64url');
