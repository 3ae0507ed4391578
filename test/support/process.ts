import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './env';

/**
 * The repository root: the nearest folder above this file with a package.json, so the helpers
 * work from source (ts-jest) and compiled into dist/ (the fault suite, `npm run faults`).
 */
export const ROOT = findRoot(__dirname);
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}: run from a checkout of the repository`);
  }
}
/** Node 24 from the `node` dev dependency, whatever node runs jest. */
export const NODE = path.join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RoleProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Children never outlive the test process, even when jest stops a worker abruptly.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * Runs `dist/src/main.js <role>` as a separate process (needs `npm run build`), on a free port
 * or on `opts.port` (a restart that keeps its address).
 */
export async function spawnRole(role: string, env: Record<string, string>, opts: { port?: number } = {}): Promise<RoleProcess> {
  if (!existsSync(MAIN)) throw new Error('dist/src/main.js is missing: run `npm run build` (npm test does it for you)');
  const port = opts.port ?? (await freePort());
  const portVar = role === 'api' || role === 'all' ? 'PORT' : 'METRICS_PORT';
  const child = spawn(NODE, [MAIN, role], {
    cwd: ROOT,
    env: { ...process.env, ...ownServices(env), LOG_LEVEL: 'warn', [portVar]: String(port), RATE_LIMIT_ROUTES: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** Waits until the process answers 200 on /readyz. */
export async function waitReady(p: RoleProcess, timeoutMs = 30000): Promise<void> {
  const ready = waitFor(
    async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.status === 200,
    `${p.url}/readyz`,
    timeoutMs,
    100,
  );
  const died = p.exited.then(({ code, signal }) => {
    throw new Error(`process exited (${code ?? signal}) before it was ready:\n${p.output()}`);
  });
  await Promise.race([ready, died]);
  died.catch(() => undefined);
}

/** A process given its own broker or Redis drops the topology's cluster settings for it (see testConfig). */
function ownServices(env: Record<string, string>): Record<string, string> {
  return {
    ...(env.KAFKA_BROKERS ? { KAFKA_REPLICATION_FACTOR: '1', KAFKA_MIN_INSYNC_REPLICAS: '1' } : {}),
    ...(env.REDIS_URL ? { REDIS_CLUSTER_NODES: '' } : {}),
  };
}
