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
});
