import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** Reading the repository's delivery files (charts, CRDs, dashboards, docs) for the delivery tests. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const rel = (...p: string[]) => path.join(ROOT, ...p);
export const CHART = rel('charts', 'ticketing');
export const read = (p: string) => fs.readFileSync(p, 'utf8');
export const exists = (p: string) => fs.existsSync(p);
export const listFiles = (dir: string, re: RegExp) =>
  exists(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => re.test(f))
        .sort()
    : [];

// Parsed YAML and rendered manifests are untyped by nature; the checks probe them field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary manifests, probed field by field in ~260 places
export type Doc = any;

export function parseYamlDocs(text: string, where: string): Doc[] {
  const out: Doc[] = [];
  for (const d of YAML.parseAllDocuments(text, { prettyErrors: false })) {
    if (d.errors.length) throw new Error(`${where}: YAML error: ${d.errors[0]!.message}`);
    const js = d.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

/** Names and the second column from a markdown table in a section of docs/contracts.md. */
export function contractTable(heading: string): { name: string; col2: string }[] {
  const md = read(rel('docs', 'contracts.md'));
  const start = md.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`docs/contracts.md has no "## ${heading}" section`);
  const section = md.slice(start).split(/\n## /)[0]!;
  const rows: { name: string; col2: string }[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*([^|]*)\|/.exec(line);
    if (m) rows.push({ name: m[1]!.trim(), col2: m[2]!.trim() });
  }
  return rows;
}

export const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
export const mutate = <T>(base: T, fn: (copy: Doc) => void): T => {
  const c = clone(base);
  fn(c);
  return c;
};
