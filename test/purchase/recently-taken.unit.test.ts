import { RecentlyTaken } from '../../src/purchase/recently-taken';

/** Pure logic (no service involved): what the api refuses without asking Redis, and for how long. */
describe('RecentlyTaken', () => {
  test('knows seats seen taken until the TTL passes, then asks again', () => {
    const r = new RecentlyTaken(2000);
    r.markTaken('E/1', 100, [3, 7], 1_000);
    expect(r.taken('E/1', [1, 3, 7, 9], 1_500)).toEqual([1, 2]);
    expect(r.taken('E/1', [3], 3_001)).toEqual([]);
    expect(r.taken('E/2', [3], 1_500)).toEqual([]);
  });

  test('a sold-out zone is refused for the TTL only', () => {
    const r = new RecentlyTaken(500);
    r.markSoldOut('E/1', 10, 10_000);
    expect(r.soldOut('E/1', 10_400)).toBe(true);
    expect(r.soldOut('E/1', 10_501)).toBe(false);
  });

  test('a TTL of zero never refuses', () => {
    const r = new RecentlyTaken(0);
    r.markTaken('E/1', 10, [1], 5);
    expect(r.taken('E/1', [1], 5)).toEqual([]);
  });

  test('holds at most maxZones zones and drops the one it saw least recently', () => {
    const r = new RecentlyTaken(10_000, 2);
    r.markTaken('E/1', 10, [1], 1_000);
    r.markTaken('E/2', 10, [1], 1_001);
    r.markTaken('E/1', 10, [2], 1_002); // E/1 seen again: E/2 is now the least recent
    r.markTaken('E/3', 10, [1], 1_003);
    expect(r.size).toBe(2);
    expect(r.taken('E/2', [1], 1_004)).toEqual([]);
    expect(r.taken('E/1', [1, 2], 1_004)).toEqual([0, 1]);
    expect(r.taken('E/3', [1], 1_004)).toEqual([0]);
  });

  test('forgets zones whose entries have all expired', () => {
    const r = new RecentlyTaken(500, 100);
    r.markTaken('E/1', 10, [1], 1_000);
    r.markSoldOut('E/2', 10, 1_200);
    r.markTaken('E/3', 10, [2], 1_600); // E/1 expired at 1_500; E/2 is still sold out
    expect(r.size).toBe(2);
    r.markTaken('E/4', 10, [2], 1_701); // E/2 expired at 1_700
    expect(r.size).toBe(2);
    expect(r.soldOut('E/2', 1_701)).toBe(false);
  });

  test('a sale across thousands of zones stays within the default bound', () => {
    const r = new RecentlyTaken(60_000);
    for (let i = 0; i < 5_000; i++) r.markTaken(`E/${i}`, 1_000, [i % 1_000], 1_000 + i);
    expect(r.size).toBeLessThanOrEqual(RecentlyTaken.DEFAULT_MAX_ZONES);
    expect(r.taken('E/4999', [4_999 % 1_000], 7_000)).toEqual([0]);
  });
});
