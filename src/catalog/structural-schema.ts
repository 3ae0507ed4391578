import { z } from 'zod';
import { celRuleProblem, celViolations, type CelRule, type TypedSchema } from './cel';

/**
 * zod schemas → Kubernetes structural schemas (a CRD's openAPIV3Schema), and the zod helpers
 * for what a structural schema says beyond JSON Schema. Each helper both marks the zod schema
 * (metadata that `structuralSchema` emits) and makes zod enforce the same rule, so a rule is
 * written once: CEL rules, list types, int-or-string.
 */

export interface StructuralSchema extends TypedSchema {
  description?: string;
  required?: string[];
  properties?: Record<string, StructuralSchema>;
  items?: StructuralSchema;
  anyOf?: StructuralSchema[];
  'x-kubernetes-validations'?: CelRule[];
  [keyword: string]: unknown;
}

/** `rules` (CEL over `self`) hold for every value of `schema`: emitted as x-kubernetes-validations, checked by zod. */
export function withCel<T extends z.ZodType>(schema: T, rules: CelRule[]): T {
  for (const r of rules) {
    const problem = celRuleProblem(r);
    if (problem) throw new Error(`${problem} (fix the rule next to its zod schema in src/catalog/)`);
  }
  let typed: StructuralSchema | undefined; // the value's CEL types, from the schema the rules sit on
  return schema
    .superRefine((value, ctx) => {
      typed ??= structuralSchema(schema);
      for (const message of celViolations(rules, value, typed)) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ 'x-kubernetes-validations': rules });
}

/** A list whose entries are unique (x-kubernetes-list-type: set; the API server refuses uniqueItems). */
export function listSet<T extends z.ZodArray>(schema: T, message: string): T {
  return schema
    .superRefine((list, ctx) => {
      if (new Set(list.map((v) => JSON.stringify(v))).size !== list.length) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ 'x-kubernetes-list-type': 'set' });
}

/**
 * A list of objects keyed by `keys` (x-kubernetes-list-type: map). zod compares keys as
 * strings, so it is stricter than the API server, where the int 1 and the string "1" differ.
 */
export function listMap<T extends z.ZodArray>(schema: T, keys: string[], message: string): T {
  return schema
    .superRefine((list, ctx) => {
      const seen = new Set(list.map((item) => keys.map((k) => String((item as Record<string, unknown>)[k])).join('\u0000')));
      if (seen.size !== list.length) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
}

/** A list replaced as a whole on merge (x-kubernetes-list-type: atomic). */
export const listAtomic = <T extends z.ZodArray>(schema: T): T => schema.meta({ 'x-kubernetes-list-type': 'atomic' });

/** An integer or a string (x-kubernetes-int-or-string), read as a string. */
export const intOrString = (str: z.ZodString, int: z.ZodNumber) =>
  z.union([str, int]).transform(String).meta({ 'x-kubernetes-int-or-string': true });

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** The keywords of apiextensions.k8s.io/v1 JSONSchemaProps that zod may emit. */
const ALLOWED = new Set([
  'description',
  'type',
  'format',
  'default',
  'enum',
  'nullable',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'items',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
]);
/** Key order of the generated YAML: what a reader looks for first. */
const ORDER = [
  'description',
  'type',
  'format',
  'x-kubernetes-int-or-string',
  'anyOf',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'required',
  'x-kubernetes-validations',
  'items',
  'properties',
];

/** The zod schema as a Kubernetes structural schema (input side: what a user writes). Throws on what a CRD cannot hold. */
export function structuralSchema(schema: z.ZodType): StructuralSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'throw' });
  return toStructural(json, '$');
}

function toStructural(node: Record<string, unknown>, where: string): StructuralSchema {
  const out: StructuralSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema' || k === 'additionalProperties') continue; // the API server prunes unknown fields itself
    if (k === 'const') out.enum = [v];
    else if (k === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, Record<string, unknown>>).map(([p, s]) => [p, toStructural(s, `${where}.${p}`)]),
      );
    else if (k === 'items') out.items = toStructural(v as Record<string, unknown>, `${where}[]`);
    else if (k === 'anyOf' || k === 'allOf' || k === 'oneOf')
      out[k] = (v as Record<string, unknown>[]).map((s, i) => toStructural(s, `${where}.${k}[${i}]`));
    else if (k.startsWith('x-kubernetes-') || ALLOWED.has(k)) out[k] = v;
    else
      throw new Error(
        `${where}: a CRD schema cannot hold "${k}" (from zod); express it with the helpers in src/catalog/structural-schema.ts or a CEL rule`,
      );
  }
  // zod's integers carry the safe-integer bounds; they say nothing a reader needs.
  if (out.minimum === -MAX_SAFE) delete out.minimum;
  if (out.maximum === MAX_SAFE) delete out.maximum;
  // zod adds its own RFC 3339 regex to date-times; the format says it, and the regex is not RE2.
  if (out.format === 'date-time') delete out.pattern;
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  if (out['x-kubernetes-int-or-string']) mergeIntOrString(out, where);
  return ordered(out);
}

/** The one anyOf a structural schema allows: [integer, string], with the branches' value checks on the node. */
function mergeIntOrString(out: StructuralSchema, where: string): void {
  const branches = out.anyOf ?? [];
  if (branches.length !== 2 || !branches.some((b) => b.type === 'integer') || !branches.some((b) => b.type === 'string')) {
    throw new Error(`${where}: x-kubernetes-int-or-string needs a union of one integer and one string schema`);
  }
  for (const b of branches) for (const [k, v] of Object.entries(b)) if (k !== 'type') out[k] = v;
  out.anyOf = [{ type: 'integer' }, { type: 'string' }];
}

function ordered(node: StructuralSchema): StructuralSchema {
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(keys.map((k) => [k, node[k]]));
}
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.indexOf('x-kubernetes-validations') - 0.5);
