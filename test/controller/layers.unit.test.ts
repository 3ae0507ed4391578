import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');

/**
 * The layers of src/, lowest first. A module may import from its own layer or a lower one,
 * never from a higher one: the catalog knows nothing of the inventory, the controller nothing
 * of the roles, the roles nothing of the runtime that wires them (src/runtime/platform.ts).
 */
const LAYERS: string[][] = [
  ['shared', 'config', 'observability', 'commands'],
  ['catalog'],
  ['inventory'],
  ['infra'],
  ['controller'],
  ['admin'],
  ['roles'],
  ['runtime'],
];
/** Entry points sit above everything. */
const ENTRY_POINTS = new Set(['main.ts', 'admin/cli.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const layerOf = (dir: string) => LAYERS.findIndex((l) => l.includes(dir));

test('no import runs from a lower layer of src/ to a higher one', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const rel = path.relative(SRC, file);
    if (ENTRY_POINTS.has(rel) || rel.startsWith('web/')) continue;
    const from = layerOf(rel.split(path.sep)[0]!);
    if (from < 0) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
      const to = layerOf(target);
      if (to > from) violations.push(`${rel} imports ${m[1]} (${target} is above ${rel.split(path.sep)[0]})`);
    }
  }
  expect(violations).toEqual([]);
});
