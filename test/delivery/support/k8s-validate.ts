import { createRequire } from 'node:module';
import type { Doc } from './files';

/**
 * Validates Kubernetes objects offline: kubernetes-models (the Kubernetes JSON schemas) plus
 * a refusal of fields the API does not know, from the field lists of the generated models in
 * @kubernetes/client-node (kubectl's strict field validation would refuse them).
 *
 * The client is an ES module; test files that use this module run in
 * `@jest-environment ./test/controller/support/kube-environment.ts`, which loads it natively.
 */
function clientModels(): Record<string, { attributeTypeMap?: { baseName: string; type: string }[] }> {
  const m = (globalThis as { __kubeClientNode?: unknown }).__kubeClientNode;
  if (!m)
    throw new Error(
      '@kubernetes/client-node is not loaded: add the docblock `@jest-environment ./test/controller/support/kube-environment.ts` to this test file',
    );
  return m as Record<string, { attributeTypeMap?: { baseName: string; type: string }[] }>;
}

type ModelClass = new (o: unknown) => { validate(): void };
/** kubernetes-models has one module per apiVersion and kind: its path is only known at run time. */
const requireModel = createRequire(__filename);
const modelCache = new Map<string, ModelClass | null>();
function loadModel(apiVersion: string, kind: string): ModelClass | null {
  try {
    const m = requireModel(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, ModelClass | undefined>;
    return m[kind] ?? m.default ?? null;
  } catch {
    // kubernetes-models ships no such kind: validateK8sObject reports the object as unchecked
    return null;
  }
}
function modelClass(apiVersion: string, kind: string) {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) modelCache.set(key, loadModel(apiVersion, kind));
  return modelCache.get(key)!;
}

const PRIMITIVE = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);
/** Fields the Kubernetes API does not know. */
function unknownFields(value: Doc, type: string, where: string, out: string[]): void {
  if (value === null || value === undefined || PRIMITIVE.has(type)) return;
  let m: RegExpExecArray | null;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m![1]!, `${where}[${i}]`, out));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, m[1]!, `${where}.${k}`, out);
    return;
  }
  const cls = clientModels()[type];
  if (!cls?.attributeTypeMap || typeof value !== 'object' || Array.isArray(value)) return;
  const attrs = new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!attrs.has(k)) out.push(`unknown field ${where}.${k}`);
    else unknownFields(v, attrs.get(k)!, `${where}.${k}`, out);
  }
}
function rootType(apiVersion: string, kind: string) {
  const version = apiVersion.split('/').pop()!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Checks of kinds kubernetes-models does not ship (prometheus-operator CRDs). */
const CUSTOM_KIND_CHECKS: Record<string, (o: Doc) => string[]> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => {
    const p: string[] = [];
    if (!o.spec?.selector?.matchLabels && !o.spec?.selector?.matchExpressions) p.push('spec.selector missing');
    if (!Array.isArray(o.spec?.endpoints) || o.spec.endpoints.length === 0) p.push('spec.endpoints missing');
    const known = new Set([
      'port',
      'targetPort',
      'path',
      'scheme',
      'interval',
      'scrapeTimeout',
      'honorLabels',
      'relabelings',
      'metricRelabelings',
      'tlsConfig',
      'bearerTokenSecret',
      'params',
    ]);
    for (const [i, e] of ((o.spec?.endpoints ?? []) as Doc[]).entries()) {
      for (const k of Object.keys(e)) if (!known.has(k)) p.push(`spec.endpoints[${i}].${k} unknown`);
      if (!e.port && !e.targetPort) p.push(`spec.endpoints[${i}] needs port`);
    }
    return p;
  },
};

/** Problems of one object (empty when it is valid). */
export function validateK8sObject(obj: Doc, where: string): string[] {
  const problems: string[] = [];
  if (!obj || typeof obj !== 'object') return [`${where}: not an object`];
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind) return [`${where}: apiVersion/kind missing`];
  const id = `${where} ${kind}/${obj.metadata?.name ?? '?'}`;
  if (!obj.metadata?.name) problems.push(`${id}: metadata.name missing`);
  else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name) || obj.metadata.name.length > 253)
    problems.push(`${id}: metadata.name is not a DNS subdomain`);
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
      problems.push(`${id}: label ${k}=${JSON.stringify(v)} is not a valid label value`);
  }
  const custom = CUSTOM_KIND_CHECKS[`${apiVersion}/${kind}`];
  if (custom) return [...problems, ...custom(obj).map((p) => `${id}: ${p}`)];
  const Cls = modelClass(apiVersion, kind);
  if (!Cls) return [...problems, `${id}: no schema for ${apiVersion} ${kind} in kubernetes-models`];
  try {
    new Cls(obj).validate();
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  const unknown: string[] = [];
  unknownFields(obj, rootType(apiVersion, kind), kind, unknown);
  if (!clientModels()[rootType(apiVersion, kind)]) problems.push(`${id}: no field list for ${rootType(apiVersion, kind)}`);
  problems.push(...unknown.map((u) => `${id}: ${u}`));
  return problems;
}
