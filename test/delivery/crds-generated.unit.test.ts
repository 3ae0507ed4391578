import { readdirSync, readFileSync } from 'node:fs';
import { generatedCrds } from '../../src/catalog/crds';
import { rel } from './support/files';

/** The committed CRDs are exactly what `npm run gen` writes from the zod schemas in src/catalog/resources.ts. */
test('k8s/crds/*.yaml equal a fresh generation from src/catalog/resources.ts (else run `npm run gen`)', () => {
  const fresh = generatedCrds();
  const committed = readdirSync(rel('k8s', 'crds'))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  expect(committed).toEqual(fresh.map((c) => c.file).sort());
  for (const { file, text } of fresh) {
    const onDisk = readFileSync(rel('k8s', 'crds', file), 'utf8');
    if (onDisk !== text) throw new Error(`k8s/crds/${file} differs from a fresh generation: run \`npm run gen\` and commit k8s/crds/`);
  }
});
