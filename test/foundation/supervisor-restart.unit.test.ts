import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError, loadSupervisorConfig } from '../../src/config/config';
import { nextRestart, DEFAULT_RESTART_POLICY } from '../../src/runtime/restart-policy';
import { planRoles } from '../../src/runtime/role-ports';
import { Supervisor } from '../../src/runtime/supervisor';
import { waitFor } from '../support/env';

/** The supervisor's rules without the platform: its restart backoff, its ports, and a crash loop's report. */
test('the backoff doubles from 0.5 s to 10 s while a role dies young, and starts over after a run of 30 s', () => {
  let state = { youngDeaths: 0 };
  const delays: number[] = [];
  const loops: boolean[] = [];
  for (let i = 0; i < 7; i++) {
    const d = nextRestart(state, 1000);
    state = d.state;
    delays.push(d.delayMs);
    loops.push(d.crashLoop);
  }
  expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  // Reported once, at the fifth young death in a row.
  expect(loops).toEqual([false, false, false, false, true, false, false]);
  expect(nextRestart(state, DEFAULT_RESTART_POLICY.healthyAfterMs)).toEqual({ delayMs: 500, state: { youngDeaths: 1 }, crashLoop: false });
});

test('only the api serves PORT; the other roles get METRICS_PORT+1..+3 in start order, the controller first', () => {
  expect(planRoles({ PORT: 8080, METRICS_PORT: 9464 }).map((p) => [p.role, p.port, p.env])).toEqual([
    ['controller', 9465, { METRICS_PORT: '9465' }],
    ['writer', 9466, { METRICS_PORT: '9466' }],
    ['projector', 9467, { METRICS_PORT: '9467' }],
    ['api', 8080, { PORT: '8080', METRICS_PORT: '9464' }],
  ]);
  expect(planRoles({ PORT: 0, METRICS_PORT: 0 }).map((p) => p.port)).toEqual([0, 0, 0, 0]);
  // The consumers run behind the api (SUPERVISOR_CONSUMER_NICE); the api and controller do not.
  expect(planRoles({ PORT: 0, METRICS_PORT: 0, SUPERVISOR_CONSUMER_NICE: 7 }).map((p) => [p.role, p.nice])).toEqual([
    ['controller', 0],
    ['writer', 7],
    ['projector', 7],
    ['api', 0],
  ]);
  expect(() => planRoles({ PORT: 9466, METRICS_PORT: 9464 })).toThrow(ConfigError);
  expect(() => planRoles({ PORT: 9466, METRICS_PORT: 9464 })).toThrow(/PORT=9466 collides .*move one of them/);
  expect(() => planRoles({ PORT: 8080, METRICS_PORT: 65534 })).toThrow(/use at most 65532/);
});

test('the supervisor refuses ROLE (one process is main.js) and checks the variables once, for every role', () => {
  expect(() => loadSupervisorConfig({ ROLE: 'api' })).toThrow(
    /ROLE=api names what one process runs: start it with node dist\/src\/main.js api/,
  );
  expect(() => loadSupervisorConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
  expect(loadSupervisorConfig({ PORT: '8081' }).cfg.PORT).toBe(8081);
});

test('a role that keeps dying is restarted with the backoff and reported as a crash loop, with its last lines and what to do', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'supervisor-'));
  const main = path.join(dir, 'main.js');
  writeFileSync(
    main,
    `process.stdout.write('starting ' + process.argv[2] + '\\n'); process.stderr.write('boom: no broker\\n'); process.exit(3);`,
  );
  let out = '';
  let err = '';
  const o = new PassThrough().on('data', (d) => (out += d));
  const e = new PassThrough().on('data', (d) => (err += d));
  const supervisor = new Supervisor({
    main,
    roles: [{ role: 'writer', port: 0, env: {}, nice: 0 }],
    env: process.env,
    stopDeadlineMs: 1000,
    policy: { firstDelayMs: 10, maxDelayMs: 40, healthyAfterMs: 60_000, crashLoopAfter: 3 },
    out: o,
    err: e,
  });
  try {
    void supervisor.start();
    await waitFor(() => err.includes('What to do'), 'the crash loop report', 10_000);
    expect(out).toContain('writer     | starting writer');
    expect(err).toMatch(/supervisor \| writer \(pid \d+\) died with exit code 3 after [\d.]+ s; restarting it in 0.01 s/);
    expect(err).toMatch(/restarting it in 0.02 s/);
    expect(err).toContain('writer is in a crash loop: it died 3 times in a row, each within 60 s of its start (last: exit code 3)');
    expect(err).toContain('supervisor |   boom: no broker');
    expect(err).toContain('npm run services:status');
  } finally {
    await supervisor.stop('test over');
    rmSync(dir, { recursive: true, force: true });
  }
  const reports = err.split('\n').filter((l) => l.includes('is in a crash loop')).length;
  expect(reports).toBe(1);
});
