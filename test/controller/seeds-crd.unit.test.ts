import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseResources } from '../../src/catalog/resources';
import { loadFolder } from '../../src/controller/file-source';

const ROOT = path.resolve(__dirname, '..', '..');
const yamlFiles = (dir: string) => readdirSync(path.join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f)).sort();

/**
 * JavaScript mirrors of the CEL rules (x-kubernetes-validations) in k8s/crds. A rule without
 * a mirror fails the test: add it here when the CRDs gain one.
 */
const CEL: Record<string, (self: any) => boolean> = {
  'has(self.seatsPerRow) != has(self.seatCounts)': (s) => ('seatsPerRow' in s) !== ('seatCounts' in s),
  '!has(self.seatCounts) || size(self.seatCounts) == size(self.rows)': (s) => !('seatCounts' in s) || s.seatCounts.length === s.rows.length,
  '!has(self.seatsPerRow) || size(self.rows) * self.seatsPerRow <= 100000': (s) => !('seatsPerRow' in s) || s.rows.length * s.seatsPerRow <= 100000,
  '!has(self.seatCounts) || self.seatCounts.sum() <= 100000': (s) => !('seatCounts' in s) || s.seatCounts.reduce((a: number, b: number) => a + b, 0) <= 100000,
  'self.opensAt < self.closesAt': (s) => Date.parse(s.opensAt) < Date.parse(s.closesAt),
};

/** A structural CRD schema as JSON Schema: the API server prunes unknown fields, so they are refused. */
function toJsonSchema(node: any): any {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, toJsonSchema(pv)]));
    else if (k === 'x-kubernetes-validations') out.celRules = (v as { rule: string; message: string }[]).map((r) => ({ rule: r.rule, message: r.message }));
    else if (k === 'x-kubernetes-list-type') {
      if (v === 'set') out.uniqueItems = true;
    } else if (k === 'x-kubernetes-list-map-keys') out.uniqueKeys = v;
    else if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'default') continue;
    else out[k] = typeof v === 'object' ? toJsonSchema(v) : v;
  }
  if (node.type === 'object' && node.properties && !node['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

function crdValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  ajv.addFormat('date-time', (s: string) => rfc3339.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addKeyword({
    keyword: 'celRules',
    validate: function cel(rules: { rule: string; message: string }[], data: unknown) {
      const errors = [];
      for (const { rule, message } of rules) {
        const mirror = CEL[rule];
        if (!mirror) errors.push({ keyword: 'celRules', message: `no JavaScript mirror for CEL rule "${rule}": add one to this test`, params: {} });
        else if (!mirror(data)) errors.push({ keyword: 'celRules', message, params: {} });
      }
      (cel as { errors?: unknown[] }).errors = errors;
      return errors.length === 0;
    },
  });
  ajv.addKeyword({
    keyword: 'uniqueKeys',
    type: 'array',
    validate: (keys: string[], data: Record<string, unknown>[]) => new Set(data.map((item) => JSON.stringify(keys.map((k) => item[k])))).size === data.length,
  });
  const out = new Map<string, ValidateFunction>();
  for (const file of yamlFiles('k8s/crds')) {
    const crd = parseYaml(readFileSync(path.join(ROOT, 'k8s/crds', file), 'utf8'));
    for (const v of crd.spec.versions) out.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, ajv.compile(toJsonSchema(v.schema.openAPIV3Schema)));
  }
  return out;
}

const seedDocs = yamlFiles('seeds').flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(ROOT, 'seeds', file), 'utf8'))
    .filter((d) => d.contents !== null)
    .map((d, i) => ({ where: `seeds/${file}#${i}`, doc: d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec: any } })),
);

describe('seeds/*.yaml against src/catalog/resources.ts and the CRDs in k8s/crds', () => {
  const validators = crdValidators();

  test('the seeds hold Venues and Events, and the CRDs serve both kinds', () => {
    expect(seedDocs.length).toBeGreaterThanOrEqual(4);
    expect([...validators.keys()].sort()).toEqual(['ticketing.dev/v1alpha1 Event', 'ticketing.dev/v1alpha1 Venue']);
  });

  test('every seed document parses with resources.ts, and the seed folder loads without errors', async () => {
    const parsed = parseResources(seedDocs);
    expect(parsed.errors).toEqual([]);
    expect(parsed.venues.length + parsed.events.length).toBe(seedDocs.length);
    const folder = await loadFolder(path.join(ROOT, 'seeds'));
    expect(folder.errors).toEqual([]);
    // Every event's venueRef names a seeded Venue.
    const venues = new Set(folder.venues.map((v) => v.metadata.name));
    expect(folder.events.filter((e) => !venues.has(e.spec.venueRef.name))).toEqual([]);
  });

  test.each(seedDocs.map((d) => [d.where, d] as const))('%s validates against its CRD openAPIV3Schema (with the CEL rules)', (_where, { doc }) => {
    const validate = validators.get(`${doc.apiVersion} ${doc.kind}`);
    expect(validate).toBeDefined();
    const ok = validate!(doc);
    expect(validate!.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test('the converted schemas do reject what the API server would: the check can fail', () => {
    const venue = seedDocs.find((d) => d.doc.kind === 'Venue')!.doc;
    const event = seedDocs.find((d) => d.doc.kind === 'Event')!.doc;
    const zone0 = venue.spec.zones[0];
    const bad = [
      ['Venue', { ...venue, spec: { ...venue.spec, zones: [{ ...zone0, seatCounts: [1] }] } }], // both seatsPerRow and seatCounts
      ['Venue', { ...venue, spec: { ...venue.spec, zones: [zone0, zone0] } }], // duplicate zoneId
      ['Venue', { ...venue, spec: { ...venue.spec, surprise: true } }], // pruned field
      ['Event', { ...event, spec: { ...event.spec, perUserLimit: 0 } }],
      ['Event', { ...event, spec: { ...event.spec, state: 'Open' } }],
      ['Event', { ...event, spec: { ...event.spec, salesWindow: { opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' } } }],
    ] as const;
    for (const [kind, doc] of bad) {
      expect(validators.get(`ticketing.dev/v1alpha1 ${kind}`)!(doc)).toBe(false);
    }
  });
});
