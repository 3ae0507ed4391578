import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testRedis } from '../support/platform';
import { freeRedisPorts } from '../support/private-cluster';

/**
 * scripts/services/cli.mjs on private instances only: a temp .services/ (TICKETING_SERVICES_DIR)
 * and free ports, so the shared services of this checkout are never touched.
 */
const CLI = path.resolve(__dirname, '..', '..', 'scripts', 'services', 'cli.mjs');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'services-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TICKETING_SERVICES_DIR: dir, ...env },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('up never installs: without redis-server it fails and names `npm run services:install`', async () => {
  const bin = path.join(dir, 'bin'); // a PATH with node and nothing else
  mkdirSync(bin);
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const r = cli(['up', '--only', 'redis'], { REDIS_PORT: String(await freePort()), PATH: bin });
  expect(r.code).toBe(1);
  expect(r.out).toContain('redis-server is not installed');
  expect(r.out).toContain('npm run services:install -- --only redis');
  expect(existsSync(path.join(dir, 'logs', 'apt.log'))).toBe(false);
});

test('wrk is an optional tool: without it and without apt-get, install names the command and succeeds; up refuses a tool', () => {
  const bin = path.join(dir, 'bin'); // a PATH with node and nothing else: no wrk, no apt-get
  mkdirSync(bin);
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const r = cli(['install', '--only', 'wrk'], { PATH: bin });
  expect([r.code, r.out]).toEqual([0, expect.stringContaining('wrk is not installed')]);
  expect(r.out).toContain('apt-get install -y wrk');
  expect(existsSync(path.join(dir, 'logs', 'apt.log'))).toBe(false);
  const up = cli(['up', '--only', 'wrk'], {});
  expect([up.code, up.out]).toEqual([2, expect.stringContaining('a tool is only installed, never started')]);
});

test('up starts a private Redis, a second up leaves it alone, down stops only what up started', async () => {
  const port = await freePort();
  const env = { REDIS_PORT: String(port) };
  expect(cli(['down', '--only', 'redis'], env).out).toContain('not started by `up`; nothing to stop');
  const up = cli(['up', '--only', 'redis'], env);
  expect([up.code, up.out]).toEqual([0, expect.stringContaining(`healthy on 127.0.0.1:${port} after`)]);
  try {
    expect(cli(['status', '--only', 'redis'], env).out).toMatch(/redis\s+\S+\s+healthy\s+started-by-us/);
    expect(cli(['up', '--only', 'redis'], env).out).toContain(`already healthy on 127.0.0.1:${port} (started by us`);
    const install = cli(['install', '--only', 'redis,dynalite'], env).out;
    expect(install).toContain('redis: nothing to install');
    expect(install).toContain('dynalite: nothing to install');
  } finally {
    const down = cli(['down', '--only', 'redis'], env);
    expect([down.code, down.out]).toEqual([0, expect.stringContaining('stopped; data kept')]);
  }
  expect(cli(['status', '--only', 'redis'], env).code).toBe(1);
  // The platform's Redis of this checkout is still there.
  const shared = testRedis();
  try {
    expect(await shared.ping()).toBe('PONG');
  } finally {
    await shared.quit();
  }
});

test('an unknown TOPOLOGY is refused, naming the topologies there are', () => {
  const r = cli(['status'], { TOPOLOGY: 'cluser' });
  expect(r.code).toBe(2);
  expect(r.out).toContain('TOPOLOGY=cluser is not a topology: use TOPOLOGY=cluster or TOPOLOGY=single');
});

test('TOPOLOGY=cluster: up creates a Redis cluster on REDIS_CLUSTER_NODES, status lists each node with pid and role, a killed node is restarted and rejoins, down stops all six', async () => {
  const ports = await freeRedisPorts(6);
  const env = { TOPOLOGY: 'cluster', REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') };
  const only = ['--only', 'redis-cluster'];
  const up = cli(['up', ...only], env);
  try {
    expect([up.code, up.out]).toEqual([0, expect.stringContaining('redis-cluster: created and ready after')]);
    expect(up.out).toContain('cluster_state:ok, 16384 slots, 3 masters, 3 replicas');
    const status = cli(['status', ...only], env);
    expect(status.code).toBe(0);
    const node = (port: number) =>
      new RegExp(
        `redis-${port}\\s+127\\.0\\.0\\.1:${port}\\s+healthy\\s+started-by-us\\s+pid (\\d+)\\s+(master \\d+-\\d+|replica of \\d+)`,
      );
    const rows = ports.map((p) => node(p).exec(status.out));
    expect(rows.every(Boolean) ? '' : status.out).toBe('');
    expect(rows.filter((m) => m![2]!.startsWith('master')).length).toBe(3);
    expect(status.out).toMatch(/redis-cluster\s+\S+\s+healthy\s+cluster_state:ok/);
    // a second up leaves every node alone and finds the cluster ready
    const again = cli(['up', ...only], env);
    expect(again.out.match(/already healthy/g)?.length).toBe(6);
    expect(again.out).not.toContain('created');
    // a replica dies: up starts it again from its nodes.conf and it follows its master again
    const replica = rows.find((m) => m![2]!.startsWith('replica'))!;
    process.kill(Number(replica[1]), 'SIGKILL');
    const back = cli(['up', ...only], env);
    expect([back.code, back.out]).toEqual([0, expect.stringContaining('ready after')]);
    expect(back.out.match(/already healthy/g)?.length).toBe(5);
    expect(cli(['status', ...only], env).out).toContain(replica[2]);
  } finally {
    const down = cli(['down', ...only], env);
    expect([down.code, down.out.match(/stopped; data kept/g)?.length]).toEqual([0, 6]);
  }
});
