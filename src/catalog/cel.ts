import { createRequire } from 'node:module';
import type * as CelModule from '@marcbachmann/cel-js' with { 'resolution-mode': 'import' };

/**
 * The CEL rules of the Venue and Event CRDs (x-kubernetes-validations), evaluated in JavaScript
 * the way the Kubernetes API server evaluates them, with a maintained CEL implementation
 * (@marcbachmann/cel-js). The rules are written once, next to the zod schemas in resources.ts:
 * `npm run gen` copies them into k8s/crds, and zod runs them through this module.
 *
 * cel-js is an ES module; this CommonJS project loads it through Node 24's require(esm)
 * (jest.config.js transforms it for Jest's sandbox, which cannot). A static `import` would
 * compile to the same require, but TypeScript's node16 mode refuses to import an ES module from
 * CommonJS; createRequire says the require is deliberate, and under Jest it is Jest's own.
 */
const cel = createRequire(__filename)('@marcbachmann/cel-js') as typeof CelModule;

export interface CelRule {
  /** A CEL expression over `self` that is true when the value is valid. */
  rule: string;
  /** What the API server (and zod) reports when the rule is false. */
  message: string;
}

/** The part of a structural schema that decides how a JSON value is typed in CEL. */
export interface TypedSchema {
  type?: string;
  format?: string;
  properties?: Record<string, TypedSchema>;
  items?: TypedSchema;
  'x-kubernetes-int-or-string'?: boolean;
}

const sum =
  <T extends bigint | number>(zero: T) =>
  (list: T[]) =>
    list.reduce((a, b) => a + (b as number), zero as number) as T;

/**
 * `self` is dynamic, as the value typed by the schema gives it its types. Functions beyond the
 * CEL standard come from the Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library); add
 * one here when a rule needs it (`npm run gen` refuses a rule that does not type-check).
 */
const environment = new cel.Environment()
  .registerVariable('self', 'dyn')
  // Kubernetes list library: sum() of a list of ints or doubles.
  .registerFunction({ name: 'sum', receiverType: 'list<int>', returnType: 'int', params: [], handler: sum(0n) })
  .registerFunction({ name: 'sum', receiverType: 'list<double>', returnType: 'double', params: [], handler: sum(0) });

type Program = ReturnType<typeof environment.parse>;
const programs = new Map<string, Program>();

function program(rule: string): Program {
  let p = programs.get(rule);
  if (!p) {
    p = environment.parse(rule);
    programs.set(rule, p);
  }
  return p;
}

/** Problems with a rule itself (syntax, unknown function, not a bool), or undefined when it is usable. */
export function celRuleProblem(rule: CelRule): string | undefined {
  if (!rule.message) return `CEL rule "${rule.rule}" has no message; give it one that tells the user what to fix`;
  try {
    const checked = environment.check(rule.rule);
    if (!checked.valid) return `CEL rule "${rule.rule}" does not type-check: ${checked.error?.message}`;
    if (checked.type !== 'bool' && checked.type !== 'dyn') return `CEL rule "${rule.rule}" returns ${checked.type}, not bool`;
  } catch (e) {
    return `CEL rule "${rule.rule}" does not parse: ${(e as Error).message}`;
  }
  return undefined;
}

/**
 * A JSON value as CEL sees it under its structural schema, like the API server: integers are
 * CEL ints, numbers doubles, `format: date-time` strings timestamps, int-or-string either.
 */
export function toCelValue(value: unknown, schema: TypedSchema | undefined): unknown {
  if (value === null || value === undefined || !schema) return value;
  if (schema['x-kubernetes-int-or-string']) return Number.isInteger(value) ? BigInt(value as number) : value;
  switch (schema.type) {
    case 'integer':
      return Number.isInteger(value) ? BigInt(value as number) : value;
    case 'string':
      return (schema.format === 'date-time' || schema.format === 'date') && typeof value === 'string' && !Number.isNaN(Date.parse(value))
        ? new Date(value)
        : value;
    case 'array':
      return Array.isArray(value) ? value.map((v) => toCelValue(v, schema.items)) : value;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const props = schema.properties ?? {};
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCelValue(v, props[k])]));
    }
    default:
      return value;
  }
}

/**
 * The messages of the rules `value` breaks (empty when it keeps them all). A rule that cannot
 * be evaluated on the value (a field of the wrong type, which the schema refuses anyway) counts
 * as broken: a check that cannot run never passes.
 */
export function celViolations(rules: readonly CelRule[], value: unknown, schema: TypedSchema | undefined): string[] {
  const self = toCelValue(value, schema);
  const out: string[] = [];
  for (const r of rules) {
    let ok: unknown;
    try {
      ok = program(r.rule)({ self });
    } catch (e) {
      out.push(`${r.message} (rule \`${r.rule}\` could not be evaluated: ${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    if (ok !== true) out.push(r.message);
  }
  return out;
}
