import { Redis } from 'ioredis';
import type { Config } from '../../src/config/config';
import { withScripts, type ScriptedRedis } from '../../src/commands/scripts';
import type { PlatformFaults } from '../../src/infra/connections';
import { startPlatform, type RunningPlatform, type SingleRole } from '../../src/runtime/platform';
import { testConfig, testLogger } from './env';

/** An in-process platform with the given roles on an ephemeral port, against the real services; `faults` are test-only hooks. */
export async function startTestPlatform(
  roles: SingleRole[],
  overrides: Partial<Record<keyof Config, string>> = {},
  faults: PlatformFaults = {},
): Promise<RunningPlatform & { cfg: Config }> {
  const cfg = testConfig(overrides);
  const platform = await startPlatform(cfg, testLogger(roles.join('+')), roles, faults);
  return Object.assign(platform, { cfg });
}

/** A Redis connection to the platform's Redis with the scripts registered. */
export function testRedis(url = testConfig().REDIS_URL): ScriptedRedis {
  return withScripts(new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 2 }));
}

/** What http() answers. The body is whatever JSON the API sent; tests read its fields and assert them with expect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many shapes, read field by field at ~100 call sites
export type HttpAnswer = { status: number; body: any; contentType: string };

/** JSON over HTTP with the status and body, for API tests. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') ?? '' };
}

/** Deletes every key under a test's own key prefix (never a shared one: the prefix is the test's). */
export async function dropKeyPrefix(redis: ScriptedRedis, prefix: string): Promise<void> {
  // uid() makes prefixes of 15+ characters; the platform's own is `tp:`.
  if (prefix.length < 12 || !prefix.endsWith(':'))
    throw new Error(`refusing to drop keys under a prefix that is not a test's own: ${prefix}`);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000');
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
