import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Backend } from './fixtures';

export interface ServerProcess {
  url: string;
  pid: number;
  topicPrefix: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the api role as a child process (so the driver never shares its event loop) and
 * waits for /readyz. Needs `npm run build`.
 */
export async function startServer(opts: {
  backend: Backend;
  topicPrefix: string;
  role?: 'api' | 'writer' | 'projector';
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * Exactly what `npm start` runs: the supervisor (dist/src/supervise.js) with every role in a
   * process of its own, the api on the returned url, the other roles on free ports.
   */
  supervised?: boolean;
  /** Node options of the child, e.g. --cpu-prof (bench/profile.ts). */
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  const port = await freePort();
  const role = opts.role ?? 'api';
  const dist = path.resolve(__dirname, '..', '..', 'src');
  const argv = opts.supervised ? [path.join(dist, 'supervise.js')] : [path.join(dist, 'main.js'), role];
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...argv], {
    env: {
      ...process.env,
      ...(opts.supervised ? { PORT: String(port), METRICS_PORT: '0' } : { [role === 'api' ? 'PORT' : 'METRICS_PORT']: String(port) }),
      KAFKA_TOPIC_PREFIX: opts.topicPrefix,
      LOG_LEVEL: 'warn',
      INVENTORY_BACKEND: opts.backend,
      // The lab measures the platform's capacity from one client address: rate limits off unless
      // a scenario turns them on (their cost is measured apart: bench/rate-limit-cost.ts).
      RATE_LIMIT_ROUTES: '',
      ...opts.env,
    },
    // The supervisor prints every role's start-up lines on stdout: kept out of the bench's output.
    stdio: ['ignore', opts.supervised ? 'ignore' : 'inherit', 'pipe'],
  });
  // Never leave the server behind, even when the driver dies of an uncaught error.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    process.stderr.write(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    process.removeListener('exit', killOnExit);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) throw new Error(`The api server exited during start-up:\n${stderr}\nRun npm run build and check npm run services:status.`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The api server was not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    topicPrefix: opts.topicPrefix,
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      // The supervisor gives its roles SHUTDOWN_DRAIN_MS + SHUTDOWN_GRACE_MS + 5 s (15 s by default) and then kills them itself.
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.supervised ? 45_000 : 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
