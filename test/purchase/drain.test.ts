import { testConfig, uid, waitFor } from '../support/env';
import { spawnRole, waitReady, type RoleProcess } from '../support/process';

/**
 * Graceful drain of an api process (needs `npm run build`): on SIGTERM it first answers 503 on
 * /readyz, so Kubernetes takes it out of the Service, keeps serving for SHUTDOWN_DRAIN_MS
 * while the endpoints update, and only then closes the server and exits.
 */
const DRAIN_MS = 4000;
let api: RoleProcess | undefined;

afterAll(async () => {
  if (api && api.child.exitCode === null && api.child.signalCode === null) {
    api.child.kill('SIGKILL');
    await api.exited;
  }
});

test('SIGTERM turns /readyz to 503 at once, requests are served during SHUTDOWN_DRAIN_MS, then the process exits', async () => {
  api = await spawnRole('api', {
    KAFKA_TOPIC_PREFIX: uid('drain.'),
    REDIS_KEY_PREFIX: testConfig().REDIS_KEY_PREFIX,
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    SHUTDOWN_GRACE_MS: '2000',
  });
  await waitReady(api);
  const url = api.url;
  const signalled = Date.now();
  api.child.kill('SIGTERM');

  const notReady = await waitFor(
    async () => {
      const r = await fetch(`${url}/readyz`);
      return r.status === 503 ? r.json() : undefined;
    },
    '/readyz to answer 503 after SIGTERM',
    DRAIN_MS - 1000,
    20,
  );
  expect(notReady).toMatchObject({ status: 'shutting-down' });

  // Routing stops only once the endpoints update: requests arriving meanwhile are served.
  const served: number[] = [];
  for (let i = 0; i < 3; i++) served.push((await fetch(`${url}/api/v1/events`)).status);
  expect(served).toEqual([200, 200, 200]);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect(Date.now() - signalled).toBeLessThan(DRAIN_MS);

  const exit = await api.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalled).toBeGreaterThanOrEqual(DRAIN_MS);
});
