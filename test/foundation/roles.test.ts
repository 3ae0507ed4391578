import { spawnRole, waitReady } from '../support/process';
import { uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

const redis = testRedis();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await dropKeyPrefix(redis, p);
  await redis.quit();
});

/** Every role starts as its own process, reports ready, and shuts down cleanly on SIGTERM. */
describe.each(['api', 'writer', 'projector', 'controller'])('role %s', (role) => {
  test('starts, reports ready, serves /healthz and /metrics, and exits 0 on SIGTERM', async () => {
    const prefix = `tp:${uid('r')}:`;
    prefixes.push(prefix);
    const p = await spawnRole(role, { KAFKA_TOPIC_PREFIX: uid('roles.'), REDIS_KEY_PREFIX: prefix, SHUTDOWN_GRACE_MS: '3000' });
    try {
      await waitReady(p);
      expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      expect(metrics).toContain('process_cpu_user_seconds_total');
      expect(metrics).toContain('ticketing_');
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});

test('an unknown role stops the process with a message naming the choices', async () => {
  const p = await spawnRole('cashier', {});
  expect((await p.exited).code).toBe(1);
  expect(p.output()).toMatch(/Unknown role "cashier": use one of api, writer, projector, controller, all/);
});

test('a bad configuration value stops the process with a message naming the variable', async () => {
  const p = await spawnRole('api', { REDIS_URL: 'http://nope', KAFKA_BROKERS: 'no port' });
  expect((await p.exited).code).toBe(1);
  expect(p.output()).toContain('REDIS_URL="http://nope"');
  expect(p.output()).toContain('KAFKA_BROKERS="no port"');
});
