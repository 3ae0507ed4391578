import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NODE, ROOT } from '../support/process';

/**
 * TOPOLOGY reaches every npm script through one loader (scripts/topology/topology.cjs): the node
 * entry points preload it, jest.config.js applies it, start.sh/test.sh source topology.sh
 * (start-script.unit.test.ts). Each case runs in a child process, with the environment it names.
 */
const CLUSTER = {
  KAFKA_BROKERS: '127.0.0.1:9192,127.0.0.1:9292,127.0.0.1:9392',
  KAFKA_MIN_INSYNC_REPLICAS: '2',
  KAFKA_REPLICATION_FACTOR: '3',
  REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005',
};
const NAMES = Object.keys(CLUSTER);
const printVariables = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(NAMES)}.filter((k) => k in process.env).map((k) => [k, process.env[k]]))))`;

function node(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !NAMES.includes(k) && k !== 'TOPOLOGY'));
  const r = spawnSync(NODE, args, { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8' });
  return { code: r.status, vars: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : null, err: r.stderr };
}

test('the preload of admin, bench and faults sets the cluster variables for TOPOLOGY=cluster, nothing for single, keeps an explicit one', () => {
  const preload = ['-r', './scripts/topology/apply.cjs', '-e', printVariables];
  expect(node(preload, { TOPOLOGY: 'cluster' }).vars).toEqual(CLUSTER);
  expect(node(preload, {}).vars).toEqual({});
  expect(node(preload, { TOPOLOGY: 'single' }).vars).toEqual({});
  const kept = node(preload, { TOPOLOGY: 'cluster', KAFKA_BROKERS: '127.0.0.1:19092' });
  expect(kept.vars).toEqual({ ...CLUSTER, KAFKA_BROKERS: '127.0.0.1:19092' });
  expect(kept.err).toContain('keeping KAFKA_BROKERS=127.0.0.1:19092 from the environment');
});

test('an unknown TOPOLOGY stops the program with exit 2 and says what to use', () => {
  const r = node(['-r', './scripts/topology/apply.cjs', '-e', printVariables], { TOPOLOGY: 'clustered' });
  expect(r.code).toBe(2);
  expect(r.err).toContain('TOPOLOGY=clustered is not a topology: use TOPOLOGY=cluster or TOPOLOGY=single');
});

test('package.json: admin, bench, bench:holds and faults preload the topology; jest.config.js applies it', () => {
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  for (const name of ['admin', 'bench', 'bench:holds', 'faults'])
    expect([name, scripts[name]]).toEqual([name, expect.stringMatching(/^node -r \.\/scripts\/topology\/apply\.cjs /)]);
  expect(node(['-e', `require('./jest.config.js'); ${printVariables}`], { TOPOLOGY: 'cluster' }).vars).toEqual(CLUSTER);
});
