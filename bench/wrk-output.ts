/**
 * Reads wrk 4.x's text summary (run with --latency) and the one `WRK_RESULT {json}` line
 * load/wrk/seed-replay.lua's done() prints. Pure: bench/wrk.ts runs wrk, this only parses.
 */
export interface WrkSummary {
  /** Every answer wrk counted (for the seed replay, /healthz fillers included). */
  requests: number;
  durationSec: number;
  /** wrk's "Requests/sec". */
  throughput: number;
  /** Latency percentiles in ms from "Latency Distribution" (needs --latency). */
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  /** "Non-2xx or 3xx responses" (0 when wrk prints no such line). */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /**
   * The seed-replay script's own count: purchase answers by status, purchases planned (sent or
   * lost), and µs from the first purchase sent to the last answered.
   */
  script?: { purchases: number; planned: number; durationUs: number; statuses: Record<string, number> };
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** "812.34us", "1.20ms", "2.01s", "1.5m" → ms. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk printed a time "${text}" this parser does not know; check wrk --version (4.x expected)`);
  return Math.round(Number(m[1]) * TIME_UNITS[m[2]!]! * 1000) / 1000;
}

function need(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`wrk's output has no ${what}; was it run with --latency? Output:\n${text.slice(0, 2000)}`);
  return m;
}

export function parseWrkOutput(text: string): WrkSummary {
  const total = need(text, /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m, '"N requests in T" line');
  const rate = need(text, /^Requests\/sec:\s*([\d.]+)([kKMG]?)/m, '"Requests/sec" line');
  const pct = (p: number) => parseWrkTime(need(text, new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `${p}% latency`)[1]!);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(text);
  const result = /^WRK_RESULT (\{.*\})\s*$/m.exec(text);
  return {
    requests: Number(total[1]),
    durationSec: parseWrkTime(`${total[2]}${total[3]}`) / 1000,
    throughput: Math.round(Number(rate[1]) * SIZE_UNITS[rate[2] ?? '']!),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
    ...(result ? { script: JSON.parse(result[1]!) as WrkSummary['script'] } : {}),
  };
}
