import { createRequire } from 'node:module';
import Ajv, { type ValidateFunction } from 'ajv';
import { celRuleProblem, celViolations, type CelRule, type TypedSchema } from '../../../src/catalog/cel';
import { listFiles, parseYamlDocs, read, rel, type Doc } from './files';

/**
 * The CRDs in k8s/crds as validators of Venue/Event resources, offline: each openAPIV3Schema
 * becomes a JSON Schema for ajv (int-or-string, list-type set/map, date-time, unknown fields
 * refused like the API server's pruning), and the CEL rules (x-kubernetes-validations) run in
 * the CEL library of src/catalog/cel.ts, the same code zod uses.
 */
export function loadCrds(): { file: string; doc: Doc }[] {
  const crds: { file: string; doc: Doc }[] = [];
  for (const f of listFiles(rel('k8s', 'crds'), /\.ya?ml$/)) {
    for (const doc of parseYamlDocs(read(rel('k8s', 'crds', f)), `k8s/crds/${f}`)) crds.push({ file: f, doc });
  }
  return crds;
}

function toJsonSchema(node: Doc): Doc {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Doc = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions')
      out[k] = Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, toJsonSchema(pv)]));
    else if (k === 'default' || k === 'example' || k === 'enum' || k === 'x-kubernetes-validations') out[k] = v;
    else out[k] = toJsonSchema(v);
  }
  if (node['x-kubernetes-int-or-string'] && !node.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  // The API server prunes (and kubectl's strict validation refuses) unknown fields.
  if (node.type === 'object' && node.properties && !node['x-kubernetes-preserve-unknown-fields'] && node.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

export function makeAjv(): { ajv: Ajv; formatsFromLibrary: boolean } {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, validateFormats: true });
  let formatsFromLibrary = false;
  try {
    const req = createRequire(rel('node_modules', '@kubernetes-models', 'validate', 'dist', 'index.js'));
    const addFormats = req('ajv-formats');
    (addFormats.default ?? addFormats)(ajv, ['date-time']);
    formatsFromLibrary = true;
  } catch {
    const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
    ajv.addFormat('date-time', (s: string) => rfc3339.test(s) && !Number.isNaN(Date.parse(s)));
  }
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  for (const kw of [
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-map-type',
  ]) {
    ajv.addKeyword({ keyword: kw, schemaType: ['boolean', 'string'] });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    schemaType: 'array',
    validate: function listMap(keys: string[], data: Doc[]) {
      const seen = new Set<string>();
      for (const item of data) {
        const k = JSON.stringify(keys.map((key) => item?.[key]));
        if (seen.has(k)) {
          (listMap as { errors?: unknown[] }).errors = [
            { keyword: 'x-kubernetes-list-map-keys', message: `duplicate entry for key ${keys.join(',')}=${k}`, params: {} },
          ];
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
    compile(rules: CelRule[], parentSchema) {
      const validate = (data: unknown) => {
        const errors = celViolations(rules, data, parentSchema as TypedSchema).map((message) => ({
          keyword: 'x-kubernetes-validations',
          message,
          params: {},
        }));
        (validate as { errors?: unknown[] }).errors = errors;
        return errors.length === 0;
      };
      return validate;
    },
  });
  return { ajv, formatsFromLibrary };
}

/** One validator per `group/version Kind` served by the CRDs. */
export function crdValidators(crds = loadCrds()): Map<string, ValidateFunction> {
  const { ajv } = makeAjv();
  const out = new Map<string, ValidateFunction>();
  for (const { doc } of crds) {
    for (const v of doc.spec.versions)
      out.set(`${doc.spec.group}/${v.name}/${doc.spec.names.kind}`, ajv.compile(toJsonSchema(v.schema.openAPIV3Schema)));
  }
  return out;
}

/** Offline approximations of the API server's structural-schema checks. */
export function structuralProblems(schema: Doc, where: string, out: string[], { root = false } = {}): void {
  if (!schema || typeof schema !== 'object') return;
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !intOrString && !schema['x-kubernetes-preserve-unknown-fields'])
    out.push(`${where}: type missing (structural schemas need one)`);
  if (schema.uniqueItems === true) out.push(`${where}: uniqueItems is forbidden in CRDs; use x-kubernetes-list-type: set`);
  if (schema.properties && schema.additionalProperties !== undefined)
    out.push(`${where}: properties and additionalProperties are mutually exclusive in CRDs`);
  for (const k of ['$ref', '$schema', '$defs', 'definitions', 'const'])
    if (k in schema) out.push(`${where}: ${k} is not allowed in a CRD schema`);
  if (schema.anyOf) {
    const exact =
      intOrString &&
      schema.anyOf.length === 2 &&
      schema.anyOf[0].type === 'integer' &&
      schema.anyOf[1].type === 'string' &&
      schema.anyOf.every((b: Doc) => Object.keys(b).length === 1);
    if (!exact) out.push(`${where}: anyOf other than the int-or-string pattern`);
  }
  if (schema.type === 'array' && !schema.items) out.push(`${where}: array without items`);
  if (schema['x-kubernetes-list-type'] === 'map') {
    const keys: string[] = schema['x-kubernetes-list-map-keys'] ?? [];
    if (!keys.length) out.push(`${where}: list-type map without list-map-keys`);
    for (const k of keys) {
      if (!(schema.items?.required ?? []).includes(k) && schema.items?.properties?.[k]?.default === undefined)
        out.push(`${where}: list-map key ${k} must be required or defaulted`);
      const t = schema.items?.properties?.[k]?.type;
      if (t === 'array' || t === 'object') out.push(`${where}: list-map key ${k} must be scalar`);
    }
  }
  if (schema.pattern) {
    try {
      new RegExp(schema.pattern, 'u');
    } catch (e) {
      out.push(`${where}: bad pattern ${schema.pattern}: ${(e as Error).message}`);
    }
  }
  for (const r of (schema['x-kubernetes-validations'] ?? []) as CelRule[]) {
    const problem = celRuleProblem(r);
    if (problem) out.push(`${where}: ${problem}`);
  }
  for (const [k, v] of Object.entries(schema.properties ?? {})) structuralProblems(v, `${where}.${k}`, out);
  if (schema.items) structuralProblems(schema.items, `${where}[]`, out);
  if (root && schema.type !== 'object') out.push(`${where}: root must be type object`);
}

export function schemaAt(schema: Doc, jsonPath: string): Doc {
  let s = schema;
  for (const part of jsonPath.replace(/^\./, '').split('.')) {
    if (!s) return null;
    if (part === 'metadata' && s === schema) return { type: 'object' };
    s = s.properties?.[part];
  }
  return s;
}

/** Problems of one Venue/Event resource against its CRD (empty when valid). */
export function validateCr(validators: Map<string, ValidateFunction>, obj: Doc): string[] {
  const p: string[] = [];
  const v = validators.get(`${obj?.apiVersion}/${obj?.kind}`);
  if (!v) return [`no CRD for ${obj?.apiVersion} ${obj?.kind}`];
  const name = obj.metadata?.name;
  if (!name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253)
    p.push(`metadata.name ${JSON.stringify(name)} is not a lowercase DNS subdomain`);
  if (!v(obj)) p.push(...(v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
  return p;
}

/** Events reference a Venue among `objs`; ids are unique per kind. */
export function crossRefProblems(objs: Doc[]): string[] {
  const p: string[] = [];
  const venues = new Set(objs.filter((o) => o.kind === 'Venue').map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
  for (const o of objs.filter((x) => x.kind === 'Event')) {
    if (!venues.has(`${o.metadata?.namespace ?? ''}/${o.spec?.venueRef?.name}`))
      p.push(`Event ${o.metadata?.name}: venueRef ${o.spec?.venueRef?.name} is not among the Venues`);
  }
  for (const kind of ['Venue', 'Event']) {
    const ids = objs.filter((o) => o.kind === kind).map((o) => o.spec?.[kind === 'Venue' ? 'venueId' : 'eventId']);
    const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
    if (dup.length) p.push(`${kind} ids repeated: ${[...new Set(dup)].join(', ')}`);
  }
  return p;
}
