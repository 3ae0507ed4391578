import type { QueueSettings } from './settings';

/** How much admission history a measured rate needs before it is trusted over the session-based guess. */
export const MIN_HISTORY_MS = 10_000;

/** The recent admissions a queue answer carries (queue-lib.lua, describe): how many, newest and oldest (ms). */
export interface AdmissionHistory {
  count: number;
  newest: number;
  oldest: number;
}

/**
 * Admissions per second: measured over the latest admissions (up to 100) and the time since the
 * oldest of them, once they span MIN_HISTORY_MS; before that, the worst case that every session
 * runs its full length (activeBuyers per sessionSeconds). A burst of admissions at the opening
 * alone would promise a rate the line never keeps.
 */
export function admissionRate(s: QueueSettings, h: AdmissionHistory, now: number): number {
  const span = now - h.oldest;
  if (h.count >= 2 && span >= MIN_HISTORY_MS) return h.count / (span / 1000);
  return s.activeBuyers / (s.sessionMs / 1000);
}

/** Seconds until a buyer at `position` (1 = next) is admitted: the wait for the opening, then the line at the admission rate. */
export function estimatedWaitSeconds(s: QueueSettings, position: number, h: AdmissionHistory, now: number): number {
  if (position <= 0) return 0;
  const untilOpening = Math.max(0, s.opensAt - now) / 1000;
  return Math.ceil(untilOpening + position / admissionRate(s, h, now));
}
