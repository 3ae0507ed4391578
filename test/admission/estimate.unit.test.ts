import { admissionRate, estimatedWaitSeconds, MIN_HISTORY_MS } from '../../src/admission/estimate';
import type { QueueSettings } from '../../src/admission/settings';

/** estimatedWaitSeconds: the measured admission rate once there is history, else activeBuyers per sessionSeconds. */
const s: QueueSettings = { eventId: 'E', activeBuyers: 5, sessionMs: 600_000, opensAt: 0, joinsFrom: 0 };
const now = 1_000_000_000;

test('without enough history: every session is assumed to run its full length (5 per 600 s)', () => {
  expect(admissionRate(s, { count: 0, newest: 0, oldest: 0 }, now)).toBeCloseTo(5 / 600);
  // A burst at the opening alone (5 admissions in the same millisecond) is not a rate.
  expect(admissionRate(s, { count: 5, newest: now - 100, oldest: now - 100 }, now)).toBeCloseTo(5 / 600);
  expect(estimatedWaitSeconds(s, 1, { count: 0, newest: 0, oldest: 0 }, now)).toBe(120);
});

test('with history: admissions over the time since the oldest of them', () => {
  const h = { count: 50, newest: now - 1000, oldest: now - 25_000 };
  expect(admissionRate(s, h, now)).toBeCloseTo(2);
  expect(estimatedWaitSeconds(s, 10, h, now)).toBe(5);
  expect(admissionRate(s, { count: 50, newest: now, oldest: now - MIN_HISTORY_MS + 1 }, now)).toBeCloseTo(5 / 600);
});

test('before the opening the wait for it comes first; the front of an admitted line waits 0', () => {
  const pre = { ...s, opensAt: now + 30_000 };
  expect(estimatedWaitSeconds(pre, 1, { count: 0, newest: 0, oldest: 0 }, now)).toBe(150);
  expect(estimatedWaitSeconds(s, 0, { count: 0, newest: 0, oldest: 0 }, now)).toBe(0);
});
