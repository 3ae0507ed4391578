import { contractTable, exists, read, rel, type Doc } from './files';

/** Consistency and policy checks over one rendered release of charts/ticketing. */
const RECOMMENDED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/part-of',
  'helm.sh/chart',
];
const APP_ROLES = ['api', 'writer', 'projector', 'controller'];
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const podTemplates = (docs: Doc[]) =>
  docs.filter((d) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(d.kind)).map((d) => ({ owner: d, tpl: d.spec.template }));

/**
 * Environment names the ConfigMap may carry beyond docs/contracts.md: the chart's documented
 * extra (docs/delivery.md) and any variable src/config/config.ts reads (via config.extraEnv).
 */
export const CHART_EXTRA_ENV = new Set(['KAFKA_MIN_INSYNC_REPLICAS']);
if (exists(rel('src', 'config', 'config.ts'))) {
  for (const m of read(rel('src', 'config', 'config.ts')).matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)) CHART_EXTRA_ENV.add(m[1]!);
}

function podProblems(docs: Doc[], p: string[]): void {
  const find = (k: string, n: string) => docs.find((d) => d.kind === k && d.metadata?.name === n);
  for (const { owner, tpl } of podTemplates(docs)) {
    const id = `${owner.kind}/${owner.metadata.name}`;
    if (owner.spec.selector && !matches(owner.spec.selector.matchLabels, tpl.metadata?.labels))
      p.push(`${id}: selector does not match the pod labels`);
    const spec = tpl.spec;
    if (spec.securityContext?.runAsNonRoot !== true) p.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') p.push(`${id}: pod seccompProfile is not RuntimeDefault`);
    for (const c of spec.containers) {
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) p.push(`${id}/${c.name}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) p.push(`${id}/${c.name}: capabilities do not drop ALL`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        p.push(`${id}/${c.name}: resources requests/limits incomplete`);
      for (const ref of c.envFrom ?? [])
        if (ref.configMapRef && !find('ConfigMap', ref.configMapRef.name)) p.push(`${id}: ConfigMap ${ref.configMapRef.name} not rendered`);
      for (const e of c.env ?? []) {
        const sk = e.valueFrom?.secretKeyRef;
        if (sk && !find('Secret', sk.name)) p.push(`${id}: Secret ${sk.name} not rendered`);
      }
    }
    const component = tpl.metadata?.labels?.['app.kubernetes.io/component'];
    if (owner.kind !== 'Deployment' || !APP_ROLES.includes(component)) continue;
    const c = spec.containers[0];
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) p.push(`${id}: readOnlyRootFilesystem is not true`);
    if (sc.runAsNonRoot !== true) p.push(`${id}: container runAsNonRoot is not true`);
    if (sc.seccompProfile?.type !== 'RuntimeDefault') p.push(`${id}: container seccompProfile is not RuntimeDefault`);
    const tmpMount = (c.volumeMounts ?? []).find((m: Doc) => m.mountPath === '/tmp');
    const tmpVol = tmpMount && (spec.volumes ?? []).find((v: Doc) => v.name === tmpMount.name);
    if (!tmpVol?.emptyDir) p.push(`${id}: no emptyDir on /tmp`);
    if (JSON.stringify(c.args) !== JSON.stringify([component])) p.push(`${id}: args should be ["${component}"]`);
    if (c.startupProbe?.httpGet?.path !== '/healthz') p.push(`${id}: startupProbe is not GET /healthz`);
    if (c.livenessProbe?.httpGet?.path !== '/healthz') p.push(`${id}: livenessProbe is not GET /healthz`);
    if (c.readinessProbe?.httpGet?.path !== '/readyz') p.push(`${id}: readinessProbe is not GET /readyz`);
    const wantPort = component === 'api' ? 8080 : 9464;
    if (!(c.ports ?? []).some((pt: Doc) => pt.containerPort === wantPort)) p.push(`${id}: no containerPort ${wantPort}`);
    if (!c.resources?.limits?.cpu) p.push(`${id}: no cpu limit`);
    if (!(c.envFrom ?? []).some((r: Doc) => r.secretRef)) p.push(`${id}: no secretRef in envFrom`);
    if (component === 'controller') {
      const env = new Set((c.env ?? []).map((e: Doc) => e.name));
      for (const n of ['LEADER_ELECTION', 'LEADER_ELECTION_NAMESPACE', 'LEADER_ELECTION_LEASE_NAME', 'POD_NAME'])
        if (!env.has(n)) p.push(`${id}: env ${n} missing`);
      if (spec.automountServiceAccountToken !== true) p.push(`${id}: controller needs its ServiceAccount token`);
    } else if (spec.automountServiceAccountToken !== false) p.push(`${id}: automountServiceAccountToken should be false`);
    if (spec.serviceAccountName && !find('ServiceAccount', spec.serviceAccountName))
      p.push(`${id}: ServiceAccount ${spec.serviceAccountName} not rendered`);
  }
}

function wiringProblems(docs: Doc[], p: string[]): void {
  const byKind = (k: string) => docs.filter((d) => d.kind === k);
  const find = (k: string, n: string) => docs.find((d) => d.kind === k && d.metadata?.name === n);
  for (const svc of byKind('Service')) {
    const targets = podTemplates(docs).filter(({ tpl }) => matches(svc.spec.selector, tpl.metadata?.labels));
    if (!targets.length) p.push(`Service/${svc.metadata.name}: selector matches no pods`);
    for (const port of svc.spec.ports ?? []) {
      if (
        typeof port.targetPort === 'string' &&
        !targets.some(({ tpl }) => tpl.spec.containers.some((c: Doc) => (c.ports ?? []).some((cp: Doc) => cp.name === port.targetPort)))
      )
        p.push(`Service/${svc.metadata.name}: targetPort ${port.targetPort} not a container port`);
    }
  }
  for (const pdb of byKind('PodDisruptionBudget')) {
    if (!podTemplates(docs).some(({ tpl }) => matches(pdb.spec.selector?.matchLabels, tpl.metadata?.labels)))
      p.push(`PodDisruptionBudget/${pdb.metadata.name}: selector matches no pods`);
  }
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const t = hpa.spec.scaleTargetRef;
    const dep = find(t.kind, t.name);
    if (!dep) p.push(`HPA/${hpa.metadata.name}: target ${t.kind}/${t.name} not rendered`);
    else if (dep.spec.replicas !== undefined) p.push(`HPA/${hpa.metadata.name}: ${t.name} sets replicas (fights the HPA)`);
  }
  for (const b of [...byKind('RoleBinding'), ...byKind('ClusterRoleBinding')]) {
    if (!find(b.roleRef.kind, b.roleRef.name)) p.push(`${b.kind}/${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} not rendered`);
    for (const s of b.subjects ?? [])
      if (s.kind === 'ServiceAccount' && !find('ServiceAccount', s.name))
        p.push(`${b.kind}/${b.metadata.name}: ServiceAccount ${s.name} not rendered`);
  }
  const rules = [...byKind('Role'), ...byKind('ClusterRole')].flatMap((r) => r.rules ?? []);
  const allows = (group: string, resource: string, verb: string) =>
    rules.some((r: Doc) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const [g, r, v] of [
    ['ticketing.dev', 'venues', 'watch'],
    ['ticketing.dev', 'events', 'watch'],
    ['ticketing.dev', 'venues/status', 'patch'],
    ['ticketing.dev', 'events/status', 'patch'],
    ['coordination.k8s.io', 'leases', 'update'],
    ['', 'events', 'create'],
  ] as const) {
    if (!allows(g, r, v)) p.push(`RBAC: no rule allows ${v} ${g || 'core'}/${r}`);
  }
}

function configProblems(docs: Doc[], setName: string, p: string[]): void {
  const byKind = (k: string) => docs.filter((d) => d.kind === k);
  const cm = byKind('ConfigMap').find((c) => c.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (!cm) p.push('app ConfigMap not rendered');
  else {
    const contractVars = new Set(contractTable('Configuration (environment variables)').map((r) => r.name));
    const secretOnly = new Set(['ADMIN_TOKEN', 'MYSQL_URL']);
    // Set per container instead (downward API, leader election), or meaningless in a cluster.
    const containerEnv = new Set(
      byKind('Deployment').flatMap((d) => d.spec.template.spec.containers.flatMap((c: Doc) => (c.env ?? []).map((e: Doc) => e.name))),
    );
    // SUPERVISOR_CONSUMER_NICE: npm start's supervisor only; in a cluster each role is a pod of its own.
    const notInCluster = new Set(['ROLE', 'FAULT_CRASH_AFTER_RESERVE', 'KUBECONFIG', 'SUPERVISOR_CONSUMER_NICE']);
    for (const v of contractVars)
      if (!notInCluster.has(v) && !secretOnly.has(v) && !containerEnv.has(v) && !(v in cm.data)) p.push(`ConfigMap lacks ${v}`);
    for (const k of Object.keys(cm.data))
      if (!contractVars.has(k) && !CHART_EXTRA_ENV.has(k))
        p.push(`ConfigMap key ${k} is neither in docs/contracts.md nor in the documented extras`);
    for (const s of secretOnly) if (s in cm.data) p.push(`ConfigMap must not carry ${s}`);
  }
  const secret = byKind('Secret').find((s) => s.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (!setName.startsWith('production')) {
    // production values bring their own Secret (secret.existingSecret)
    if (!secret) p.push('app Secret not rendered');
    else for (const k of ['ADMIN_TOKEN', 'MYSQL_URL']) if (!(k in (secret.stringData ?? {}))) p.push(`Secret lacks ${k}`);
  }
  const test = byKind('Pod').find((x) => x.metadata.annotations?.['helm.sh/hook'] === 'test');
  if (!test) p.push('no helm test Pod');
  else if (!JSON.stringify(test.spec.containers[0]).includes('/readyz')) p.push('helm test Pod does not call /readyz');
  if (!byKind('PodDisruptionBudget').length) p.push('no PodDisruptionBudget');
  if (!byKind('HorizontalPodAutoscaler').length) p.push('no HorizontalPodAutoscaler for api');
}

export function releaseProblems(docs: Doc[], setName: string): string[] {
  const p: string[] = [];
  for (const d of docs) {
    const missing = RECOMMENDED_LABELS.filter((l) => !d.metadata?.labels?.[l]);
    if (missing.length) p.push(`${d.kind}/${d.metadata?.name}: labels missing ${missing.join(',')}`);
  }
  podProblems(docs, p);
  wiringProblems(docs, p);
  configProblems(docs, setName, p);
  return p;
}
