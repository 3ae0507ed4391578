/**
 * @jest-environment ./test/controller/support/kube-environment.ts
 */
import { exists, parseYamlDocs, read, rel, type Doc } from './support/files';
import { validateK8sObject } from './support/k8s-validate';

/** The Dockerfile, kind config, k6 Job and docs/delivery.md. */
test('Dockerfile: multi-stage node:24-slim, npm ci, build, prune, USER node, entrypoint/cmd', () => {
  const d = read(rel('Dockerfile'));
  const p: string[] = [];
  const froms = [...d.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  if (froms.length < 2 || !froms.every((x) => x === 'node:24-slim')) p.push(`FROM lines: ${froms.join(', ')}`);
  for (const [n, re] of [
    ['npm ci', /RUN[^\n]*npm ci/],
    ['npm run build', /npm run build/],
    ['prune', /npm prune --omit=dev/],
    ['USER node', /^USER node\s*$/m],
    ['ENTRYPOINT', /^ENTRYPOINT \["node", ?"dist\/src\/main\.js"\]\s*$/m],
    ['CMD api', /^CMD \["api"\]\s*$/m],
  ] as const) {
    if (!re.test(d)) p.push(`${n} missing`);
  }
  if (d.indexOf('USER node', d.lastIndexOf('\nFROM ')) < 0) p.push('USER node is not in the runtime stage');
  const ign = exists(rel('.dockerignore'))
    ? read(rel('.dockerignore'))
        .split('\n')
        .map((l) => l.trim())
    : [];
  for (const need of ['node_modules', '.git', 'dist', '.services']) if (!ign.includes(need)) p.push(`.dockerignore lacks ${need}`);
  expect(p).toEqual([]);
});

test('kind-config.yaml: one control plane, two workers, host ports 30080 and 30300', () => {
  const cfg = parseYamlDocs(read(rel('kind-config.yaml')), 'kind-config.yaml')[0];
  expect([cfg?.kind, cfg?.apiVersion]).toEqual(['Cluster', 'kind.x-k8s.io/v1alpha4']);
  const roles = (cfg?.nodes ?? []).map((n: Doc) => n.role);
  expect(roles.filter((r: string) => r === 'control-plane').length).toBe(1);
  expect(roles.filter((r: string) => r === 'worker').length).toBe(2);
  const maps = (cfg?.nodes ?? []).flatMap((n: Doc) => n.extraPortMappings ?? []);
  for (const port of [30080, 30300])
    expect([port, maps.some((m: Doc) => m.containerPort === port && m.hostPort === port)]).toEqual([port, true]);
});

test('load/k6/job.yaml: a valid Job running grafana/k6 on /scripts/seed-replay.js from a ConfigMap', () => {
  const docs = parseYamlDocs(read(rel('load', 'k6', 'job.yaml')), 'load/k6/job.yaml');
  const job = docs.find((d) => d.kind === 'Job');
  expect(job).toBeDefined();
  expect(docs.flatMap((d) => validateK8sObject(d, 'load/k6/job.yaml'))).toEqual([]);
  const c = job.spec.template.spec.containers[0];
  expect(c.image).toMatch(/^grafana\/k6/);
  expect([...(c.command ?? []), ...(c.args ?? [])].join(' ')).toMatch(/\brun\b.*\/scripts\/seed-replay\.js/);
  const mount = (c.volumeMounts ?? []).find((m: Doc) => m.mountPath === '/scripts');
  const vol = mount && job.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name);
  expect(vol?.configMap?.name).toBeTruthy();
});

test('docs/delivery.md: present with the kind walkthrough, the decisions and how to run these checks', () => {
  const d = read(rel('docs', 'delivery.md'));
  const need = [
    'kind create cluster --config kind-config.yaml',
    'docker build -t ticketing:dev .',
    'kind load docker-image ticketing:dev',
    'helm install',
    'kubectl apply -f seeds/',
    'npm run test:delivery',
  ];
  expect(need.filter((s) => !d.includes(s)).map((s) => `does not mention "${s}"`)).toEqual([]);
});
