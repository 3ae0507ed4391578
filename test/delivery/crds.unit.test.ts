/**
 * @jest-environment ./test/controller/support/kube-environment.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { CHART, listFiles, mutate, parseYamlDocs, read, rel, ROOT, type Doc } from './support/files';
import { crdValidators, crossRefProblems, loadCrds, makeAjv, schemaAt, structuralProblems, validateCr } from './support/crd-validation';
import { validateK8sObject } from './support/k8s-validate';

/**
 * The CRDs (k8s/crds, generated from src/catalog/resources.ts) as Kubernetes objects and as
 * validators of Venue/Event resources: the contract's example passes, broken copies fail, the
 * seeds and any files in CHECK_CR_FILES (colon-separated) pass.
 */
const crds = loadCrds();

test('chart crds/ and dashboards/ are the same files as k8s/crds/ and dashboards/', () => {
  const p: string[] = [];
  for (const [src, dst, re] of [
    [rel('k8s', 'crds'), path.join(CHART, 'crds'), /\.ya?ml$/],
    [rel('dashboards'), path.join(CHART, 'dashboards'), /\.json$/],
  ] as const) {
    const a = listFiles(src, re);
    const b = listFiles(dst, re);
    if (!a.length) p.push(`${path.relative(ROOT, src)} is empty`);
    for (const f of a)
      if (!b.includes(f))
        p.push(
          `${path.relative(ROOT, dst)}/${f} missing (ln -s ${path.relative(dst, path.join(src, f))} ${path.relative(ROOT, dst)}/${f})`,
        );
    for (const f of b) if (!a.includes(f)) p.push(`${path.relative(ROOT, dst)}/${f} has no source in ${path.relative(ROOT, src)}`);
    for (const f of a.filter((x) => b.includes(x))) {
      if (!fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(dst, f))))
        p.push(`${path.relative(ROOT, dst)}/${f} differs from ${path.relative(ROOT, src)}/${f}`);
    }
  }
  expect(p).toEqual([]);
});

test('CRDs: k8s/crds validate as apiextensions.k8s.io/v1 CustomResourceDefinitions', () => {
  expect(crds.length).toBe(2);
  expect(crds.flatMap(({ file, doc }) => validateK8sObject(doc, `k8s/crds/${file}`))).toEqual([]);
});

test('CRDs: names, scope, versions, status subresource, printer columns and structural schemas (CEL rules type-check)', () => {
  const p: string[] = [];
  const want: Record<string, { plural: string; short: string; columns: string[] }> = {
    Venue: { plural: 'venues', short: 'vn', columns: ['.spec.venueId', '.metadata.creationTimestamp'] },
    Event: {
      plural: 'events',
      short: 'ev',
      columns: [
        '.spec.eventId',
        '.spec.venueRef.name',
        '.spec.state',
        '.status.seatsSold',
        '.status.seatsAvailable',
        '.metadata.creationTimestamp',
      ],
    },
  };
  const kinds: string[] = [];
  for (const { file, doc } of crds) {
    const kind = doc.spec?.names?.kind;
    const w = want[kind];
    if (!w) {
      p.push(`${file}: unexpected kind ${kind}`);
      continue;
    }
    kinds.push(kind);
    if (file !== `${doc.metadata.name}.yaml`) p.push(`${file}: file name should be ${doc.metadata.name}.yaml`);
    if (doc.spec.group !== 'ticketing.dev') p.push(`${file}: group ${doc.spec.group}`);
    if (doc.metadata.name !== `${w.plural}.ticketing.dev`) p.push(`${file}: name ${doc.metadata.name}`);
    if (doc.spec.scope !== 'Namespaced') p.push(`${file}: not Namespaced`);
    if (!(doc.spec.names.shortNames ?? []).includes(w.short)) p.push(`${file}: shortName ${w.short} missing`);
    const v = (doc.spec.versions ?? []).find((x: Doc) => x.name === 'v1alpha1');
    if (!v || !v.served || !v.storage) {
      p.push(`${file}: v1alpha1 must be served and stored`);
      continue;
    }
    if (!v.subresources || !('status' in v.subresources)) p.push(`${file}: no status subresource`);
    const schema = v.schema?.openAPIV3Schema;
    const cols = (v.additionalPrinterColumns ?? []).map((c: Doc) => c.jsonPath);
    for (const c of w.columns) if (!cols.includes(c)) p.push(`${file}: printer column ${c} missing`);
    for (const c of v.additionalPrinterColumns ?? [])
      if (c.jsonPath !== '.metadata.creationTimestamp' && !schemaAt(schema, c.jsonPath))
        p.push(`${file}: printer column ${c.jsonPath} not in the schema`);
    structuralProblems(schema, `${file}:openAPIV3Schema`, p, { root: true });
    const status = schema?.properties?.status?.properties ?? {};
    for (const f of ['conditions', 'seatsSold', 'seatsAvailable', 'observedGeneration'])
      if (!status[f]) p.push(`${file}: status.${f} missing`);
    const cond = status.conditions?.items?.properties ?? {};
    for (const f of ['type', 'status', 'reason', 'message', 'lastTransitionTime', 'observedGeneration'])
      if (!cond[f]) p.push(`${file}: status.conditions[].${f} missing`);
  }
  expect(kinds.sort()).toEqual(['Event', 'Venue']);
  expect(p).toEqual([]);
});

test('CRDs: openAPIV3Schema compiles with ajv (date-time from ajv-formats, CEL rules through the CEL library)', () => {
  expect(makeAjv().formatsFromLibrary).toBe(true);
  expect([...crdValidators(crds).keys()].sort()).toEqual(['ticketing.dev/v1alpha1/Event', 'ticketing.dev/v1alpha1/Venue']);
});

// Fixtures: the contract's own example must pass, each broken copy must fail.
const venueOk: Doc = {
  apiVersion: 'ticketing.dev/v1alpha1',
  kind: 'Venue',
  metadata: { name: 'venue1' },
  spec: {
    venueId: 'Venue1',
    name: 'Seed Arena',
    zones: [
      { zoneId: '1', name: 'Zone 1', rows: ['A', 'B', 'C'], seatsPerRow: 30, priceCents: 12000, category: 'standard' },
      { zoneId: 2, name: 'Zone 2', rows: ['A', 'B', 'C'], seatCounts: [10, 12, 14], priceCents: 0 },
    ],
  },
};
const eventOk: Doc = {
  apiVersion: 'ticketing.dev/v1alpha1',
  kind: 'Event',
  metadata: { name: 'event1' },
  spec: {
    eventId: 'Event1',
    venueRef: { name: 'venue1' },
    name: 'Seed Concert',
    startsAt: '2027-06-01T19:00:00Z',
    salesWindow: { opensAt: '2026-01-01T00:00:00Z', closesAt: '2027-06-01T19:00:00Z' },
    state: 'OnSale',
    perUserLimit: 10,
    currency: 'USD',
  },
  status: {
    seatsSold: 0,
    seatsAvailable: 126,
    observedGeneration: 1,
    conditions: [
      { type: 'Seeded', status: 'True', reason: 'Seeded', message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 },
    ],
  },
};
const zone0 = (o: Doc) => o.spec.zones[0];
const BAD: [string, Doc][] = [
  [
    'venueId with a space',
    mutate(venueOk, (o) => {
      o.spec.venueId = 'Venue 1';
    }),
  ],
  [
    'venueId longer than 64',
    mutate(venueOk, (o) => {
      o.spec.venueId = 'x'.repeat(65);
    }),
  ],
  [
    'venue without zones',
    mutate(venueOk, (o) => {
      o.spec.zones = [];
    }),
  ],
  [
    'zoneId with a dot',
    mutate(venueOk, (o) => {
      zone0(o).zoneId = 'a.b';
    }),
  ],
  [
    'zoneId repeated',
    mutate(venueOk, (o) => {
      o.spec.zones[1].zoneId = '1';
    }),
  ],
  [
    'both seatsPerRow and seatCounts',
    mutate(venueOk, (o) => {
      zone0(o).seatCounts = [1, 2, 3];
    }),
  ],
  [
    'neither seatsPerRow nor seatCounts',
    mutate(venueOk, (o) => {
      delete zone0(o).seatsPerRow;
    }),
  ],
  [
    'seatCounts size differs from rows',
    mutate(venueOk, (o) => {
      o.spec.zones[1].seatCounts = [10, 12];
    }),
  ],
  [
    'repeated row label',
    mutate(venueOk, (o) => {
      zone0(o).rows = ['A', 'A'];
    }),
  ],
  [
    'row label with a dash',
    mutate(venueOk, (o) => {
      zone0(o).rows = ['A-1'];
    }),
  ],
  [
    '1001 rows',
    mutate(venueOk, (o) => {
      zone0(o).rows = Array.from({ length: 1001 }, (_, i) => `R${i}`);
      zone0(o).seatsPerRow = 1;
    }),
  ],
  [
    'seatsPerRow 0',
    mutate(venueOk, (o) => {
      zone0(o).seatsPerRow = 0;
    }),
  ],
  [
    'seatsPerRow 65536',
    mutate(venueOk, (o) => {
      zone0(o).seatsPerRow = 65536;
      zone0(o).rows = ['A'];
    }),
  ],
  [
    '100,001 seats from seatsPerRow',
    mutate(venueOk, (o) => {
      zone0(o).rows = Array.from({ length: 2 }, (_, i) => `R${i}`);
      zone0(o).seatsPerRow = 50001;
    }),
  ],
  [
    '100,001 seats from seatCounts',
    mutate(venueOk, (o) => {
      o.spec.zones[1].seatCounts = [50000, 50000, 1];
    }),
  ],
  [
    'negative priceCents',
    mutate(venueOk, (o) => {
      zone0(o).priceCents = -1;
    }),
  ],
  [
    'fractional priceCents',
    mutate(venueOk, (o) => {
      zone0(o).priceCents = 1.5;
    }),
  ],
  [
    'unknown zone field',
    mutate(venueOk, (o) => {
      zone0(o).seatPerRow = 3;
    }),
  ],
  [
    'uppercase metadata.name',
    mutate(venueOk, (o) => {
      o.metadata.name = 'Venue1';
    }),
  ],
  [
    'event state Bogus',
    mutate(eventOk, (o) => {
      o.spec.state = 'Bogus';
    }),
  ],
  [
    'perUserLimit 0',
    mutate(eventOk, (o) => {
      o.spec.perUserLimit = 0;
    }),
  ],
  [
    'perUserLimit 101',
    mutate(eventOk, (o) => {
      o.spec.perUserLimit = 101;
    }),
  ],
  [
    'startsAt not a date-time',
    mutate(eventOk, (o) => {
      o.spec.startsAt = '2027-06-01 19:00';
    }),
  ],
  [
    'salesWindow closes before it opens',
    mutate(eventOk, (o) => {
      o.spec.salesWindow = { opensAt: '2027-01-02T00:00:00Z', closesAt: '2027-01-01T00:00:00Z' };
    }),
  ],
  [
    'salesWindow without opensAt',
    mutate(eventOk, (o) => {
      delete o.spec.salesWindow.opensAt;
    }),
  ],
  [
    'event without venueRef',
    mutate(eventOk, (o) => {
      delete o.spec.venueRef;
    }),
  ],
  [
    'eventId missing',
    mutate(eventOk, (o) => {
      delete o.spec.eventId;
    }),
  ],
  [
    'condition status Maybe',
    mutate(eventOk, (o) => {
      o.status.conditions[0].status = 'Maybe';
    }),
  ],
  [
    'negative seatsSold',
    mutate(eventOk, (o) => {
      o.status.seatsSold = -1;
    }),
  ],
];

describe('CR validation against the CRDs', () => {
  const validators = crdValidators(crds);

  test('the contract example Venue and Event pass, and so does an open-ended sales window', () => {
    const openEnded = mutate(eventOk, (o) => {
      delete o.spec.salesWindow.closesAt;
    });
    expect([
      ...validateCr(validators, venueOk).map((x) => `Venue: ${x}`),
      ...validateCr(validators, eventOk).map((x) => `Event: ${x}`),
      ...validateCr(validators, openEnded),
      ...crossRefProblems([venueOk, eventOk]),
    ]).toEqual([]);
  });

  test(`${BAD.length} broken resources are all refused`, () => {
    expect(BAD.filter(([, o]) => validateCr(validators, o).length === 0).map(([n]) => `accepted: ${n}`)).toEqual([]);
  });

  const crFiles = [
    ...listFiles(rel('seeds'), /\.ya?ml$/).map((f) => rel('seeds', f)),
    ...(process.env.CHECK_CR_FILES ?? '').split(':').filter(Boolean),
  ];
  test(`${crFiles.length} file(s) (seeds/*.yaml and CHECK_CR_FILES) validate; Events reference a Venue in them, ids are unique`, () => {
    const p: string[] = [];
    const objs: Doc[] = [];
    for (const f of crFiles) {
      let docs: Doc[];
      try {
        docs = parseYamlDocs(read(path.resolve(ROOT, f)), f);
      } catch (e) {
        p.push((e as Error).message);
        continue;
      }
      if (!docs.length) p.push(`${f}: no documents`);
      for (const d of docs) {
        if (d?.apiVersion?.startsWith('ticketing.dev/')) {
          p.push(...validateCr(validators, d).map((x) => `${path.basename(f)} ${d.kind}/${d.metadata?.name}: ${x}`));
          objs.push(d);
        } else p.push(`${path.basename(f)}: ${d?.kind ?? '?'} is not a ticketing.dev resource`);
      }
    }
    p.push(...crossRefProblems(objs));
    expect(p).toEqual([]);
  });
});
