import { pooledRandomBytes, randomToken } from '../../src/shared/random';

test('pooled random tokens are distinct across pool refills and keep their length', () => {
  const seen = new Set<string>();
  // 12 KiB pool / 9 bytes: about 1,365 tokens per refill, so this crosses several refills.
  for (let i = 0; i < 10_000; i++) seen.add(randomToken(9));
  expect(seen.size).toBe(10_000);
  for (const t of seen) expect(t).toMatch(/^[A-Za-z0-9_-]{12}$/);
});

test('a draw larger than the pool is served whole', () => {
  expect(pooledRandomBytes(20_000)).toHaveLength(20_000);
  expect(randomToken(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
});
