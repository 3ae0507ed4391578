import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/process';

/**
 * `npm start` (scripts/start.sh) honours ROLE (unset: every role in its own process under the
 * supervisor, issue 16.2) and leaves every port to PORT and METRICS_PORT, so a second api
 * instance runs beside the first (issue 13, "Done when"). The
 * script runs in a copy of the repository's scripts with stand-ins for npm and node that record
 * how the platform would have been started.
 */
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'start-script-'));
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  for (const f of ['start.sh', 'ensure-deps.sh']) copyFileSync(path.join(ROOT, 'scripts', f), path.join(dir, 'scripts', f));
  cpSync(path.join(ROOT, 'scripts', 'topology'), path.join(dir, 'scripts', 'topology'), { recursive: true });
  const bin = (name: string, body: string) => {
    const file = path.join(dir, 'node_modules', '.bin', name);
    writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(file, 0o755);
  };
  bin('npm', 'exit 0');
  // `node -e …` is ensure-deps.sh's version check, the topology loader runs for real; anything
  // else is the platform's start, which records its arguments and the topology's variables.
  bin(
    'node',
    [
      '[ "$1" = "-e" ] && exit 0',
      `case "$1" in */topology.cjs) exec "${process.execPath}" "$@" ;; esac`,
      `echo "args=$* ROLE=\${ROLE:-} PORT=\${PORT:-} METRICS_PORT=\${METRICS_PORT:-}" > "${dir}/started"`,
      `env | grep -E '^(TOPOLOGY|REDIS_CLUSTER_NODES|KAFKA_BROKERS|KAFKA_REPLICATION_FACTOR|KAFKA_MIN_INSYNC_REPLICAS)=' | sort > "${dir}/env"`,
    ].join('\n'),
  );
  // Dependencies up to date: the lock file is older than the installed one.
  writeFileSync(path.join(dir, 'package-lock.json'), '{}');
  writeFileSync(path.join(dir, 'node_modules', '.package-lock.json'), '{}');
  const old = new Date(Date.now() - 60_000);
  utimesSync(path.join(dir, 'package-lock.json'), old, old);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  rmSync(path.join(dir, 'started'), { force: true });
  return spawnSync('bash', [path.join(dir, 'scripts', 'start.sh')], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
}

function start(env: Record<string, string>): { started: string; out: string; env: string[] } {
  const r = run(env);
  if (r.status !== 0) throw new Error(`start.sh failed (${r.status}): ${r.stdout}${r.stderr}`);
  const started = readFileSync(path.join(dir, 'started'), 'utf8').trim();
  return { started, out: r.stdout, env: readFileSync(path.join(dir, 'env'), 'utf8').trim().split('\n') };
}

test('ROLE picks the role (no role argument overrides it) and the ports come from PORT and METRICS_PORT', () => {
  const second = start({ ROLE: 'api', PORT: '8091', METRICS_PORT: '9474' });
  expect(second.started).toBe('args=dist/src/main.js ROLE=api PORT=8091 METRICS_PORT=9474');
  expect(second.out).toContain('[start] role api on http://127.0.0.1:8091');
});

test('without ROLE the supervisor runs every role in its own process; ROLE=all keeps them in one', () => {
  const supervised = start({});
  expect(supervised.started).toBe('args=dist/src/supervise.js ROLE= PORT= METRICS_PORT=');
  expect(supervised.out).toContain('[start] every role in its own process, the api on http://127.0.0.1:8080');
  const one = start({ ROLE: 'all' });
  expect(one.started).toBe('args=dist/src/main.js ROLE=all PORT= METRICS_PORT=');
  expect(one.out).toContain('[start] role all on http://127.0.0.1:8080');
});

test("TOPOLOGY=cluster: the platform starts with the cluster topology's variables (scripts/topology/cluster.env); an explicit one is kept", () => {
  expect(start({ TOPOLOGY: 'cluster' }).env).toEqual([
    'KAFKA_BROKERS=127.0.0.1:9192,127.0.0.1:9292,127.0.0.1:9392',
    'KAFKA_MIN_INSYNC_REPLICAS=2',
    'KAFKA_REPLICATION_FACTOR=3',
    'REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005',
    'TOPOLOGY=cluster',
  ]);
  expect(start({ TOPOLOGY: 'cluster', KAFKA_REPLICATION_FACTOR: '2' }).env).toContain('KAFKA_REPLICATION_FACTOR=2');
  expect(start({}).env).toEqual(['TOPOLOGY=single']);
});

test('an unknown TOPOLOGY stops start.sh before anything starts, naming the topologies there are', () => {
  const r = run({ TOPOLOGY: 'clusters' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('TOPOLOGY=clusters is not a topology: use TOPOLOGY=cluster or TOPOLOGY=single');
  expect(existsSync(path.join(dir, 'started'))).toBe(false);
});
