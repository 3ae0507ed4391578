import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether `given` is the admin token, in constant time. Both sides are hashed first, so the
 * comparison takes the same time whatever the given token's length (timingSafeEqual alone would
 * refuse unequal lengths early, telling the length away). An unset admin token matches nothing.
 */
export function isAdminToken(given: string, adminToken: string): boolean {
  if (!adminToken) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(adminToken));
}
