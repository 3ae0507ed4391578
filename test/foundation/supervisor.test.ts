import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { dynamoSeats, mysqlSeats, testStores } from '../cqrs/support';
import { eventResource, venueResource } from '../controller/support/cluster';
import { forgetEvents } from '../controller/support/stores';
import { testConfig, topologyEnv, uid, waitFor } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';
import { freePort, NODE, ROOT } from '../support/process';

/**
 * `npm start` (issue 16.2): dist/src/supervise.js runs every role in a process of its own, passes
 * their lines on prefixed with the role, restarts a role that dies, stops them all on SIGTERM,
 * and leaves none behind when it is itself SIGKILLed. Real services, a seeds folder and key and
 * topic prefixes of the test's own.
 */
const SUPERVISE = path.join(ROOT, 'dist', 'src', 'supervise.js');
const ROLES = ['controller', 'writer', 'projector', 'api'] as const;
type RoleName = (typeof ROLES)[number];

const eventId = uid('Sup');
const venueId = uid('VSup');
const cfg = testConfig();
const redis = testRedis();
const stores = testStores(cfg);
let seeds: string;

beforeAll(async () => {
  if (!existsSync(SUPERVISE)) throw new Error('dist/src/supervise.js is missing: run `npm run build`');
  seeds = await mkdtemp(path.join(os.tmpdir(), 'supervisor-seeds-'));
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  await writeFile(path.join(seeds, 'hall.yaml'), doc(venueResource('hall', venueId)));
  await writeFile(path.join(seeds, 'show.yaml'), doc(eventResource('show', eventId, 'hall')));
});
afterAll(async () => {
  for (const s of started) s.child.kill('SIGKILL');
  await forgetEvents(stores.ctx, [{ eventId, venueId, zoneIds: ['a'] }]);
  await stores.closeAll();
  await dropKeyPrefix(redis, cfg.REDIS_KEY_PREFIX);
  await redis.quit();
  await rm(seeds, { recursive: true, force: true });
});

/** A process is gone once /proc no longer has it or it is a zombie nobody reaped yet. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const stat = (pid: number) =>
  readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^\d+ \(.*\) /, '')
    .split(' ');

const threadNice = (pid: number, tid: number) =>
  Number(
    readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      .replace(/^\d+ \(.*\) /, '')
      .split(' ')[16],
  );

/** The supervisor's children by role, from /proc (what runs, not what the supervisor says). */
function childrenOf(pid: number): Partial<Record<RoleName, number>> {
  const out: Partial<Record<RoleName, number>> = {};
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const kid of kids) {
    if (!alive(kid)) continue;
    const args = readFileSync(`/proc/${kid}/cmdline`, 'utf8').split('\0');
    const role = args[args.findIndex((a) => a.endsWith(path.join('dist', 'src', 'main.js'))) + 1] as RoleName;
    if (ROLES.includes(role)) out[role] = kid;
  }
  return out;
}

/** `count` consecutive free ports from a free first one. */
async function freeRun(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count > 65535) continue;
    const free = await Promise.all(
      Array.from(
        { length: count - 1 },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const srv = net.createServer().once('error', () => resolve(false));
            srv.listen(base + i + 1, '0.0.0.0', () => srv.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return base;
  }
}

interface Started {
  child: ChildProcess;
  api: string;
  metricsPort: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const started: Started[] = [];

async function startSupervisor(): Promise<Started> {
  const port = await freePort();
  const metricsPort = await freeRun(4);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...topologyEnv(),
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    SEEDS_DIR: seeds,
    REDIS_KEY_PREFIX: cfg.REDIS_KEY_PREFIX,
    KAFKA_TOPIC_PREFIX: cfg.KAFKA_TOPIC_PREFIX,
    KAFKA_PARTITIONS: '3',
    SHUTDOWN_GRACE_MS: '2000',
    LOG_LEVEL: 'info',
  };
  delete env.ROLE;
  const child = spawn(NODE, [SUPERVISE], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const s = { child, api: `http://127.0.0.1:${port}`, metricsPort, output: () => out, exited };
  started.push(s);
  await waitFor(() => out.includes('every role runs in its own process'), `the supervisor's start; its output:\n${out}`, 90_000, 100);
  return s;
}

const ready = (url: string) =>
  fetch(`${url}/readyz`).then(
    (r) => r.status === 200,
    () => false,
  );
const buy = (api: string, column: number) =>
  fetch(`${api}/api/v1/events/${eventId}/purchases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: uid('fan'), zoneId: 'a', seats: [{ row: 'A', column }] }),
  });
async function persisted(column: number): Promise<void> {
  const seat = `a/A-${column}`;
  await waitFor(async () => (await dynamoSeats(stores, eventId, ['a'])).has(seat), `${seat} in DynamoDB (the writer child)`, 30_000, 200);
  await waitFor(async () => (await mysqlSeats(stores, eventId)).has(seat), `${seat} in MySQL (the projector child)`, 30_000, 200);
}

describe('npm start: the supervisor', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startSupervisor();
  }, 120_000);

  test('runs every role as its own process in its process group, each healthy on its own port, every line prefixed', async () => {
    const pid = s.child.pid!;
    const kids = childrenOf(pid);
    expect(Object.keys(kids).sort()).toEqual([...ROLES].sort());
    const pids = Object.values(kids);
    expect(new Set(pids).size).toBe(4);
    // Not detached: the children share the supervisor's process group (field 3 of /proc/pid/stat is pgrp).
    for (const kid of pids) expect(stat(kid)[2]).toBe(stat(pid)[2]);
    // The consumers run at SUPERVISOR_CONSUMER_NICE (default 10; field 19 of /proc/pid/stat), the api and controller as the supervisor.
    // Every thread of the process: setpriority on Linux changes one thread only.
    const niceOf = (p: number) => Number(stat(p)[16]);
    const threadNices = (p: number) => [...new Set(readdirSync(`/proc/${p}/task`).map((t) => threadNice(p, Number(t))))];
    const consumerNice = Math.max(niceOf(pid), 10);
    expect([kids.writer, kids.projector].map((p) => threadNices(p!))).toEqual([[consumerNice], [consumerNice]]);
    expect([kids.api, kids.controller].map((p) => threadNices(p!))).toEqual([[niceOf(pid)], [niceOf(pid)]]);
    await waitFor(() => ready(s.api), `${s.api}/readyz`, 30_000, 100);
    // controller, writer, projector: METRICS_PORT+1..+3, printed.
    for (const [i, role] of ['controller', 'writer', 'projector'].entries()) {
      const port = s.metricsPort + 1 + i;
      expect(s.output()).toContain(`${role} pid ${kids[role as RoleName]}: health and metrics on :${port}`);
      // Generous: a writer joins its consumer group first, slow on a loaded CI machine.
      await waitFor(() => ready(`http://127.0.0.1:${port}`), `${role}'s /readyz on :${port}`, 90_000, 100);
    }
    const lines = s.output().trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^(controller|writer|projector|api|supervisor) *\| /);
    // Whole JSON lines: the role's log passes through unbroken.
    const apiLog = lines.filter((l) => l.startsWith('api ')).map((l) => l.replace(/^api *\| /, ''));
    expect(apiLog.length).toBeGreaterThan(0);
    for (const l of apiLog) expect(() => JSON.parse(l)).not.toThrow();
  }, 150_000);

  test('a purchase through the api is persisted to DynamoDB and MySQL by the writer and projector children', async () => {
    expect((await buy(s.api, 1)).status).toBe(201);
    await persisted(1);
  });

  test.each([
    ['writer', 2],
    ['api', 3],
  ] as const)(
    'kill -9 of the %s child: reported, restarted, and a purchase works again',
    async (role, column) => {
      const pid = s.child.pid!;
      const before = childrenOf(pid)[role]!;
      process.kill(before, 'SIGKILL');
      await waitFor(
        () => s.output().includes(`${role} (pid ${before}) died with signal SIGKILL`),
        `the report of ${role}'s death`,
        10_000,
        50,
      );
      const after = await waitFor(
        () => {
          const now = childrenOf(pid)[role];
          return now !== undefined && now !== before ? now : undefined;
        },
        `a new ${role} process`,
        15_000,
        50,
      );
      expect(alive(before)).toBe(false);
      expect(after).not.toBe(before);
      await waitFor(() => ready(s.api), `${s.api}/readyz after the restart`, 30_000, 100);
      const res = await waitFor(
        async () => {
          const r = await buy(s.api, column);
          return r.status === 201 ? r : undefined;
        },
        `a 201 after ${role} restarted`,
        30_000,
        200,
      );
      expect(res.status).toBe(201);
      await persisted(column);
    },
    90_000,
  );

  test('SIGTERM stops every child and the supervisor exits 0 within the deadline', async () => {
    const pids = Object.values(childrenOf(s.child.pid!));
    expect(pids).toHaveLength(4);
    s.child.kill('SIGTERM');
    // SHUTDOWN_GRACE_MS=2000 plus the 5 s margin is the supervisor's own deadline before SIGKILL.
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([s.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 15_000)))]);
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor(() => pids.every((p) => !alive(p)), 'every child gone', 5000, 50);
    expect(s.output()).toContain('every role stopped');
  }, 30_000);
});

describe('no orphans', () => {
  test('after a SIGKILL of the supervisor, every child stops by itself within the deadline', async () => {
    const s = await startSupervisor();
    const pids = Object.values(childrenOf(s.child.pid!));
    expect(pids).toHaveLength(4);
    s.child.kill('SIGKILL');
    await s.exited;
    // Each child's own deadline is SHUTDOWN_GRACE_MS + 5 s; most leave at once (a loaded machine drains slower).
    await waitFor(() => pids.every((p) => !alive(p)), `every child of the killed supervisor gone (${pids.join(', ')})`, 45_000, 100);
  }, 120_000);
});
