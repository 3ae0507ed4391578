// Builds the k6 scripts into ONE flat folder, load/k6/dist/, because the Job ships them as a
// ConfigMap (which holds no sub-folders): the entry points (seed-replay.js, hot-seat.js, …),
// common.js, and the plans shared with the Node driver as scenarios.<module>.js. k6 needs
// explicit file extensions, so every relative import is rewritten to its flat file name.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
const staging = path.join(out, '.tsc');
const tsc = path.join(here, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.json'), '--outDir', staging], { stdio: 'inherit' });

// dir of the source file → how its relative imports map onto flat names
const flatName = (fromDir, spec) => {
  const target = path.posix.normalize(path.posix.join(fromDir, spec)); // e.g. "scenarios/plan" or "k6/common"
  const [dir, ...rest] = target.split('/');
  const base = rest.join('/') || 'index';
  return dir === 'scenarios' ? `./scenarios.${base}.js` : `./${base}.js`;
};
const built = [];
for (const dir of ['k6', 'scenarios']) {
  for (const file of readdirSync(path.join(staging, dir)).filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(path.join(staging, dir, file), 'utf8').replace(/(from\s+['"])(\.{1,2}\/[^'"]+?)(['"])/g, (_m, a, spec, b) => {
      const bare = spec.replace(/\.js$/, '');
      return `${a}${flatName(dir, bare === '../scenarios' ? '../scenarios/index' : bare)}${b}`;
    });
    const name = dir === 'scenarios' ? `scenarios.${file}` : file;
    writeFileSync(path.join(out, name), src);
    built.push(name);
  }
}
rmSync(staging, { recursive: true, force: true });
console.log(`k6 scripts built in ${path.relative(process.cwd(), out)}/: ${built.join(', ')}`);
