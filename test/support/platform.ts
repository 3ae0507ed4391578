import type { Config } from '../../src/config/config';
import { withScripts, type ScriptedRedis } from '../../src/commands/scripts';
import type { PlatformFaults } from '../../src/infra/connections';
import { createRedisClient, scanKeys, unlinkEach } from '../../src/shared/redis';
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
export function testRedis(url?: string): ScriptedRedis {
  return withScripts(createRedisClient(url ? { REDIS_URL: url, REDIS_CLUSTER_NODES: '' } : testConfig()));
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
  // One UNLINK per key: a test's keys span many slots on a cluster.
  for await (const keys of scanKeys(redis, `${prefix}*`)) await unlinkEach(redis, keys);
}
