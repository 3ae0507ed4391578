import { parseWrkOutput, parseWrkTime } from '../../bench/wrk-output';

/** wrk 4.1.0 (Debian) with --latency against a server answering 409, as printed. */
const CONFLICTS = `Running 1s test @ http://127.0.0.1:45999/bad
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   789.71us    2.05ms  15.37ms   91.25%
    Req/Sec    35.55k    20.52k   52.64k    70.00%
  Latency Distribution
     50%   78.00us
     75%  138.00us
     90%    2.34ms
     99%   10.79ms
  35317 requests in 1.00s, 4.34MB read
  Non-2xx or 3xx responses: 35317
Requests/sec:  35296.85
Transfer/sec:      4.34MB
`;

/** The seed-replay script's line, wrk's socket-error line and a run stopped after minutes. */
const REPLAY = `Running 6m test @ http://127.0.0.1:40000/
  2 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   301.02ms  120.50ms   2.01s    80.00%
    Req/Sec     1.60k   400.00     2.50k    70.00%
  Latency Distribution
     50%  290.10ms
     75%  350.00ms
     90%  480.00ms
     99%    1.20s
  170000 requests in 1.02m, 40.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 12
  Non-2xx or 3xx responses: 85800
Requests/sec:   2777.12
Transfer/sec:    669.21KB
WRK_RESULT {"purchases":163800,"planned":163800,"durationUs":59000000,"statuses":{"201":78000,"409":85800}}
`;

test('wrk times in every unit it prints become ms', () => {
  expect([parseWrkTime('78.00us'), parseWrkTime('2.34ms'), parseWrkTime('1.20s'), parseWrkTime('1.02m')]).toEqual([
    0.078, 2.34, 1200, 61200,
  ]);
  expect(() => parseWrkTime('3 weeks')).toThrow(/wrk --version/);
});

test('the summary of a run with --latency: rate, percentiles, non-2xx', () => {
  expect(parseWrkOutput(CONFLICTS)).toEqual({
    requests: 35317,
    durationSec: 1,
    throughput: 35297,
    p50: 0.078,
    p75: 0.138,
    p90: 2.34,
    p99: 10.79,
    non2xx: 35317,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
  });
});

test("socket errors and the seed-replay script's own counts", () => {
  const s = parseWrkOutput(REPLAY);
  expect([s.requests, s.durationSec, s.p99, s.non2xx]).toEqual([170000, 61.2, 1200, 85800]);
  expect(s.socketErrors).toEqual({ connect: 0, read: 3, write: 0, timeout: 12 });
  expect(s.script).toEqual({ purchases: 163800, planned: 163800, durationUs: 59000000, statuses: { '201': 78000, '409': 85800 } });
});

test('output without --latency is refused with what to do', () => {
  expect(() => parseWrkOutput(CONFLICTS.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, ''))).toThrow(/--latency/);
});
