import { isRedisUnavailable } from '../../src/shared/redis';

/** Failover-time Redis errors are answered 503 (src/http/problem.ts), everything else stays a 500. */
test.each([
  'MOVED 1234 127.0.0.1:7001',
  'ASK 1234 127.0.0.1:7001',
  'CLUSTERDOWN The cluster is down',
  'TRYAGAIN Multiple keys request during rehashing of slot',
  'LOADING Redis is loading the dataset in memory',
  "READONLY You can't write against a read only replica.",
  'Too many Cluster redirections. Last error: Error: Connection is closed.',
  'Connection is closed.',
])('%s is a Redis outage', (message) => expect(isRedisUnavailable(new Error(message))).toBe(true));

test('exhausted retries and refused connections are outages; other errors are not', () => {
  expect(
    isRedisUnavailable(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })),
  ).toBe(true);
  expect(isRedisUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7000'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isRedisUnavailable(new Error('ERR Error running script: attempt to compare nil with number'))).toBe(false);
  expect(isRedisUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
  expect(isRedisUnavailable(undefined)).toBe(false);
});
