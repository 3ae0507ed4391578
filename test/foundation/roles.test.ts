import { freePort, spawnRole, waitReady } from '../support/process';
import { seedTestEvent, testEntry } from '../support/catalog';
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

test('API_WORKERS=2 serves the api from two processes, sums their metrics, and stops cleanly', async () => {
  const prefix = `tp:${uid('r')}:`;
  prefixes.push(prefix);
  const eventId = uid('Workers');
  await seedTestEvent(redis, prefix, testEntry({ eventId }));
  const metricsPort = await freePort();
  const p = await spawnRole('api', {
    API_WORKERS: '2',
    METRICS_PORT: String(metricsPort),
    KAFKA_TOPIC_PREFIX: uid('workers.'),
    REDIS_KEY_PREFIX: prefix,
    SHUTDOWN_GRACE_MS: '3000',
  });
  try {
    await waitReady(p);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${p.url}/api/v1/tickets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ eventId, zoneId: '1', row: 'A', column: (i % 20) + 1 }),
        }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 409)).toHaveLength(20);
    const summed = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const confirmed = /ticketing_purchase_attempts_total\{route="tickets",outcome="confirmed"\} (\d+)/.exec(summed);
    expect(Number(confirmed?.[1])).toBe(20);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  } finally {
    p.child.kill('SIGKILL');
  }
});
